"""Logging in and out, who am I, and the caller's API tokens (for devices and scripts)."""
from __future__ import annotations

import time
from datetime import timedelta

from flask import Blueprint, current_app, jsonify, request

from app.auth import LOCAL, SESSION_COOKIE, current_principal, set_login_cookie
from app.body import json_body
from app.errors import ApiError
from app.openapi import contract
from app.schemas.auth import (LoginResultSchema, LoginSchema, TokenCreatedSchema, TokenCreateSchema,
                              TokenListSchema, UserSchema)
from models.db import connected
from models.redis_client import REDIS_ERRORS
from models.tasks import _db_now as _now, isoformat
from models.users import Token, User, UserError, check_password, expiry, issue_token, revoke

bp = Blueprint("auth", __name__, url_prefix="/api/auth")
#: Failed logins per name and address before further tries wait out the window.
MAX_FAILURES, FAILURE_WINDOW = 10, 300


def _failures_key(name: str) -> str:
    return f"pq:login-failures:{request.remote_addr}:{name.lower()[:64]}"


def _throttled(name: str) -> bool:
    from actors import ledger

    try:
        return int(ledger.store.client.get(_failures_key(name)) or 0) >= MAX_FAILURES
    except REDIS_ERRORS:
        return False  # a Redis outage must not lock everyone out


def _count_failure(name: str) -> None:
    from actors import ledger

    try:
        pipe = ledger.store.client.pipeline()
        pipe.incr(_failures_key(name))
        pipe.expire(_failures_key(name), FAILURE_WINDOW)
        pipe.execute()
    except REDIS_ERRORS:
        pass


@bp.post("/login", strict_slashes=False)
@contract(body=LoginSchema, response=LoginResultSchema, errors=(400, 401, 429))
def login():
    """Log in with name and password; sets the HttpOnly login cookie the pages and their sockets use."""
    values = LoginSchema().load(json_body())
    if _throttled(values["name"]):
        raise ApiError(429, "too_many_attempts", f"Too many failed logins; wait {FAILURE_WINDOW // 60} minutes.")
    with connected():
        user = check_password(values["name"], values["password"])
        if user is None:
            _count_failure(values["name"])
            time.sleep(0.2)  # slows guessing further without holding a worker (gevent)
            raise ApiError(401, "bad_credentials", "Wrong name or password.")
        config = current_app.config["POSEQUEUE"]
        token, raw = issue_token(user, f"login from {request.remote_addr}"[:100], kind="session",
                                 expires_in=timedelta(days=config.session_days))
    body = {"user": UserSchema().dump(user), "expires_at": isoformat(token.expires_at)}
    response = jsonify(body)
    set_login_cookie(response, raw)
    return response


@bp.post("/logout", strict_slashes=False)
@contract(status=204)
def logout():
    """End this browser login (its cookie stops working everywhere at once)."""
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        with connected():
            revoke(raw)
    response = current_app.response_class(status=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@bp.get("/me", strict_slashes=False)
@contract(response=UserSchema)
def me():
    """Who the credentials of this request belong to."""
    principal = current_principal()
    return {"id": principal.id, "name": principal.name, "is_admin": principal.is_admin}


def _user() -> User:
    principal = current_principal()
    if principal is LOCAL:
        raise ApiError(400, "auth_disabled", "Authentication is disabled (AUTH_DISABLED=1): there are no tokens.")
    return User.get_by_id(principal.id)


@bp.get("/tokens/", strict_slashes=False)
@contract(response=TokenListSchema)
def list_tokens():
    """The caller's API tokens (prefix, name, expiry, last use; never the secret)."""
    with connected():
        user = _user()
        rows = Token.select().where((Token.user == user) & (Token.kind == "api")).order_by(Token.id.desc())
        return {"items": [t.as_dict() for t in rows]}


@bp.post("/tokens/", strict_slashes=False)
@contract(body=TokenCreateSchema, response=TokenCreatedSchema, status=201, errors=(400,))
def create_token():
    """A new API token for a device or script (e.g. a wall display's ``?token=``); the secret is shown once."""
    values = TokenCreateSchema().load(json_body())
    with connected():
        try:
            token, raw = issue_token(_user(), values["name"], expires_in=expiry(values["expires_days"]))
        except UserError as exc:
            raise ApiError(400, "invalid", str(exc)) from None
        return {**token.as_dict(), "token": raw}, 201


@bp.delete("/tokens/<int:token_id>/", strict_slashes=False)
@contract(status=204, errors=(404,))
def revoke_token(token_id: int):
    """Revoke one of the caller's tokens."""
    with connected():
        user = _user()
        token = Token.get_or_none((Token.id == token_id) & (Token.user == user))
        if token is None:
            raise ApiError(404, "not_found", f"No token with id {token_id}.")
        Token.update(revoked_at=_now()).where(Token.id == token.id).execute()
    return "", 204
