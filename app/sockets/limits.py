"""Per-socket message rate limit (WS_MAX_FPS): a token bucket, and one error a second at most."""
from __future__ import annotations

import time
from typing import Callable, Optional

from app.errors import socket_error


class RateLimit:
    """Allows ``rate`` messages per second on average, in bursts of up to one second's worth."""

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.clock = clock
        self.last = clock()
        self.dropped = 0
        self._last_warned: Optional[float] = None

    def allow(self) -> bool:
        """Whether one more message may pass now; counts the ones that may not."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        self.dropped += 1
        return False

    def refusal(self, what: str = "messages", **details) -> Optional[dict]:
        """The ``error`` message for a dropped message, or None if one was sent less than a second ago."""
        now = self.clock()
        if self._last_warned is not None and now - self._last_warned < 1.0:
            return None
        self._last_warned = now
        return socket_error("rate_limited", f"Over the limit of {self.rate:g} {what} per second on this socket "
                                            f"(WS_MAX_FPS): {self.dropped} dropped so far. Send fewer.",
                            dropped=self.dropped, **details)
