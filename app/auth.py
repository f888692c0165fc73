"""Who is asking: bearer tokens, the login cookie, ``?token=`` on sockets; origin checks.

Every request gets ``g.principal`` (a :class:`models.users.Principal`) before
any view runs. REST calls without valid credentials get a 401 in the one error
shape; pages redirect to the login page; sockets are accepted and at once
closed with a 44xx code and a reason (``g.socket_refusal``), because a browser
shows nothing of a handshake refused with an HTTP status.
"""
from __future__ import annotations

import logging
from typing import Optional
from urllib.parse import urlsplit

from flask import Flask, current_app, g, redirect, request, url_for

from app.errors import ApiError
from models.users import Principal, resolve_token

log = logging.getLogger(__name__)

#: The login cookie: a session token (see models.users), HttpOnly, SameSite=Lax.
SESSION_COOKIE = "pq_session"
#: Who every request acts for when AUTH_DISABLED=1: sees everything, owns nothing.
LOCAL = Principal(id=None, name="local", is_admin=True)
#: Endpoints anyone may call: health probes, the API description, static files, logging in.
PUBLIC_ENDPOINTS = frozenset({
    "health.healthz", "health.readyz", "openapi.openapi_json", "openapi.docs_page", "metrics.metrics",
    "static", "pages.static", "pages.login", "auth.login",
})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Socket close codes (4000-4999 are the application's).
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_TOO_MANY = 4429


def current_principal() -> Principal:
    """Who the current request acts for (set before every view)."""
    principal = g.get("principal")
    if principal is None:
        raise ApiError(401, "unauthorized", _HOW_TO_AUTHENTICATE)
    return principal


_HOW_TO_AUTHENTICATE = ("Authentication required: send 'Authorization: Bearer <token>' (create one with "
                        "`flask tokens create USER`) or log in at /login.")


def _is_socket() -> bool:
    return bool(getattr(request.url_rule, "websocket", False))


def _is_page() -> bool:
    return request.blueprint == "pages" and request.method == "GET" and request.endpoint != "pages.static"


def _kiosk_login(principal: Principal):
    """A page opened with a valid ``?token=`` (a wall display): log the browser in, drop the token from the URL."""
    from datetime import timedelta
    from urllib.parse import urlencode

    from flask import redirect

    from models.db import connected
    from models.users import User, issue_token

    config = current_app.config["POSEQUEUE"]
    with connected():
        _, raw = issue_token(User.get_by_id(principal.id), "kiosk login", kind="session",
                             expires_in=timedelta(days=config.session_days))
    query = urlencode([(k, v) for k, v in request.args.items(multi=True) if k != "token"])
    response = redirect(request.path + (f"?{query}" if query else ""))
    set_login_cookie(response, raw)
    return response


def set_login_cookie(response, raw: str) -> None:
    """Put the login token ``raw`` in the HttpOnly, SameSite=Lax cookie the pages and their sockets use."""
    config = current_app.config["POSEQUEUE"]
    response.set_cookie(SESSION_COOKIE, raw, max_age=int(config.session_days * 86400), httponly=True,
                        samesite="Lax", secure=config.cookie_secure, path="/")


def _credentials(socket: bool) -> tuple[Optional[Principal], str]:
    """The principal of the request's credentials and where they came from ('' when none)."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() == "bearer":
            return resolve_token(raw.strip()), "bearer"
        return None, "bearer"
    if (socket or _is_page()) and request.args.get("token"):
        # Devices (camera box, wall display) and browsers cannot set headers on a WebSocket; a kiosk
        # opens a page once with ?token= and is given a login cookie (see _kiosk_login).
        principal = resolve_token(request.args["token"])
        if principal is not None or socket:
            return principal, "query"
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return resolve_token(cookie), "cookie"
    return None, ""


def origin_allowed(origin: Optional[str]) -> bool:
    """Whether a browser page from ``origin`` may use this server with the user's credentials.

    No Origin header means no browser page is involved (curl, a camera box), so
    there is nothing to check. Otherwise the origin must be this server's own
    (same host and port) or listed in ALLOWED_ORIGINS.
    """
    if not origin:
        return True
    if origin == "null":
        return False
    parts = urlsplit(origin)
    if parts.netloc.lower() == request.host.lower():
        return True
    normalised = f"{parts.scheme}://{parts.netloc.lower()}"
    return normalised in current_app.config["POSEQUEUE"].allowed_origins


def _authenticate():
    config = current_app.config["POSEQUEUE"]
    if config.auth_disabled:
        g.principal = LOCAL
        return None
    socket = _is_socket()
    from models.db import connected

    # Closed again at once: a socket holds its request for hours and must not hold a pooled connection.
    with connected():
        principal, source = _credentials(socket)
    g.principal = principal
    g.auth_source = source
    if socket:
        origin = request.headers.get("Origin")
        if not origin_allowed(origin):
            g.socket_refusal = (CLOSE_FORBIDDEN_ORIGIN, f"origin {origin[:60]} is not allowed (ALLOWED_ORIGINS)")
        elif principal is None:
            g.socket_refusal = (CLOSE_UNAUTHORIZED, "authentication required: log in, or add ?token=<API token>"
                                if not source else "the token is unknown, expired or revoked")
        return None
    if source == "query" and principal is not None:
        return _kiosk_login(principal)
    if request.endpoint in PUBLIC_ENDPOINTS or request.url_rule is None:
        return None
    if principal is None:
        if request.blueprint == "pages":
            return redirect(url_for("pages.login", next=request.full_path.rstrip("?")))
        message = _HOW_TO_AUTHENTICATE if not source else \
            "The token is unknown, expired or revoked; create a new one with `flask tokens create USER` or log in again."
        raise ApiError(401, "unauthorized", message)
    if source == "cookie" and request.method not in SAFE_METHODS and not origin_allowed(request.headers.get("Origin")):
        # A cookie is sent whichever site's page made the request; the Origin says which it was.
        raise ApiError(403, "bad_origin", "Requests from this origin may not use the login cookie "
                                          "(ALLOWED_ORIGINS lists the origins that may).")
    return None


def init_app(app: Flask) -> None:
    """Authenticate every request before its view runs."""
    config = app.config["POSEQUEUE"]
    if config.auth_disabled:
        log.warning("AUTH_DISABLED=1: EVERY REQUEST ACTS AS AN ADMIN WITHOUT LOGGING IN. "
                    "For local development only; never expose this server.")

    @app.after_request
    def _unauthorized_header(response):
        if response.status_code == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="posequeue"'
        return response

    app.before_request(_authenticate)
