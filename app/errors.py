"""One error shape for HTTP bodies and socket messages, made here only."""
from __future__ import annotations

import logging
import uuid

from flask import Flask, g, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from logsetup import log_context

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error a client can act on: HTTP status, a stable code, a message."""

    def __init__(self, status: int, code: str, message: str, **details) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def error_body(code: str, message: str, **details) -> dict:
    """``{"error": {"code", "message", ...}}``: the shape of every error."""
    return {"error": {"code": code, "message": message, **details}}


def socket_error(code: str, message: str, *, timestamped: bool = False, **details) -> dict:
    """The socket ``error`` message: the same body plus the seed's ``type``/``message``.

    ``timestamped`` adds seed 003's ``payload: {message, timestamp}`` (ISO 8601, UTC).
    """
    out = {"type": "error", "message": message, **error_body(code, message, **details)}
    if timestamped:
        from datetime import datetime, timezone

        stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        out["payload"] = {"message": message, "timestamp": stamp}
    return out


def _code_for(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def init_app(app: Flask) -> None:
    """Answer every error, expected or not, in the one JSON shape."""

    @app.before_request
    def _request_id():
        supplied = request.headers.get("X-Request-Id", "")
        g.request_id = supplied if 0 < len(supplied) <= 64 and supplied.isprintable() else uuid.uuid4().hex[:16]
        log_context.set({"request_id": g.request_id})

    @app.after_request
    def _echo_request_id(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return jsonify(error_body(exc.code, exc.message, **exc.details)), exc.status

    @app.errorhandler(ValidationError)
    def _validation_error(exc: ValidationError):
        fields = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return jsonify(error_body("invalid", "The request has invalid fields; see 'fields'.", fields=fields)), 400

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        # Keep the exception's own headers (a 405's Allow, a 401's WWW-Authenticate…), not its HTML type.
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        return jsonify(error_body(_code_for(exc), exc.description or exc.name)), exc.code or 500, headers

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        request_id = g.get("request_id", "-")
        log.exception("unhandled error in %s %s (request %s)", request.method, request.path, request_id)
        return jsonify(error_body(
            "internal_error", "Something went wrong on the server; quote the request id when reporting it.",
            request_id=request_id)), 500
