"""A session's pose tracker (seed 000): start it, see its task, control it, stop it."""
from __future__ import annotations

from flask import Blueprint, current_app, request

from actors.errors import QueueUnavailable
from actors.submit import submit
from actors.tracker import track_pose_session
from app.api.climbing.common import invalid
from app.body import json_body
from app.auth import current_principal
from app.errors import ApiError
from app.ownership import owner_id, visible
from app.openapi import contract
from app.schemas.tasks import JobAcceptedSchema, TaskSchema
from app.schemas.tracker import (TrackerControlAcceptedSchema, TrackerControlSchema, TrackerStartSchema,
                                 TrackerStateSchema)
from app.tracker_link import (NoTracker, TrackerBusy, TrackerStarting, TrackerTimeout, UnknownRoute,
                              forward_control, tracker_link)
from models.climbing import Session, Wall
from models.db import connected
from models.redis_client import REDIS_ERRORS
from models.task_state import StoreUnavailable, TaskAlreadyFinished
from models.tasks import FINAL_STATES, PENDING, RETRY

bp = Blueprint("session_tracker", __name__, url_prefix="/api/sessions")
_task = TaskSchema()


def _session_or_404(session_id: str) -> Session:
    with connected():
        session = visible(Session.find(session_id), "session", session_id)
        session.route  # loaded while connected
    return session


def _unavailable() -> ApiError:
    return ApiError(503, "unavailable", "Redis cannot be reached to reach the tracker; try again shortly.")


def _own_relay(path: str) -> str:
    """This server's relay socket, as the client reached it."""
    scheme = "wss" if request.scheme == "https" else "ws"
    return f"{scheme}://{request.host}{path}"


@bp.post("/<session_id>/tracker/", strict_slashes=False)
@contract(body=TrackerStartSchema, response=JobAcceptedSchema, status=202, errors=(400, 404, 409, 503))
def start_tracker(session_id: str):
    """Start tracking the camera pose stream onto this session (track_pose_session); 409 if one runs."""
    options = TrackerStartSchema().load(json_body())
    session = _session_or_404(session_id)
    route = session.route
    if options["wall_id"] is None:
        if route is None:
            raise invalid({"wall_id": ["The session has no route: give the wall to track on."]})
        options["wall_id"] = route.wall_id
    else:
        with connected():
            wall = Wall.get_or_none(Wall.id == options["wall_id"])
        if wall is None or not current_principal().can_see(wall.owner):
            raise invalid({"wall_id": [f"No wall with id {options['wall_id']}."]})
    config = current_app.config["POSEQUEUE"]
    options["input_websocket_url"] = (options["input_websocket_url"] or config.tracker_input_url
                                      or _own_relay("/ws/pose/"))
    options["output_websocket_url"] = (options["output_websocket_url"] or config.tracker_output_url
                                       or _own_relay("/ws/holds/"))
    sid = str(session.id)
    link = tracker_link()
    try:
        link.claim(sid)
    except TrackerBusy as exc:
        raise ApiError(409, "tracker_running", "A tracker already runs for this session; stop it first "
                       "(DELETE this URL).", task_id=exc.task_id) from None
    except REDIS_ERRORS:
        raise _unavailable() from None
    try:
        # The session's owner sees the tracker task even when an admin started it.
        state = submit(track_pose_session, session_id=sid, owner=session.owner if session.owner is not None
                       else owner_id(), **options)
    except QueueUnavailable as exc:
        link.release(sid)
        raise ApiError(503, "queue_unavailable", str(exc)) from None
    except BaseException:
        link.release(sid)
        raise
    ttl = int((options["max_duration"] or config.tracker_max_duration) + 3600)
    link.started(sid, state["task_id"], ttl)
    return {"task_id": state["task_id"], "status": "pending",
            "message": f"Tracking session {sid} on wall {options['wall_id']}"}, 202


@bp.get("/<session_id>/tracker/", strict_slashes=False)
@contract(response=TrackerStateSchema, errors=(404, 503))
def tracker_state(session_id: str):
    """Whether a tracker runs for this session, and its task (state, progress, result)."""
    sid = str(_session_or_404(session_id).id)
    try:
        state = tracker_link().state(sid)
    except REDIS_ERRORS:
        raise _unavailable() from None
    running = state is not None and state["state"] not in FINAL_STATES
    return {"session_id": sid, "running": running, "task_id": state["task_id"] if state else None,
            "task": _task.dump(state) if state else None}


@bp.delete("/<session_id>/tracker/", strict_slashes=False)
@contract(response=TaskSchema, status=202, errors=(404, 409, 503))
def stop_tracker(session_id: str):
    """Stop the session's tracker: ``stop`` to a running one (it returns its result); a queued one is cancelled.

    ``?cancel=1`` also cancels a running one (it ends CANCELLED at its next report).
    """
    sid = str(_session_or_404(session_id).id)
    link = tracker_link()
    try:
        state = link.running(sid)
        if state is None:
            raise ApiError(409, "not_running", "No tracker runs for this session.")
        if state["state"] in (PENDING, RETRY) or request.args.get("cancel") == "1":
            try:
                state = link.ledger.cancel(state["task_id"])
            except TaskAlreadyFinished as exc:
                state = exc.state
        link.send(sid, {"type": "stop"})
    except NoTracker:
        pass  # it ended meanwhile
    except (StoreUnavailable, *REDIS_ERRORS):
        raise _unavailable() from None
    return _task.dump(state), 202


@bp.post("/<session_id>/tracker/control/", strict_slashes=False)
@contract(body=TrackerControlSchema, response=TrackerControlAcceptedSchema, status=202,
          errors=(400, 404, 409, 503, 504))
def control_tracker(session_id: str):
    """Send a control message to the running tracker (reset_holds, pause_output, resume_output,
    update_parameters, get_status, stop); get_status and update_parameters answer with the tracker's reply.
    """
    control = TrackerControlSchema().load(json_body())
    sid = str(_session_or_404(session_id).id)
    try:
        answer = forward_control(tracker_link(), sid, control)
    except UnknownRoute as exc:
        raise invalid({"route_id": [str(exc)]}) from None
    except NoTracker:
        raise ApiError(409, "not_running", "No tracker runs for this session; start one with "
                       f"POST /api/sessions/{sid}/tracker/.") from None
    except TrackerStarting:
        raise ApiError(409, "tracker_starting", "The tracker is queued and has not started yet; "
                       "ask again once it runs.") from None
    except TrackerTimeout:
        raise ApiError(504, "tracker_timeout", "The tracker did not answer in time (it may still be starting); "
                       "try again.") from None
    except REDIS_ERRORS:
        raise _unavailable() from None
    if answer.get("type") == "error":
        raise ApiError(400, "refused", answer.get("message", "The tracker refused the message."))
    return answer, 200 if control["type"] in ("get_status", "update_parameters") else 202
