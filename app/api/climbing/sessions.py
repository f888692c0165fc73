"""Climbing sessions (seed 001): REST over the same store the live socket uses."""
from __future__ import annotations

from datetime import timezone

from flask import Blueprint

from app.api.climbing.common import invalid, list_filters, page
from app.auth import current_principal
from app.body import json_body
from app.errors import ApiError
from app.openapi import contract
from app.ownership import owner_id, scoped, visible
from app.schemas.climbing import ListQuerySchema, SessionSchema, SessionUpdateSchema
from app.sockets.climbing.hub import live_store
from models.climbing import Route, Session, climb_data_for
from models.db import connected
from models.redis_client import REDIS_ERRORS
from models.session_live import SessionNotFound
from models.tasks import naive_utc, utcnow

bp = Blueprint("sessions", __name__, url_prefix="/api/sessions")


def _route(route_id):
    if route_id is None:
        return None
    route = Route.get_or_none(Route.id == route_id)
    if route is None or not current_principal().can_see(route.owner):
        raise invalid({"route": [f"No route with id {route_id}."]})
    return route


def _check_holds(known: set, climb: dict) -> None:
    unknown = list(dict.fromkeys(h["id"] for h in climb["holds"] if known and h["id"] not in known))
    if unknown:
        raise invalid({"climb_data": {"climb": {"holds": [f"Unknown hold ids: {', '.join(unknown)}."]}}})


def _hold_ids(climb_data: dict | None) -> set:
    return {h["id"] for h in (climb_data or {}).get("climb", {}).get("holds", ())}


def _session_or_404(session_id: str) -> Session:
    return visible(Session.find(session_id), "session", session_id)


@bp.post("/", strict_slashes=False)
@contract(body=SessionSchema, status=201, errors=(400,))
def create_session():
    """Start a session on a route; its climb_data starts with every route hold untouched."""
    values = SessionSchema().load(json_body())
    start = values.get("start_time") or utcnow()
    with connected():
        route = _route(values["route"])
        climb_data = values.get("climb_data") or climb_data_for(route, start)
        session = Session.create(route=route, user=values["user"], start_time=naive_utc(start),
                                 status=values["status"], climb_data=climb_data,
                                 end_time=naive_utc(values.get("end_time")), owner=owner_id())
        return session.to_dict(), 201


@bp.get("/", strict_slashes=False)
@contract(query=ListQuerySchema, errors=(400,))
def list_sessions():
    """Sessions, newest first; filter by ``route`` and ``status``."""
    filters = list_filters()
    select = scoped(Session.select().order_by(Session.created_at.desc()), Session)
    if filters["route"] is not None:
        select = select.where(Session.route == filters["route"])
    if filters["status"]:
        select = select.where(Session.status == filters["status"])
    with connected():
        return page(select, Session.to_dict)


@bp.get("/<session_id>/", strict_slashes=False)
@contract(errors=(404,))
def get_session(session_id: str):
    """One session with its climb_data."""
    with connected():
        return _session_or_404(session_id).to_dict()


@bp.route("/<session_id>/", methods=["PUT", "PATCH"], strict_slashes=False)
@contract(body=SessionUpdateSchema, errors=(400, 404, 503))
def update_session(session_id: str):
    """Change a session's fields; watchers of its live socket get the change."""
    changes = SessionUpdateSchema().load(json_body())
    store = live_store()
    with connected():
        session = _session_or_404(session_id)
        known = _hold_ids(session.climb_data)
        if "route" in changes and changes["route"] != session.route_id:
            route = _route(changes["route"])
            fresh = climb_data_for(route, changes.get("start_time") or session.start_time.replace(tzinfo=timezone.utc))
            known = _hold_ids(fresh)
            changes.setdefault("climb_data", fresh)
        if "climb_data" in changes:
            _check_holds(known, changes["climb_data"]["climb"])
    climb_data = changes.pop("climb_data", None)
    try:
        if changes:
            store.update_session(str(session.id), changes)
        if climb_data is not None:
            store.update_climb(str(session.id), climb_data["climb"])
    except SessionNotFound:
        raise ApiError(404, "not_found", f"No session with id {session_id!r}.") from None
    except REDIS_ERRORS:
        raise ApiError(503, "unavailable", "The live session store is unreachable; try again shortly.") from None
    with connected():
        return _session_or_404(session_id).to_dict()


@bp.delete("/<session_id>/", strict_slashes=False)
@contract(status=204, errors=(404,))
def delete_session(session_id: str):
    """Delete a session and its recordings."""
    with connected():
        _session_or_404(session_id).delete_instance()
    try:
        live_store().forget(str(session_id))
    except REDIS_ERRORS:
        pass  # the live state expires on its own
    return "", 204
