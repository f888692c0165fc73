"""The progress callback every long domain function accepts.

``progress(done, total, message)`` is called as work advances. The caller
decides what it means: the task layer stores it and uses the call as the point
where cancellation is noticed (the callback raises to stop the work), a CLI
draws a bar. Domain code must therefore expect the callback to raise and keep
its cleanup in ``finally`` blocks.
"""
from typing import Callable

Progress = Callable[[int, int, str], None]


def no_progress(done: int, total: int, message: str = "") -> None:
    """A progress callback that ignores every report."""
