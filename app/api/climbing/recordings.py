"""Session recordings (seed 001): recorded timelines and videos of sessions."""
from __future__ import annotations

from flask import Blueprint

from app.api.climbing.common import get_or_404, invalid, list_filters, page
from app.auth import current_principal
from app.body import json_body
from app.media import media_path
from app.openapi import contract
from app.ownership import scoped
from app.schemas.climbing import ListQuerySchema, RecordingDetailSchema, RecordingSchema
from models.climbing import RecordingFrame, Session, SessionRecording
from models.db import connected
from models.tasks import naive_utc

bp = Blueprint("session_recordings", __name__, url_prefix="/api/session-recordings")


@bp.get("/", strict_slashes=False)
@contract(query=ListQuerySchema, errors=(400,))
def list_recordings():
    """Recordings, newest first; ``?session=<uuid>`` for one session's."""
    filters = list_filters()
    select = scoped(SessionRecording.select().order_by(SessionRecording.id.desc()), SessionRecording)
    if filters["session"] is not None:
        select = select.where(SessionRecording.session == filters["session"])
    with connected():
        return page(select, SessionRecording.to_dict)


@bp.post("/", strict_slashes=False)
@contract(body=RecordingSchema, response=RecordingSchema, status=201, errors=(400,))
def create_recording():
    """Register a recording of a session (e.g. its video): session, name, description, video, times."""
    values = RecordingSchema().load(json_body())
    with connected():
        session = Session.find(values["session"])
        if session is None or not current_principal().can_see(session.owner):
            raise invalid({"session": [f"No session with id {str(values['session'])!r}."]})
        start, end = naive_utc(values["start_time"]), naive_utc(values["end_time"])
        recording = SessionRecording.create(
            session=session, name=values["name"], description=values["description"],
            video=media_path(values["video"], "video") if values["video"] else None, owner=session.owner,
            start_time=start, end_time=end,
            duration=(end - start).total_seconds() if start and end else 0.0)
        return recording.to_dict(), 201


@bp.get("/<int:recording_id>/", strict_slashes=False)
@contract(response=RecordingDetailSchema, errors=(404,))
def get_recording(recording_id: int):
    """One recording; ``frames`` lists its timeline (pose frames and climb changes)."""
    with connected():
        recording = get_or_404(SessionRecording, recording_id, "recording")
        frames = [{"frame_number": f.frame_number, "timestamp": f.timestamp, "kind": f.kind, "data": f.data}
                  for f in recording.frames.order_by(RecordingFrame.seq)]
        return {**recording.to_dict(), "frames": frames}
