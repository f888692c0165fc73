"""Seed-002 socket messages made from task states."""
from __future__ import annotations

from models.tasks import CANCELLED, FAILURE, SUCCESS

#: Seed-002 ``status`` words for each state.
STATUS_WORDS = {
    "PENDING": "pending", "STARTED": "started", "PROGRESS": "processing", "RETRY": "retrying",
    SUCCESS: "completed", FAILURE: "failed", CANCELLED: "cancelled",
}


def message_for(state: dict) -> dict:
    """``task_update``, ``task_complete`` or ``task_error`` for a task state.

    A cancelled task ends with ``task_error`` whose ``status`` is ``cancelled``:
    clients that only know the seed's three types stop their progress bar and
    show the message instead of announcing a result.
    """
    task_id, name = state["task_id"], state.get("state")
    status = STATUS_WORDS.get(name, str(name).lower())
    if name == SUCCESS:
        return {"type": "task_complete", "task_id": task_id, "status": status,
                "message": state.get("status") or "Complete", "result": state.get("result")}
    if name in (FAILURE, CANCELLED):
        return {"type": "task_error", "task_id": task_id, "status": status,
                "error": state.get("error") or ("The task was cancelled." if name == CANCELLED else "The task failed."),
                "message": "The task was cancelled" if name == CANCELLED else "An error occurred"}
    return {
        "type": "task_update", "task_id": task_id, "status": status, "state": name,
        "message": state.get("status") or "", "progress": state.get("progress") or 0,
        "eta_seconds": state.get("eta_seconds"),
        "data": {"actor": state.get("actor"), "attempts": state.get("attempts"),
                 "started_at": state.get("started_at"), "created_at": state.get("created_at")},
    }
