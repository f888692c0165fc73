"""Actors for the task-layer benchmarks (loaded beside ``actors`` by the bench worker)."""
import time

from actors.context import progress
from actors.registry import task_actor


@task_actor
def bench_noop() -> None:
    """Nothing: measures the lifecycle layer's own cost."""


@task_actor
def bench_progress(count: int, interval: float, start_delay: float = 0.0) -> None:
    """Report progress ``count`` times, the wall-clock time in each status text."""
    time.sleep(start_delay)
    for i in range(1, count + 1):
        time.sleep(interval)
        progress(i, count, repr(time.time()))


@task_actor
def bench_sleep(ms: float) -> None:
    """A job of ``ms`` milliseconds of waiting (the lifecycle's share of a short real job)."""
    time.sleep(ms / 1000)
