"""Throttle per-frame progress into the reports the task layer wants."""
from __future__ import annotations

import time

from motion.progress import Progress


class Ticker:
    """Report ``progress(done, total, "<verb> frame done/total")`` now and then.

    A report is made when at least ``every`` frames or ``interval`` seconds
    have passed since the last one, and for the last frame. ``done`` never goes
    backwards and never exceeds ``total`` (``total`` grows if the video turns
    out longer than its metadata said).
    """

    def __init__(self, progress: Progress, total: int, verb: str = "Processing",
                 every: int = 50, interval: float = 0.5) -> None:
        self.progress, self.total, self.verb = progress, max(int(total), 0), verb
        self.every, self.interval = every, interval
        self._last_done = 0
        self._last_time = time.monotonic()

    def start(self) -> None:
        """Report 0 of total."""
        self.progress(0, self.total, f"{self.verb} frame 0/{self.total}")

    def tick(self, done: int) -> None:
        """Note that ``done`` frames are finished; report if it is time to."""
        self.total = max(self.total, done)
        now = time.monotonic()
        if (done - self._last_done >= self.every or now - self._last_time >= self.interval
                or done == self.total):
            self.report(done, f"{self.verb} frame {done}/{self.total}")

    def report(self, done: int, message: str) -> None:
        """Report ``done`` with a custom message (still monotonic)."""
        done = max(self._last_done, min(done, self.total))
        self._last_done, self._last_time = done, time.monotonic()
        self.progress(done, self.total, message)
