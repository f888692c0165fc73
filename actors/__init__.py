"""Dramatiq actors. Importing this package sets the broker first, then loads the actors.

The Procfile's worker names only this package: ``dramatiq actors``.
"""
from actors.broker import setup

broker, ledger = setup()

from actors.registry import task_actor  # noqa: E402  (the broker must exist first)
from actors import maintenance, tracker, video, video_parallel, workout  # noqa: E402,F401

__all__ = ["broker", "ledger", "task_actor"]
