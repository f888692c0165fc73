"""Credentials for the tracker's own connections to this server's relay sockets.

The tracker runs in a worker, not as a user, but the relays only serve
authenticated sockets. It gets a short-lived token of the session's owner
(``kind="tracker"``, expiring with the tracker's maximum run time), added as
``?token=`` to relay URLs that carry none. Sessions without an owner (made
with AUTH_DISABLED=1) need no token.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Optional
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from models.db import connected

RELAY_PATHS = ("/ws/pose/", "/ws/holds/", "/ws/pose", "/ws/holds")


def needs_token(url: str) -> bool:
    """Whether ``url`` is a relay socket without credentials of its own."""
    parts = urlsplit(url)
    return parts.path in RELAY_PATHS and "token" not in dict(parse_qsl(parts.query))


def with_token(url: str, token: str) -> str:
    """``url`` with ``?token=`` added."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query) + [("token", token)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def relay_urls(session_id: str, urls: list[str], lifetime_s: float) -> list[str]:
    """``urls`` with a token of the session owner's added where a relay needs one."""
    if not any(needs_token(u) for u in urls):
        return urls
    from models.climbing import Session
    from models.users import User, issue_token

    with connected():
        session = Session.find(session_id)
        owner: Optional[User] = User.get_or_none(User.id == session.owner) if session and session.owner else None
        if owner is None:
            return urls
        _, raw = issue_token(owner, f"tracker of session {session_id}"[:100], kind="tracker",
                             expires_in=timedelta(seconds=lifetime_s + 300))
    return [with_token(u, raw) if needs_token(u) else u for u in urls]


def local_token(owner_id: Optional[int], label: str, lifetime_s: float) -> Optional[str]:
    """A short-lived token for a trusted local command (it has the database) acting on a record of ``owner_id``.

    Records without an owner are the admins', so the first admin's token is
    used for them; None when there are no users (authentication is off then).
    """
    from models.users import User, issue_token

    with connected():
        user = User.get_or_none(User.id == owner_id) if owner_id else \
            User.select().where(User.is_admin == True).order_by(User.id).first()  # noqa: E712
        if user is None:
            return None
        return issue_token(user, label[:100], kind="tracker", expires_in=timedelta(seconds=lifetime_s))[1]
