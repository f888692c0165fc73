"""Redis connections with timeouts, so an outage is an error, never a hang."""
from __future__ import annotations

import redis


def make_redis(url: str, *, timeout: float = 1.0, blocking: bool = False) -> redis.Redis:
    """A client for ``url``; ``blocking`` clients (pub/sub listeners) read without a timeout."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=None if blocking else max(timeout, 5.0),
        health_check_interval=30 if blocking else 0,
        decode_responses=True,
    )


#: What an unreachable or failing Redis raises; callers catch this tuple.
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
