"""Users and their API tokens.

Tokens are random secrets shown once; only their SHA-256 is stored (a token
has 240 bits of entropy, so a slow password hash would add nothing but
latency to every request). Passwords, chosen by people, get werkzeug's
salted scrypt hash. Browser logins are tokens too (``kind="session"``), so
every credential is checked, expired and revoked the same way.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Optional

from peewee import AutoField, BooleanField, CharField, DateTimeField, ForeignKeyField, Model
from werkzeug.security import check_password_hash, generate_password_hash

from models.db import db
from models.tasks import _db_now, isoformat

TOKEN_PREFIX = "pq_"
#: Characters of a token kept in clear, so people can tell their tokens apart and revoke one.
SHOWN_CHARS = 10
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
#: A hash to compare against when the user does not exist, so timing does not tell.
_DUMMY_HASH = generate_password_hash("not a password")
#: last_used_at is refreshed at most this often (a write per request would cost more than it tells).
_TOUCH_EVERY = timedelta(minutes=1)


class UserError(ValueError):
    """A user or token request that cannot be carried out (the message says why)."""


class User(Model):
    """Someone who owns tasks, videos and climbing records."""

    id = AutoField()
    name = CharField(max_length=64, unique=True)
    password_hash = CharField(max_length=255, null=True)
    is_admin = BooleanField(default=False)
    created_at = DateTimeField(default=_db_now)

    class Meta:
        database = db
        table_name = "user"

    def as_dict(self) -> dict:
        """The fields clients see (never the hash)."""
        return {"id": self.id, "name": self.name, "is_admin": self.is_admin, "created_at": isoformat(self.created_at)}


class Token(Model):
    """A bearer credential: an API token, or a browser login (``kind="session"``)."""

    id = AutoField()
    user = ForeignKeyField(User, on_delete="CASCADE", column_name="user_id", index=True, backref="tokens")
    name = CharField(max_length=100)
    kind = CharField(max_length=16, default="api")
    #: The first characters of the token, in clear.
    prefix = CharField(max_length=16)
    token_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=_db_now)
    expires_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)
    last_used_at = DateTimeField(null=True)

    class Meta:
        database = db
        table_name = "token"

    def as_dict(self) -> dict:
        """The fields people see when listing tokens (never the secret)."""
        return {"id": self.id, "user": self.user.name, "name": self.name, "kind": self.kind,
                "prefix": self.prefix, "created_at": isoformat(self.created_at),
                "expires_at": isoformat(self.expires_at), "revoked_at": isoformat(self.revoked_at),
                "last_used_at": isoformat(self.last_used_at)}


@dataclass(frozen=True)
class Principal:
    """Who a request or socket acts for."""

    #: None only for the local principal of AUTH_DISABLED=1.
    id: Optional[int]
    name: str
    is_admin: bool

    def can_see(self, owner: Optional[int]) -> bool:
        """Whether a record owned by ``owner`` is visible to this principal."""
        return self.is_admin or (owner is not None and owner == self.id)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def validate_name(name: str) -> str:
    """A user name: 1–64 letters, digits and ``_.@-``, starting with a letter or digit."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise UserError(f"user name {name!r} is not valid: use 1-64 letters, digits and _ . @ -, "
                        "starting with a letter or digit")
    return name


def create_user(name: str, *, admin: bool = False, password: Optional[str] = None) -> User:
    """A new user; a taken name is a :class:`UserError`."""
    validate_name(name)
    if User.get_or_none(User.name == name) is not None:
        raise UserError(f"a user named {name!r} already exists")
    user = User.create(name=name, is_admin=admin)
    if password is not None:
        set_password(user, password)
    return user


def set_password(user: User, password: str) -> None:
    """Replace ``user``'s password (at least 10 characters)."""
    if not isinstance(password, str) or len(password) < 10:
        raise UserError("a password needs at least 10 characters")
    user.password_hash = generate_password_hash(password)
    user.save(only=[User.password_hash])


def check_password(name: str, password: str) -> Optional[User]:
    """The user if ``password`` is theirs, else None (same cost whether or not the user exists)."""
    user = User.get_or_none(User.name == name) if isinstance(name, str) and len(name) <= 64 else None
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    ok = check_password_hash(stored, password if isinstance(password, str) else "")
    return user if ok and user is not None and user.password_hash else None


def find_user(name: str) -> User:
    """The user named ``name`` or a :class:`UserError`."""
    user = User.get_or_none(User.name == name)
    if user is None:
        raise UserError(f"no user named {name!r}")
    return user


def issue_token(user: User, name: str, *, kind: str = "api", expires_in: Optional[timedelta] = None) -> tuple[Token, str]:
    """A new token for ``user``; returns the record and the secret, which is shown once and never stored."""
    name = (name or "").strip()
    if not 0 < len(name) <= 100:
        raise UserError("a token needs a name of 1-100 characters (say which device or script uses it)")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(30)
    expires_at = _db_now() + expires_in if expires_in else None
    token = Token.create(user=user, name=name, kind=kind, prefix=raw[:SHOWN_CHARS], token_hash=_hash(raw),
                         expires_at=expires_at)
    return token, raw


def resolve_token(raw: Optional[str]) -> Optional[Principal]:
    """Who ``raw`` belongs to, or None for a missing, unknown, revoked or expired token."""
    if not raw or not isinstance(raw, str) or len(raw) > 200 or not raw.startswith(TOKEN_PREFIX):
        return None
    digest = _hash(raw)
    row = (Token.select(Token, User).join(User).where(Token.token_hash == digest).first())
    # Compare again in constant time: the index lookup above is not.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    now = _db_now()
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY:
        Token.update(last_used_at=now).where(Token.id == row.id).execute()
    return Principal(row.user.id, row.user.name, row.user.is_admin)


def revoke(raw_or_prefix: str, *, user: Optional[User] = None) -> int:
    """Revoke tokens given the secret itself or its shown prefix (optionally only ``user``'s); returns how many."""
    if not raw_or_prefix:
        raise UserError("say which token: its secret or the prefix shown when it was listed")
    if len(raw_or_prefix) > SHOWN_CHARS:
        match = Token.token_hash == _hash(raw_or_prefix)
    else:
        match = Token.prefix == raw_or_prefix
    query = Token.update(revoked_at=_db_now()).where(match & Token.revoked_at.is_null())
    if user is not None:
        query = query.where(Token.user == user)
    return query.execute()


def revoke_all(user: User) -> int:
    """Revoke every live token of ``user``; returns how many."""
    return Token.update(revoked_at=_db_now()).where((Token.user == user) & Token.revoked_at.is_null()).execute()


def has_users() -> bool:
    """Whether any user exists (first start creates the admin)."""
    return User.select().exists()


def expiry(days: Optional[float]) -> Optional[timedelta]:
    """``days`` as a timedelta (None or 0 = never expires); negative is a :class:`UserError`."""
    if days is None or days == 0:
        return None
    if days < 0:
        raise UserError("expiry must be a positive number of days")
    return timedelta(days=days)

