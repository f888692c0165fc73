"""Numbered schema migrations, applied in order and recorded in ``schema_version``.

Each module ``NNNN_name.py`` defines ``apply(database)``. Migrations use frozen
table definitions (SQL or playhouse.migrate), never the live models, so an old
migration keeps working after the models change.
"""
from __future__ import annotations

import importlib
import logging
import pkgutil

log = logging.getLogger(__name__)


def _migrations() -> list[tuple[int, str]]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        number, _, _ = info.name.partition("_")
        if number.isdigit():
            found.append((int(number), info.name))
    return sorted(found)


def latest_version() -> int:
    """The number of the newest migration this code knows."""
    return max(number for number, _ in _migrations())


def apply_migrations(database) -> list[str]:
    """Apply every migration not yet recorded, in order; return their names.

    The set of applied numbers is recorded (not just the highest), so a
    migration merged after a newer one had been applied still runs.
    """
    database.execute_sql("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    done = {row[0] for row in database.execute_sql("SELECT version FROM schema_version").fetchall()}
    applied = []
    for number, name in _migrations():
        if number in done:
            continue
        module = importlib.import_module(f"{__name__}.{name}")
        with database.atomic():
            module.apply(database)
            database.execute_sql("INSERT INTO schema_version (version) VALUES (%d)" % number)
        log.info("applied migration %s", name)
        applied.append(name)
    return applied
