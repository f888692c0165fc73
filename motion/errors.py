"""Errors raised by the domain. One root so callers can catch them all."""


class MotionError(Exception):
    """Root of every error the domain raises on purpose.

    The message is written for a person: it says what was wrong and, where it
    can, what to do about it. Callers may show it to users as is.
    """


class InvalidInput(MotionError):
    """The data handed in (a file, a config, a message) cannot be used."""
