"""Tasks: status by id, history with filters, cancellation."""
from __future__ import annotations

from flask import Blueprint, request

from actors import ledger
from actors.maintenance import prune_tasks
from app.body import json_body
from app.errors import ApiError
from app.jobs import accept_job
from app.openapi import contract
from app.ownership import not_found, require_admin, scoped, visible
from app.schemas.tasks import JobAcceptedSchema, PruneTasksSchema, TaskListQuerySchema, TaskPageSchema, TaskSchema
from models.db import db
from models.redis_client import REDIS_ERRORS
from models.task_state import StoreUnavailable, TaskAlreadyFinished, TaskNotFound
from models.tasks import ACTIVE_STATES, TaskRecord

bp = Blueprint("tasks", __name__, url_prefix="/api")
task_schema = TaskSchema()


def _get_state(task_id: str) -> dict:
    """The caller's task, or a 404 (someone else's answers the same)."""
    try:
        state = ledger.get(task_id)
    except TaskNotFound:
        raise not_found("task", task_id) from None
    return visible(state, "task", task_id)


@bp.get("/task-status/<task_id>/", strict_slashes=False)
@contract(response=TaskSchema, errors=(404,))
def task_status(task_id: str):
    """The state, progress, ETA and result of one task."""
    return task_schema.dump(_get_state(task_id))


@bp.get("/tasks/", strict_slashes=False)
@contract(query=TaskListQuerySchema, response=TaskPageSchema, errors=(400,))
def list_tasks():
    """Tasks, newest first, filtered by state and actor, paginated."""
    query = TaskListQuerySchema().load(request.args)
    select = scoped(TaskRecord.select().order_by(TaskRecord.created_at.desc(), TaskRecord.task_id), TaskRecord)
    if query["state"]:
        select = select.where(TaskRecord.state == query["state"])
    if query["actor"]:
        select = select.where(TaskRecord.actor == query["actor"])
    with db.connection_context():
        total = select.count()
        records = list(select.paginate(query["page"], query["per_page"]))
    states = [r.as_state() for r in records]
    _overlay_live(states)
    return {
        "items": task_schema.dump(states, many=True),
        "page": query["page"], "per_page": query["per_page"], "total": total,
    }


def _overlay_live(states: list[dict]) -> None:
    """The database holds progress every few seconds; Redis has it now."""
    active = [s for s in states if s["state"] in ACTIVE_STATES]
    if not active:
        return
    try:
        pipe = ledger.store.client.pipeline(transaction=False)
        for s in active:
            pipe.exists(ledger.store.key(s["task_id"]))
        present = pipe.execute()
        for s, exists in zip(active, present):
            if exists:
                live = ledger.store.get(s["task_id"])
                if live:
                    s.update({k: v for k, v in live.items() if k in s})
    except REDIS_ERRORS:
        pass  # the database's view is a fine answer during an outage


@bp.post("/tasks/<task_id>/cancel/", strict_slashes=False)
@contract(response=TaskSchema, status=202, errors=(404, 409, 503))
def cancel_task(task_id: str):
    """Cancel a task: a queued one never starts, a running one stops at its next report."""
    _get_state(task_id)
    try:
        state = ledger.cancel(task_id)
    except TaskNotFound:
        raise not_found("task", task_id) from None
    except TaskAlreadyFinished as exc:
        raise ApiError(409, "already_finished",
                       f"The task already ended ({exc.state['state']}); there is nothing to cancel.") from None
    except StoreUnavailable:
        raise ApiError(503, "queue_unavailable", "Cannot reach Redis to cancel the task; try again shortly.") from None
    return task_schema.dump(state), 202


@bp.post("/tasks/prune/", strict_slashes=False)
@contract(body=PruneTasksSchema, response=JobAcceptedSchema, status=202, errors=(400, 403, 503))
def prune():
    """Delete finished task history older than ``older_than_days`` (a job; admins only: it is everyone's)."""
    require_admin("prune the task history")
    body = PruneTasksSchema().load(json_body())
    return accept_job(prune_tasks, body["older_than_days"], message="Pruning task history",
                      sync=request.args.get("sync") == "1")
