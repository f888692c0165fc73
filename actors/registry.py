"""The decorator for posequeue actors: Dramatiq's, with our defaults."""
from __future__ import annotations

from typing import Callable, Optional

import dramatiq

from actors.errors import TaskCancelled
from motion.errors import MotionError


def task_actor(fn: Optional[Callable] = None, *, time_limit_s: Optional[float] = None, queue_name: str = "default", **options):
    """Declare an actor whose states, progress and retries the lifecycle layer handles.

    ``time_limit_s`` overrides TASK_TIME_LIMIT for this actor. Errors of the
    job itself (domain errors, cancellation) are "thrown": logged without a
    traceback and never retried.
    """

    def wrap(func: Callable):
        if time_limit_s is not None:
            options["time_limit"] = int(time_limit_s * 1000)
        options.setdefault("throws", (MotionError, TaskCancelled))
        return dramatiq.actor(func, queue_name=queue_name, **options)

    return wrap(fn) if fn is not None else wrap
