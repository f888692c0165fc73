"""Request bodies: JSON objects or a clear 400."""
from __future__ import annotations

from flask import request

from app.errors import ApiError


def json_body() -> dict:
    """The request's JSON object; an empty body is ``{}``, anything else not an object is a 400."""
    if not request.get_data(cache=True):
        return {}
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "bad_json", "The request body is not valid JSON; send a JSON object "
                                        "with Content-Type: application/json.")
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", f"The request body must be a JSON object, not {type(data).__name__}.")
    return data
