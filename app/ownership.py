"""Records belong to whoever made them: scoping queries and lookups to the caller.

A user sees, follows, cancels and downloads only their own records; admins
see all. Someone else's id answers exactly like a missing one (404), so ids
do not confirm that anything exists.
"""
from __future__ import annotations

from typing import Optional

from peewee import Model

from app.auth import current_principal
from app.errors import ApiError


def owner_id() -> Optional[int]:
    """The owner to record on what the current request creates (None when auth is disabled)."""
    return current_principal().id


def scoped(select, model: type[Model]):
    """``select`` narrowed to rows the caller may see."""
    principal = current_principal()
    return select if principal.is_admin else select.where(model.owner == principal.id)


def not_found(what: str, key) -> ApiError:
    """The 404 for a record that is missing or not the caller's (one message for both)."""
    return ApiError(404, "not_found", f"No {what} with id {key!r}.")


def visible(row, what: str, key):
    """``row`` if it exists and the caller may see it, else the 404."""
    if row is None or not current_principal().can_see(row.owner if isinstance(row, Model) else row.get("owner")):
        raise not_found(what, key)
    return row


def owned_or_404(model: type[Model], key, what: str):
    """The row of ``model`` with primary key ``key`` that the caller may see, or a 404 naming ``what``."""
    return visible(model.get_or_none(model._meta.primary_key == key), what, key)


def require_admin(action: str) -> None:
    """A 403 unless the caller is an admin (for actions over everyone's records)."""
    if not current_principal().is_admin:
        raise ApiError(403, "forbidden", f"Only an admin may {action}.")


def may_see_session(session_id: str) -> bool:
    """Whether the caller may watch or replay climbing session ``session_id`` (False if it does not exist)."""
    from models.climbing import Session
    from models.db import connected

    principal = current_principal()
    with connected():
        session = Session.find(session_id)
    return session is not None and principal.can_see(session.owner)
