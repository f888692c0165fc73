"""The database handle and its set-up from a URL (SQLite, PostgreSQL, ...)."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path

from peewee import DatabaseProxy, SqliteDatabase
from playhouse.db_url import connect

log = logging.getLogger(__name__)

#: Every model binds to this proxy; :func:`init_db` points it at a real database.
db = DatabaseProxy()

_SQLITE_PRAGMAS = {
    # WAL lets the web and worker processes read while one of them writes.
    "journal_mode": "wal",
    "synchronous": "normal",
    # Several processes write task transitions; wait instead of failing.
    "busy_timeout": 10_000,
    "foreign_keys": 1,
}


def init_db(url: str, *, migrate: bool = True):
    """Open the database at ``url``, bind the models to it and apply migrations."""
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        # A pooled connection per greenlet/thread: connecting per request costs
        # several milliseconds that the enqueue latency budget cannot spare.
        url = "postgresql+pool://" + url.split("://", 1)[1]
        database = connect(url, max_connections=32, stale_timeout=300)
    else:
        database = connect(url)
    if isinstance(database, SqliteDatabase):
        database.init(database.database, pragmas=_SQLITE_PRAGMAS, timeout=10)
    db.initialize(database)
    if migrate:
        from models.migrations import apply_migrations

        with db.connection_context():
            apply_migrations(db)
    return database


@contextmanager
def connected():
    """Use the calling thread's connection, opening it if needed.

    Unlike ``db.connection_context()`` this leaves an already open connection
    open: worker threads keep theirs for their whole life instead of paying
    for a connect (and SQLite's pragmas) on every write.
    """
    opened = db.is_closed()
    if opened:
        db.connect()
    try:
        yield db
    finally:
        if opened:
            db.close()


def is_up() -> tuple[bool, str]:
    """Whether the database answers a trivial query, and why not."""
    try:
        with db.connection_context():
            db.execute_sql("SELECT 1")
        return True, "ok"
    except Exception as exc:  # any driver error means "down" for health checks
        log.warning("database health check failed: %s", exc)
        return False, type(exc).__name__
