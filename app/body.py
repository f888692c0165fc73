"""Request bodies: JSON objects or a clear 400."""
from __future__ import annotations

from flask import current_app, request

from app.errors import ApiError


def json_body() -> dict:
    """The request's JSON object; an empty body is ``{}``, anything else not an object is a 400; too big a 413."""
    limit = current_app.config["POSEQUEUE"].max_json_bytes
    if (request.content_length or 0) > limit:
        raise ApiError(413, "too_large", f"The JSON body is over the limit of {limit} bytes (MAX_JSON_BYTES).")
    raw = request.get_data(cache=True)
    if len(raw) > limit:  # a chunked body has no Content-Length to refuse it by
        raise ApiError(413, "too_large", f"The JSON body is over the limit of {limit} bytes (MAX_JSON_BYTES).")
    if not raw:
        return {}
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "bad_json", "The request body is not valid JSON; send a JSON object "
                                        "with Content-Type: application/json.")
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", f"The request body must be a JSON object, not {type(data).__name__}.")
    return data
