"""``/ws/session-live/<session_id>/``: the live channel of one climbing session (seed 001).

Clients send ``session_update`` {session fields}, ``climb_update`` {climb} and
``pose_update`` {pose}; every client of the session, on any web process, gets
``session_updated`` {session}, ``climb_updated`` {climb}, ``pose_updated`` {pose}.
A client that connects is sent the current session and climb first.

Tracker control messages (``reset_holds``, ``pause_output``, ``resume_output``,
``update_parameters``, ``get_status``, ``stop``) are validated and forwarded to
the session's running tracker; the asking client alone gets the answer
(``status``, ``parameters_updated``, ``control_forwarded``) or an ``error``.
"""
from __future__ import annotations

import logging

from marshmallow import ValidationError
from simple_websocket import ConnectionClosed

from app.errors import socket_error
from app.schemas.climbing import ClimbSchema, LandmarkSchema, SessionUpdateSchema
from app.schemas.tracker import CONTROL_TYPES, TrackerControlSchema
from app.ownership import may_see_session
from app.sockets.guard import socket_route
from app.sockets.channel import SocketChannel
from app.sockets.climbing.hub import session_hub
from app.tracker_link import (NoTracker, TrackerStarting, TrackerTimeout, UnknownRoute, forward_control,
                              tracker_link)
from models.redis_client import REDIS_ERRORS
from motion import jsontext
from models.session_live import SessionLiveStore, SessionNotFound

log = logging.getLogger(__name__)

#: Close code for "no such session" (4000-4999 are the application's).
CLOSE_NOT_FOUND = 4404
MESSAGE_TYPES = ("session_update", "climb_update", "pose_update", *CONTROL_TYPES)
_climb = ClimbSchema()
_landmarks = LandmarkSchema(many=True)
_session_update = SessionUpdateSchema(exclude=("climb_data", "route"))  # route changes: REST
_control = TrackerControlSchema()


class BadMessage(ValueError):
    """A client message that cannot be applied; ``fields`` says why, per field."""

    def __init__(self, message: str, fields: dict | None = None) -> None:
        super().__init__(message)
        self.fields = fields


def parse(raw) -> tuple[str, dict]:
    """``(type, message)`` from a client's text, or BadMessage."""
    try:
        msg = jsontext.loads(raw)
    except ValueError:
        raise BadMessage('Messages must be JSON objects like {"type": "climb_update", "climb": {…}}.') from None
    if not isinstance(msg, dict):
        raise BadMessage(f"Messages must be JSON objects, not {type(msg).__name__}.")
    kind = msg.get("type")
    if kind not in MESSAGE_TYPES:
        raise BadMessage(f"Unknown message type {kind!r}; expected one of {', '.join(MESSAGE_TYPES)}.")
    return kind, msg


def _load(schema, data, name: str):
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise BadMessage(f"The {name} has invalid fields; see 'fields'.", {name: exc.messages}) from None


def _check_holds(store: SessionLiveStore, session_id: str, climb: dict) -> None:
    """A climb may only name the holds of the session's climb (its route)."""
    known = {h["id"] for h in store.state(session_id)["climb"].get("holds", ())}
    if not known:
        return  # a session without a route: the client defines the holds
    unknown = [h["id"] for h in climb["holds"] if h["id"] not in known]
    if unknown:
        raise BadMessage("The climb names holds that are not on the session's route: "
                         + ", ".join(dict.fromkeys(unknown)) + ".",
                         {"climb": {"holds": [f"Unknown hold ids: {', '.join(dict.fromkeys(unknown))}."]}})


def control(session_id: str, msg: dict) -> dict:
    """Validate a tracker control message and forward it; the answer for the asking client."""
    try:
        message = _control.load(msg)
    except ValidationError as exc:
        raise BadMessage(f"The {msg.get('type')} message has invalid fields; see 'fields'.", exc.messages) from None
    try:
        return forward_control(tracker_link(), session_id, message)
    except UnknownRoute as exc:
        raise BadMessage(str(exc), {"route_id": [str(exc)]}) from None
    except NoTracker:
        return socket_error("no_tracker", "No tracker runs for this session; start one with "
                            f"POST /api/sessions/{session_id}/tracker/.", control=message["type"])
    except TrackerStarting:
        return socket_error("tracker_starting", "The tracker is queued and has not started yet; ask again "
                            "once it runs.", control=message["type"])
    except TrackerTimeout:
        return socket_error("tracker_timeout", "The tracker did not answer in time; try again.",
                            control=message["type"])


def handle(store: SessionLiveStore, session_id: str, kind: str, msg: dict) -> None:
    """Validate and apply one client message (the broadcast reaches the sender too)."""
    if kind == "climb_update":
        climb = msg.get("climb", msg.get("data"))
        if not isinstance(climb, dict):
            raise BadMessage("'climb' must be the climb object.", {"climb": ["Must be an object."]})
        climb = _load(_climb, climb, "climb")
        _check_holds(store, session_id, climb)
        store.update_climb(session_id, climb)
    elif kind == "session_update":
        fields = msg.get("session", msg.get("data"))
        if not isinstance(fields, dict):
            raise BadMessage("'session' must be an object of session fields.", {"session": ["Must be an object."]})
        changes = _load(_session_update, fields, "session")
        if not changes:
            raise BadMessage("The session update changes nothing.", {"session": ["No fields to change."]})
        store.update_session(session_id, changes)
    else:
        pose = msg.get("pose", msg.get("data"))
        if not isinstance(pose, list) or len(pose) > 64:
            raise BadMessage("'pose' must be a list of at most 64 landmarks {x, y, z, visibility}.",
                             {"pose": ["Must be a list of landmarks."]})
        store.publish_pose(session_id, _load(_landmarks, pose, "pose"))


@socket_route("/ws/session-live/<session_id>/", strict_slashes=False)
def session_live_socket(ws, session_id: str):
    """Live session: send session_update / climb_update / pose_update; receive the *_updated broadcasts."""
    channel = SocketChannel(ws, path="/ws/session-live/").start()
    hub = session_hub()
    joined = False
    try:
        try:
            if not may_see_session(session_id):
                raise SessionNotFound(session_id)
            hub.join(session_id, channel)
            joined = True
        except SessionNotFound:
            channel.send(socket_error("not_found", f"No session with id {session_id!r}.", session_id=session_id))
            channel.close()
            channel.join()
            ws.close(reason=CLOSE_NOT_FOUND, message="session not found")
            return
        while not channel.closed:
            raw = ws.receive()
            try:
                kind, msg = parse(raw)
                if kind in CONTROL_TYPES:
                    channel.send(control(session_id, msg))
                else:
                    handle(hub.store, session_id, kind, msg)
            except BadMessage as exc:
                details = {"fields": exc.fields} if exc.fields else {}
                channel.send(socket_error("bad_message", str(exc), **details))
            except SessionNotFound:
                channel.send(socket_error("not_found", "The session was deleted.", session_id=session_id))
                break
            except REDIS_ERRORS:
                channel.send(socket_error("unavailable", "The live store is unreachable; try again shortly."))
            except Exception:
                log.exception("session-live message failed (session %s)", session_id)
                channel.send(socket_error("internal_error", "The message could not be applied on the server."))
    except ConnectionClosed:
        pass
    except REDIS_ERRORS:
        channel.send(socket_error("unavailable", "The live store is unreachable; reconnect shortly."))
    except Exception:
        log.exception("session-live socket failed (session %s)", session_id)
        channel.send(socket_error("internal_error", "The live session failed on the server; reconnect."))
    finally:
        if joined:
            hub.leave(session_id, channel)
        channel.close()
        channel.join()
