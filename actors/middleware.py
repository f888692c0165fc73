"""Task lifecycle middleware: the one place where job states change.

PENDING is written by :func:`actors.submit.submit`; this middleware moves the
task to STARTED when a worker takes it, to SUCCESS / FAILURE / CANCELLED when it
ends, and to RETRY when Dramatiq's Retries middleware schedules another go. It
must come just before Retries in the middleware list: after_* hooks run in
reverse order, so Retries decides first and this middleware sees the decision.
"""
from __future__ import annotations

import logging
import time

from dramatiq.middleware import Middleware, SkipMessage, TimeLimitExceeded

from actors import context
from actors.errors import TaskCancelled, TransientError
from logsetup import log_context
from models.db import db
from models.redis_client import REDIS_ERRORS
from models.tasks import CANCELLED, FAILURE, PROGRESS, RETRY, STARTED, SUCCESS, isoformat, utcnow

log = logging.getLogger(__name__)

#: Exceptions about the network or a service: worth another try.
TRANSIENT = (TransientError, ConnectionError, TimeoutError) + REDIS_ERRORS


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is about the network or a service rather than the job."""
    if isinstance(exc, (TaskCancelled, TimeLimitExceeded)):
        return False
    if isinstance(exc, TRANSIENT):
        return True
    try:
        import peewee

        return isinstance(exc, (peewee.OperationalError, peewee.InterfaceError))
    except ImportError:  # pragma: no cover
        return False


def make_retry_when(max_retries: int):
    """A Retries predicate: transient errors only, at most ``max_retries`` times."""

    def retry_when(retries: int, exc: BaseException) -> bool:
        return retries < max_retries and is_transient(exc)

    return retry_when


def error_message(exc: BaseException, time_limit_ms: int | None = None) -> str:
    """The message a person sees for a failed job: never a traceback."""
    if isinstance(exc, TimeLimitExceeded):
        limit = f" of {time_limit_ms / 1000:g} s" if time_limit_ms else ""
        return f"The job ran longer than its time limit{limit} and was stopped."
    from motion.errors import MotionError

    if isinstance(exc, MotionError) or isinstance(exc, TransientError):
        return str(exc)
    if is_transient(exc):
        return f"A service the job needs was unavailable ({type(exc).__name__})."
    return f"The job failed with an internal error ({type(exc).__name__}); see the worker log."


class TaskLifecycle(Middleware):
    """Records STARTED, RETRY and final states for every message of a tracked actor.

    Actors declared with ``tracked=False`` (live per-frame work such as the
    workout analyser, whose results go straight to a socket) keep no task record.
    """

    actor_options = {"tracked"}

    @staticmethod
    def _tracked(broker, message) -> bool:
        try:
            return broker.get_actor(message.actor_name).options.get("tracked", True)
        except Exception:  # an actor this worker does not know: record it as before
            return True

    def __init__(self, ledger, *, db_interval: float = 5.0, default_time_limit_ms: int = 3_600_000) -> None:
        self._durations = None
        self.ledger = ledger
        self.db_interval = db_interval
        self.default_time_limit_ms = default_time_limit_ms

    def before_process_message(self, broker, message) -> None:
        if not self._tracked(broker, message):
            return
        task_id = message.message_id
        # Worker threads keep one connection for their whole life.
        db.connect(reuse_if_open=True)
        attempts = message.options.get("retries", 0) + 1
        try:
            applied, cancel, _ = self.ledger.update(task_id, {
                "state": STARTED, "status": "Started" if attempts == 1 else f"Started (attempt {attempts})",
                "started_at": isoformat(utcnow()), "attempts": attempts, "progress": 0.0,
                "eta_seconds": None, "error": None,
            }, persist=True)
        except REDIS_ERRORS:
            # Run anyway: the job matters more than its live progress, and
            # the end of it still reaches the database.
            log.warning("starting %s without live state: Redis unavailable", task_id)
            applied, cancel = True, False
        if cancel or not applied:
            # Cancelled while queued (the cancel call already wrote CANCELLED).
            raise SkipMessage(f"task {task_id} was cancelled before it started")
        part_of = None
        if message.options.get("pq_parent"):
            opts = message.options
            part_of = context.PartOf(self.ledger, opts["pq_parent"], opts["pq_part"], opts["pq_share"],
                                     opts["pq_status"], db_interval=self.db_interval)
        context.set_current(context.TaskContext(self.ledger, task_id, db_interval=self.db_interval,
                                                part_of=part_of))
        log_context.set({"task_id": task_id, "actor": message.actor_name})
        message.options["_pq_started"] = time.monotonic()

    def after_skip_message(self, broker, message) -> None:
        # Cancelled while queued: the cancel call already wrote CANCELLED.
        context.set_current(None)

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        if not self._tracked(broker, message):
            return
        task_id = message.message_id
        ctx = context.current()
        # The database may hold older progress (it is written every few seconds).
        reached = round(100.0 * getattr(ctx, "last_progress", 0.0), 2)
        try:
            self._observe_duration(message, "SUCCESS" if exception is None else type(exception).__name__)
            if exception is None and isinstance(result, context.Deferred):
                # The work continues in child tasks; they finish this task.
                self.ledger.update(task_id, {"state": PROGRESS, "status": result.status}, persist=True)
            elif exception is None:
                self._finish(task_id, SUCCESS, "Complete", result=_jsonable(result), progress=100.0)
            elif isinstance(exception, TaskCancelled):
                self._cleanup(ctx)
                self._finish(task_id, CANCELLED, "Cancelled", error="The task was cancelled.", progress=reached)
            elif not message.failed:
                # Retries re-enqueued it; the attempt counter says which try is next.
                attempts = message.options.get("retries", 0)
                self._cleanup(ctx)
                self.ledger.update(task_id, {
                    "state": RETRY, "eta_seconds": None,
                    "status": f"Retrying after attempt {attempts}: {error_message(exception)}", "progress": reached,
                }, persist=True)
            else:
                self._cleanup(ctx)
                limit = (message.options.get("time_limit")
                         or broker.get_actor(message.actor_name).options.get("time_limit")
                         or self.default_time_limit_ms)
                self._finish(task_id, FAILURE, "Failed", error=error_message(exception, limit), progress=reached)
        except REDIS_ERRORS as exc:
            # Redis went away: the database must still learn how the job ended.
            log.error("recording the end of %s in the database only: %s", task_id, exc)
            self._persist_only(task_id, exception, result)
        finally:
            context.set_current(None)
            log_context.set({})

    def _observe_duration(self, message, state: str) -> None:
        started = message.options.get("_pq_started")
        if started is None or self._durations is False:
            return
        if self._durations is None:
            try:
                # Created after process boot, when Dramatiq's Prometheus middleware
                # has switched prometheus_client to multiprocess mode.
                from prometheus_client import Histogram

                self._durations = Histogram(
                    "posequeue_job_duration_seconds", "Job run time by actor and final state.",
                    ["actor", "state"], buckets=(0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400))
            except Exception:  # metrics must never break a job
                self._durations = False
                return
        self._durations.labels(message.actor_name, state).observe(time.monotonic() - started)

    def _finish(self, task_id: str, state: str, status: str, **fields) -> None:
        self.ledger.update(task_id, {
            "state": state, "status": status, "eta_seconds": None,
            "finished_at": isoformat(utcnow()), **fields,
        }, persist=True, force=(state == CANCELLED))

    def _persist_only(self, task_id: str, exception, result) -> None:
        state = {
            "task_id": task_id, "finished_at": isoformat(utcnow()), "eta_seconds": None,
            "state": SUCCESS if exception is None else FAILURE,
            "status": "Complete" if exception is None else "Failed",
        }
        if exception is None:
            state.update(result=_jsonable(result), progress=100.0)
        else:
            state["error"] = error_message(exception)
        self.ledger.persist(state)

    @staticmethod
    def _cleanup(ctx) -> None:
        if isinstance(ctx, context.TaskContext):
            ctx.cleanup()


def _jsonable(value):
    """Results must be JSON; anything else is stored as its repr rather than lost."""
    import json

    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return {"repr": repr(value)}

