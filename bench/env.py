"""Environment for the benchmarks: the machine's services when configured, else embedded ones.

Import before ``actors`` (which builds its broker from the environment).
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def prepare(prefix: str):
    """A temp folder and, when REDIS_URL is unset, a started embedded Redis (else None)."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    embedded = None
    if not os.environ.get("REDIS_URL"):
        from models.redis_server import EmbeddedRedis

        embedded = EmbeddedRedis(tmp / "redis").start()
        os.environ["REDIS_URL"] = embedded.url
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Capacity runs put hundreds of one user's sockets on a server: the per-user cap would refuse them.
    os.environ.setdefault("MAX_SOCKETS_PER_USER", "0")
    return tmp, embedded


def bench_token() -> str:
    """An API token of the admin user ``bench`` (created on first use) in the bench's database."""
    from models.db import connected, db, init_db
    from models.users import User, create_user, issue_token

    if db.obj is None:
        init_db(os.environ["DATABASE_URL"])
    with connected():
        user = User.get_or_none(User.name == "bench") or create_user("bench", admin=True)
        return issue_token(user, "benchmarks")[1]


def with_token(url: str, token: str) -> str:
    """``url`` with ``?token=`` (call after :func:`prepare`: it imports ``actors``)."""
    from actors.relay_auth import with_token as add_token

    return add_token(url, token)
