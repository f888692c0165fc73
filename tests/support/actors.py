"""Actors used only by the tests; the test worker loads them beside ``actors``."""
from __future__ import annotations

import time

from actors import ledger
from actors.context import current, progress
from actors.registry import task_actor
from motion.errors import InvalidInput


@task_actor
def count_to(n: int, delay: float = 0.0) -> dict:
    """Report progress n times, sleeping ``delay`` between reports."""
    for i in range(1, n + 1):
        if delay:
            time.sleep(delay)
        progress(i, n, f"Counted {i}/{n}")
    return {"counted": n, "items": []}


@task_actor
def reject_input(message: str) -> None:
    """Fail the way a job with bad input fails: a domain error."""
    progress(1, 10, "Checking input")
    raise InvalidInput(message)


@task_actor
def crash() -> None:
    """Fail with an unexpected error (a bug), whose details must stay in the log."""
    secret = {"path": "/srv/secret/file"}
    return secret["missing key"]


@task_actor
def flaky(key: str, failures: int) -> dict:
    """Raise a connection error the first ``failures`` times, then succeed."""
    attempt = ledger.store.client.incr("test:flaky:" + key)
    if attempt <= failures:
        raise ConnectionError(f"service down (attempt {attempt})")
    return {"attempt": attempt}


@task_actor(time_limit_s=1)
def overrun(seconds: float) -> None:
    """Sleep past this actor's 1-second time limit."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.05)


@task_actor
def write_partial(path: str, steps: int, delay: float) -> dict:
    """Write a partial output, then report progress slowly (for cancellation)."""
    current().remove_on_failure(path)
    with open(path, "w") as f:
        f.write("partial")
    for i in range(steps):
        time.sleep(delay)
        progress(i + 1, steps, f"Step {i + 1}/{steps}")
    return {"path": path}


@task_actor
def noop() -> None:
    """Do nothing (latency and throughput benchmarks)."""


@task_actor(queue_name="crash-test")
def slow_count(n: int, delay: float) -> dict:
    """Count slowly on its own queue, so a test can kill the worker running it."""
    for i in range(1, n + 1):
        time.sleep(delay)
        progress(i, n, f"Counted {i}/{n}")
    return {"counted": n}
