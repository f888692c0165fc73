"""``flask users`` and ``flask tokens``: accounts and API tokens from a terminal."""
from __future__ import annotations

import secrets
from typing import Optional

import click

from models.db import connected
from models.tasks import _db_now
from models.users import (Token, User, UserError, create_user, expiry, find_user, issue_token, revoke, revoke_all,
                          set_password)


def _fail(exc: UserError) -> click.ClickException:
    return click.ClickException(str(exc))


@click.group("users")
def users_group() -> None:
    """Create and list users."""


@users_group.command("create")
@click.argument("name")
@click.option("--admin", is_flag=True, help="May see and manage every user's records.")
@click.option("--password", "password_mode", type=click.Choice(["prompt", "generate", "none"]), default="generate",
              show_default=True, help="prompt: type one; generate: print a random one; none: token login only.")
def create(name: str, admin: bool, password_mode: str) -> None:
    """Create user NAME (prints a generated password once unless told otherwise)."""
    password: Optional[str] = None
    if password_mode == "prompt":
        password = click.prompt("Password (10+ characters)", hide_input=True, confirmation_prompt=True)
    elif password_mode == "generate":
        password = secrets.token_urlsafe(12)
    with connected():
        try:
            user = create_user(name, admin=admin, password=password)
        except UserError as exc:
            raise _fail(exc) from None
    click.echo(f"created {'admin' if user.is_admin else 'user'} {user.name} (id {user.id})")
    if password_mode == "generate":
        click.echo(f"password: {password}   (shown once; change it with `flask users password {user.name}`)")


@users_group.command("password")
@click.argument("name")
def password(name: str) -> None:
    """Set user NAME's password (prompted) and log out their browsers."""
    new = click.prompt("New password (10+ characters)", hide_input=True, confirmation_prompt=True)
    with connected():
        try:
            user = find_user(name)
            set_password(user, new)
        except UserError as exc:
            raise _fail(exc) from None
        ended = Token.update(revoked_at=_db_now()).where(
            (Token.user == user) & (Token.kind == "session") & Token.revoked_at.is_null()).execute()
    click.echo(f"password changed; {ended} browser login(s) ended")


@users_group.command("list")
def list_users() -> None:
    """Every user."""
    with connected():
        for user in User.select().order_by(User.id):
            click.echo(f"{user.id:>4}  {user.name:<24} {'admin' if user.is_admin else 'user'}")


@click.group("tokens")
def tokens_group() -> None:
    """Create, list and revoke API tokens."""


@tokens_group.command("create")
@click.argument("user")
@click.option("--name", "label", default="cli", show_default=True, help="What uses it (device, script).")
@click.option("--expires-days", type=click.FloatRange(min=0), default=None, help="Days until it expires (0/absent: never).")
def create_token(user: str, label: str, expires_days: Optional[float]) -> None:
    """Create an API token for USER and print it (once: only its hash is stored)."""
    with connected():
        try:
            token, raw = issue_token(find_user(user), label, expires_in=expiry(expires_days))
        except UserError as exc:
            raise _fail(exc) from None
    click.echo(raw)
    click.echo(f"token {token.prefix}… for {user} ({label}); expires {token.expires_at or 'never'}", err=True)


@tokens_group.command("list")
@click.argument("user", required=False)
def list_tokens(user: Optional[str]) -> None:
    """API tokens (all, or USER's): prefix, name, state."""
    with connected():
        query = Token.select(Token, User).join(User).where(Token.kind == "api").order_by(Token.id)
        if user:
            try:
                query = query.where(Token.user == find_user(user))
            except UserError as exc:
                raise _fail(exc) from None
        for t in query:
            state = "revoked" if t.revoked_at else f"expires {t.expires_at}" if t.expires_at else "live"
            click.echo(f"{t.prefix}…  {t.user.name:<16} {t.name:<24} {state}")


@tokens_group.command("revoke")
@click.argument("token", required=False)
@click.option("--all-of", "all_of", metavar="USER", help="Revoke every token and login of USER.")
def revoke_token(token: Optional[str], all_of: Optional[str]) -> None:
    """Revoke TOKEN (the secret, or the prefix `flask tokens list` shows), or --all-of USER."""
    if bool(token) == bool(all_of):
        raise click.UsageError("give a TOKEN (or its prefix) or --all-of USER")
    with connected():
        try:
            count = revoke_all(find_user(all_of)) if all_of else revoke(token.rstrip("…"))
        except UserError as exc:
            raise _fail(exc) from None
    if not count:
        raise click.ClickException("no live token matched")
    click.echo(f"revoked {count} token(s)")
