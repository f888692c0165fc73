"""Reading JSON text from clients: every failure is a ValueError.

:func:`json.loads` has failure modes beyond malformed text that callers do
not expect: nesting a few thousand levels deep raises ``RecursionError``, and
the tokens ``NaN`` / ``Infinity`` (not JSON, but Python reads them) become
floats no strict JSON encoder or browser accepts back. :func:`loads` turns all
of them into ``ValueError`` and caps the nesting depth.
"""
from __future__ import annotations

import json
from typing import Any, Union

#: Deepest nesting of arrays and objects accepted; no message of ours needs more than ~6.
MAX_DEPTH = 64


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def loads(text: Union[str, bytes, bytearray], *, allow_nan: bool = False, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON text; ValueError for bad text, ``NaN``/``Infinity`` (unless ``allow_nan``), deep nesting,
    or a NUL character in any string (PostgreSQL text cannot hold one; no message of ours needs one).

    Integers of more than 4,300 digits are a ValueError too (Python's own limit).
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode(json.detect_encoding(text))  # UnicodeDecodeError is a ValueError
    if not isinstance(text, str):
        raise ValueError(f"expected JSON text, not {type(text).__name__}")
    try:
        value = json.loads(text) if allow_nan else json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        raise ValueError(f"nested more than {max_depth} levels deep") from None
    # Fewer brackets than the limit cannot nest deeper than it: skip the walk for ordinary messages.
    if text.count("[") + text.count("{") > max_depth and depth(value, max_depth) > max_depth:
        raise ValueError(f"nested more than {max_depth} levels deep")
    # Raw control characters are not JSON, so a NUL can only come from the escape \u0000.
    if "\\u0000" in text and has_nul(value):
        raise ValueError("a string contains a NUL character (\\u0000)")
    return value


def has_nul(value: Any) -> bool:
    """True when a string anywhere in ``value`` (keys included) holds a NUL character."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deep lists and dicts nest in ``value`` (a scalar is 0); stops counting past ``limit``."""
    deepest = 0
    stack = [(value, 1)] if isinstance(value, (list, dict)) else []
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            break
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, level + 1) for c in children if isinstance(c, (list, dict)))
    return deepest
