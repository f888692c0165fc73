"""The durable task record: history that survives restarts and Redis flushes."""
from __future__ import annotations

import functools
import json
from datetime import datetime, timezone
from typing import Optional

from peewee import CharField, DateTimeField, FloatField, IntegerField, Model, TextField

from models.db import db
from models.fields import JSONField

PENDING, STARTED, PROGRESS, RETRY = "PENDING", "STARTED", "PROGRESS", "RETRY"
SUCCESS, FAILURE, CANCELLED = "SUCCESS", "FAILURE", "CANCELLED"
STATES = (PENDING, STARTED, PROGRESS, RETRY, SUCCESS, FAILURE, CANCELLED)
FINAL_STATES = frozenset((SUCCESS, FAILURE, CANCELLED))
ACTIVE_STATES = frozenset((PENDING, STARTED, PROGRESS, RETRY))


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def naive_utc(value: Optional[datetime]) -> Optional[datetime]:
    """UTC without tzinfo: how datetimes are stored, identically on SQLite and PostgreSQL."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def _db_now() -> datetime:
    return naive_utc(utcnow())


def isoformat(value: Optional[datetime]) -> Optional[str]:
    """ISO 8601 in UTC with a ``Z``, or None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def parse_iso(value: Optional[str]) -> Optional[datetime]:
    """The inverse of :func:`isoformat`."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class TaskRecord(Model):
    """One enqueued job: what ran, for whom, and how it ended."""

    task_id = CharField(primary_key=True, max_length=64)
    actor = CharField(max_length=128, index=True)
    arguments = JSONField(default=dict)
    owner = IntegerField(null=True, index=True)
    state = CharField(max_length=16, index=True, default=PENDING)
    progress = FloatField(default=0.0)
    status = TextField(default="")
    eta_seconds = FloatField(null=True)
    result = JSONField(null=True)
    error = TextField(null=True)
    attempts = IntegerField(default=0)
    created_at = DateTimeField(default=_db_now, index=True)
    started_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)
    updated_at = DateTimeField(default=_db_now)

    class Meta:
        database = db
        table_name = "task"

    def as_state(self) -> dict:
        """The record in the live-state shape (see :mod:`models.task_store`)."""
        return {
            "task_id": self.task_id,
            "actor": self.actor,
            "arguments": self.arguments or {},
            "owner": self.owner,
            "state": self.state,
            "progress": self.progress,
            "status": self.status,
            "eta_seconds": self.eta_seconds,
            "result": self.result,
            "error": self.error,
            "attempts": self.attempts,
            "created_at": isoformat(self.created_at),
            "started_at": isoformat(self.started_at),
            "finished_at": isoformat(self.finished_at),
        }

    @classmethod
    def write_state(cls, state: dict) -> None:
        """Upsert the record from a live-state dict (fields it lacks keep their value).

        Runs on every transition of every job, so the UPDATE is a cached SQL
        string rather than a query built anew each time (building it cost more
        than running it).
        """
        values = {k: state[k] for k in _WRITABLE if k in state}
        for name in ("created_at", "started_at", "finished_at"):
            if name in state:
                values[name] = naive_utc(parse_iso(state[name]))
        values["updated_at"] = _db_now()
        names = tuple(values)
        database = cls._meta.database
        params = [json.dumps(values[n]) if n in _JSON_COLUMNS and values[n] is not None else values[n]
                  for n in names] + [state["task_id"]]
        # A state that is not final never overwrites one that is: writes from
        # different threads (and the background writer) may land out of order.
        final = state.get("state") in FINAL_STATES
        cursor = database.execute_sql(_update_sql(names, database.param, not final), params)
        if not cursor.rowcount:
            values.setdefault("actor", state.get("actor") or "unknown")
            cls.insert(task_id=state["task_id"], **values).on_conflict_ignore().execute()


_WRITABLE = ("actor", "arguments", "owner", "state", "progress", "status", "eta_seconds", "result", "error",
             "attempts")
_JSON_COLUMNS = frozenset(("arguments", "result"))


@functools.lru_cache(maxsize=128)
def _update_sql(names: tuple, param: str, keep_final: bool = False) -> str:
    assignments = ", ".join(f'"{name}" = {param}' for name in names)
    sql = f'UPDATE "task" SET {assignments} WHERE "task_id" = {param}'
    if keep_final:
        sql += ' AND "state" NOT IN (' + ", ".join(f"'{s}'" for s in sorted(FINAL_STATES)) + ")"
    return sql
