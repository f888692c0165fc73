"""Errors of the task layer."""


class TaskCancelled(Exception):
    """Raised from a progress report when someone cancelled the running task."""


class QueueUnavailable(Exception):
    """The broker or the live store cannot be reached; the job was not enqueued."""


class TransientError(Exception):
    """A job's own way to say "a service I need is down, try again later"."""
