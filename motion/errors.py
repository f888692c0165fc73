"""Errors raised by the domain. One root so callers can catch them all."""


class MotionError(Exception):
    """Root of every error the domain raises on purpose.

    The message is written for a person: it says what was wrong and, where it
    can, what to do about it. Callers may show it to users as is.
    """


class InvalidInput(MotionError):
    """The data handed in (a file, a config, a message) cannot be used."""


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` for an error message: at most ``limit`` characters, never raising.

    Hostile input reaches error messages: a 5,000-digit integer cannot even be
    turned into text (Python refuses past 4,300 digits), and a megabyte string
    does not belong in a message.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"<an integer of about {int(value.bit_length() * 0.30103)} digits>"
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a repr that fails must not hide the real error
        return f"<a {type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def as_float(value: object) -> "float | None":
    """A real number as a float (inf when too large for one); None for anything else (bools included)."""
    import math
    from numbers import Real

    if isinstance(value, bool) or not isinstance(value, Real):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf
