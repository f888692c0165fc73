"""Request bodies: JSON objects or a clear 400."""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider

from app.errors import ApiError
from motion import jsontext


class StrictJSONProvider(DefaultJSONProvider):
    """Reads request JSON with :func:`motion.jsontext.loads`: deep nesting, ``NaN`` and ``Infinity``
    are bad JSON (400), not a RecursionError (500) or floats that no JSON encoder writes back."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return jsontext.loads(s)


def init_app(app: Flask) -> None:
    """Parse request bodies strictly; refuse NUL characters in URLs and forms."""
    app.json = StrictJSONProvider(app)

    @app.before_request
    def _refuse_nul():
        # PostgreSQL text cannot hold NUL (SQLite can): refused here, not as a database error (500).
        values = [*request.args.keys(), *request.args.values(), *(request.view_args or {}).values()]
        if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            values += [*request.form.keys(), *request.form.values(),
                       *(f.filename or "" for f in request.files.values())]
        if any(isinstance(v, str) and "\x00" in v for v in values):
            raise ApiError(400, "bad_request", "The URL, query or form contains a NUL character (%00).")


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
    if not request.is_json:
        raise ApiError(400, "bad_json", "The request body is not valid JSON; send a JSON object "
                                        "with Content-Type: application/json.")
    try:
        data = jsontext.loads(raw)
    except ValueError as exc:
        reason = str(exc)[:200]
        raise ApiError(400, "bad_json", f"The request body is not valid JSON ({reason}); send a JSON object "
                                        "with Content-Type: application/json.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", f"The request body must be a JSON object, not {type(data).__name__}.")
    return data
