"""Enqueue a job from a request: 202 with its id, 503 on an outage, or run it inline."""
from __future__ import annotations

from flask import current_app, jsonify

from actors.errors import QueueUnavailable
from actors.submit import run_inline, submit
from app.errors import ApiError
from app.ownership import owner_id
from motion.errors import MotionError


def accept_job(actor, *args, message: str, sync: bool = False, owner=None, display_args=None, **kwargs):
    """Submit ``actor`` and answer 202 ``{"task_id", "status": "pending", "message"}``.

    With ``sync`` (``?sync=1``), or when the queue is down and SYNC_FALLBACK is
    on, the job runs in this request and the answer is 200 with its result and
    ``task_id: null``. The task belongs to the caller unless ``owner`` says otherwise.
    """
    config = current_app.config["POSEQUEUE"]
    if owner is None:
        owner = owner_id()
    if not sync:
        try:
            state = submit(actor, *args, owner=owner, display_args=display_args, **kwargs)
            return jsonify({"task_id": state["task_id"], "status": "pending", "message": message}), 202
        except QueueUnavailable as exc:
            if not config.sync_fallback:
                raise ApiError(503, "queue_unavailable", str(exc)) from exc
            current_app.logger.warning("queue unavailable, running %s inline (SYNC_FALLBACK=1)", actor.actor_name)
    try:
        result = run_inline(actor, *args, **kwargs)
    except MotionError as exc:
        raise ApiError(422, "job_failed", str(exc)) from exc
    return jsonify({"task_id": None, "status": "completed", "message": "Ran in the request", "result": result}), 200
