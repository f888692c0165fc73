"""The running task, and the one small API actors use to report progress.

``progress(done, total, message)`` is the only call an actor needs: it writes
the live state (every call), the database (at most every few seconds), works
out the ETA from the observed rate, and is where cancellation is noticed: it
raises :class:`TaskCancelled` when someone asked the task to stop. Pass it to
``motion`` functions as their progress callback.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Optional

from actors.errors import TaskCancelled
from models.redis_client import REDIS_ERRORS
from models.tasks import PROGRESS

_local = threading.local()


class RateEstimator:
    """Remaining time from an exponentially weighted rate of progress.

    The rate is smoothed over roughly ``window`` seconds so the ETA follows a
    job whose speed changes (a video that gets busier) without jumping on
    every report.
    """

    def __init__(self, window: float = 5.0) -> None:
        self.window = window
        self.rate: Optional[float] = None
        self._last: Optional[tuple[float, float]] = None

    def update(self, fraction: float, now: float) -> Optional[float]:
        """Record progress ``fraction`` (0..1) at ``now``; return the ETA in seconds."""
        if self._last is None:
            self._last = (fraction, now)
            return None
        f0, t0 = self._last
        dt = now - t0
        if dt <= 0 or fraction < f0:
            return self.eta(fraction)
        rate = (fraction - f0) / dt
        weight = min(1.0, dt / self.window)
        self.rate = rate if self.rate is None else self.rate + weight * (rate - self.rate)
        self._last = (fraction, now)
        return self.eta(fraction)

    def eta(self, fraction: float) -> Optional[float]:
        """Seconds left at the current rate (None before the rate is known)."""
        if not self.rate or self.rate <= 0:
            return None
        return max(0.0, (1.0 - fraction) / self.rate)


class Deferred:
    """Returned by an actor whose task goes on in child tasks (see :mod:`actors.fanout`).

    The task stays in PROGRESS with ``status``; a child's middleware hook ends it.
    """

    def __init__(self, status: str) -> None:
        self.status = status


class PartOf:
    """The share of a parent task's work that a child task does (a video segment).

    Each progress report of the child also records ``fraction * share``
    under ``part`` for the parent and moves the parent's progress to the sum
    of its parts (never backwards, whichever child reports last), with an ETA
    from the time since the first part reported. A cancelled parent stops
    the child at its next report.
    """

    def __init__(self, ledger, parent_id: str, part: str, share: float, status: str,
                 *, db_interval: float = 5.0) -> None:
        self.ledger, self.parent_id, self.part, self.share, self.status = ledger, parent_id, part, share, status
        self.db_interval = db_interval
        self._last_db = float("-inf")

    def report(self, fraction: float) -> bool:
        """Record the child's ``fraction`` done; return whether the parent was cancelled."""
        total, since = self.ledger.store.report_part(self.parent_id, self.part, fraction * self.share)
        total = min(1.0, total)
        elapsed = max(0.0, time.time() - since)
        eta = elapsed * (1.0 - total) / total if total > 0.01 else None
        now = time.monotonic()
        persist = now - self._last_db >= self.db_interval
        applied, cancel, _ = self.ledger.update(self.parent_id, {
            "state": PROGRESS, "progress": round(100.0 * total, 2),
            "status": f"{self.status} ({100.0 * total:.0f} %)",
            "eta_seconds": None if eta is None else round(eta, 1),
        }, persist=persist, rising="progress")
        if persist and applied:
            self._last_db = now
        return cancel


class TaskContext:
    """What the middleware knows about the message a worker thread is running."""

    def __init__(self, ledger, task_id: str, *, db_interval: float = 5.0, part_of: Optional[PartOf] = None) -> None:
        self.ledger = ledger
        self.task_id = task_id
        self.db_interval = db_interval
        self.part_of = part_of
        self.rate = RateEstimator()
        self.cleanup_paths: list[Path] = []
        self._last_db = float("-inf")  # the first report reaches the database
        self.last_progress = 0.0

    def progress(self, done: float, total: float, message: str = "") -> None:
        """Report ``done`` of ``total`` units; raises TaskCancelled if cancelled.

        While Redis is unreachable the job carries on: progress goes to the
        database at the usual interval and cancellation is checked again once
        Redis answers.
        """
        fraction = min(1.0, max(0.0, done / total)) if total else 0.0
        now = time.monotonic()
        eta = self.rate.update(fraction, now)
        persist = now - self._last_db >= self.db_interval
        patch = {
            "state": PROGRESS,
            "progress": round(100.0 * fraction, 2),
            "status": message or f"{done:g}/{total:g}",
            "eta_seconds": None if eta is None else round(eta, 1),
        }
        self.last_progress = fraction
        try:
            applied, cancel, _ = self.ledger.update(self.task_id, patch, persist=persist)
        except REDIS_ERRORS:
            if persist:
                self.ledger.persist({**patch, "task_id": self.task_id})
                self._last_db = now
            return
        if persist and applied:
            self._last_db = now
        if cancel or not applied:
            raise TaskCancelled(f"task {self.task_id} was cancelled")
        if self.part_of is not None and self.part_of.report(fraction):
            raise TaskCancelled(f"task {self.task_id} stopped: its parent {self.part_of.parent_id} was cancelled")

    def remove_on_failure(self, path: os.PathLike) -> None:
        """Delete ``path`` if the task ends cancelled or failed (partial outputs)."""
        self.cleanup_paths.append(Path(path))

    def cleanup(self) -> None:
        """Remove the partial outputs registered with :meth:`remove_on_failure`."""
        for path in self.cleanup_paths:
            path.unlink(missing_ok=True)


class _Detached:
    """Progress sink for code run outside a worker (sync fallback, CLI)."""

    task_id = None

    def progress(self, done: float, total: float, message: str = "") -> None:
        pass

    def remove_on_failure(self, path: os.PathLike) -> None:
        pass


def current() -> TaskContext | _Detached:
    """The running task's context, or a no-op one outside a worker."""
    return getattr(_local, "context", None) or _Detached()


def set_current(context: Optional[TaskContext]) -> None:
    """Bind (or clear) the context of the calling worker thread."""
    _local.context = context


def progress(done: float, total: float, message: str = "") -> None:
    """Report progress of the running task (see the module docstring)."""
    current().progress(done, total, message)
