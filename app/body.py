"""Request bodies: JSON objects or a clear 400."""
from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider

from app.errors import ApiError
from motion import jsontext


class StrictJSONProvider(DefaultJSONProvider):
    """Reads request JSON with :func:`motion.jsontext.loads`: deep nesting, ``NaN`` and ``Infinity``
    are bad JSON (400), not a RecursionError (500) or floats that no JSON encoder writes back."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return jsontext.loads(s)


def init_app(app: Flask) -> None:
    """Parse request bodies strictly."""
    app.json = StrictJSONProvider(app)


def json_body() -> dict:
    """The request's JSON object; an empty body is ``{}``, anything else not an object is a 400."""
    if not request.get_data(cache=True):
        return {}
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "bad_json", "The request body is not valid JSON (NaN and Infinity are not JSON; "
                                        f"at most {jsontext.MAX_DEPTH} levels of nesting); send a JSON object "
                                        "with Content-Type: application/json.")
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", f"The request body must be a JSON object, not {type(data).__name__}.")
    return data
