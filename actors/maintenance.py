"""Housekeeping jobs for operators."""
from __future__ import annotations

from datetime import timedelta

from actors.context import progress
from actors.registry import task_actor
from models.db import db
from models.tasks import FINAL_STATES, TaskRecord, naive_utc, utcnow


@task_actor(time_limit_s=600)
def prune_tasks(older_than_days: int = 30, batch: int = 500) -> dict:
    """Delete finished task records older than ``older_than_days`` days."""
    cutoff = naive_utc(utcnow() - timedelta(days=older_than_days))
    old = TaskRecord.select(TaskRecord.task_id).where(
        TaskRecord.state.in_(FINAL_STATES), TaskRecord.finished_at < cutoff)
    total = old.count()
    deleted = 0
    progress(0, max(total, 1), f"Deleting {total} task records")
    while deleted < total:
        ids = [row.task_id for row in old.limit(batch)]
        if not ids:
            break
        with db.atomic():
            deleted += TaskRecord.delete().where(TaskRecord.task_id.in_(ids)).execute()
        progress(deleted, total, f"Deleted {deleted}/{total} task records")
    return {"deleted": deleted, "older_than_days": older_than_days}
