"""Recording on ``/ws/pose/`` (the earlier system's protocol): a publisher asks, its pose messages are kept.

A publisher sends ``{"type": "start_recording", "name", "description"[, "session_id"]}``
and gets ``{"type": "recording_started", "session_id", "recording_id"}``; the
pose messages it sends next are still relayed, and stored (at most
``max_rate`` a second) as :class:`~models.climbing.RecordingFrame` rows of a
new :class:`~models.climbing.SessionRecording` of that session (a new session
when none is named). ``{"type": "stop_recording"}`` answers
``{"type": "recording_stopped", "recording_id", "frame_count", "duration"}``.
A publisher that disconnects mid-recording has its recording closed the same way.
"""
from __future__ import annotations

import json
import time
from typing import Optional

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from models.climbing import RecordingFrame, Session, SessionRecording
from models.db import connected
from models.tasks import naive_utc, utcnow
from motion import jsontext

CONTROL_TYPES = ("start_recording", "stop_recording")


class RecordingError(ValueError):
    """A recording message that cannot be applied; ``fields`` says why, per field."""

    def __init__(self, message: str, fields: Optional[dict] = None) -> None:
        super().__init__(message)
        self.fields = fields


class StartRecordingSchema(Schema):
    """``start_recording``: what to call the recording, and optionally the session it belongs to."""

    class Meta:
        unknown = EXCLUDE

    name = fields.String(load_default="", validate=validate.Length(max=200))
    description = fields.String(load_default="", validate=validate.Length(max=10_000))
    session_id = fields.UUID(load_default=None)


_start = StartRecordingSchema()


class PoseRecorder:
    """One publisher's recording: frames buffered and written ``flush_every`` at a time."""

    def __init__(self, *, max_rate: float = 30.0, flush_every: int = 30, principal=None) -> None:
        #: Who records: the recording (and a session made for it) is theirs; others' sessions are "unknown".
        self.principal = principal
        self.min_interval = 1.0 / max_rate * 0.9  # 10 % slack: a steady 30 fps camera keeps every frame
        self.flush_every = flush_every
        self.recording_id: Optional[int] = None
        self.session_id: Optional[str] = None
        self.frame_count = 0
        self._started = 0.0
        self._last_kept = float("-inf")
        self._buffer: list[dict] = []

    @property
    def active(self) -> bool:
        """Whether frames are being recorded."""
        return self.recording_id is not None

    def control(self, raw: str) -> Optional[dict]:
        """The answer to a ``start_recording`` / ``stop_recording`` message; None for anything else."""
        if '_recording"' not in raw:
            return None
        message = json.loads(raw)
        kind = message.get("type")
        if kind == "start_recording":
            return self.start(message)
        if kind == "stop_recording":
            return self.stop()
        return None

    def start(self, message: dict) -> dict:
        """Open a new recording; ``recording_started``."""
        if self.active:
            raise RecordingError(f"Recording {self.recording_id} is already running; send stop_recording first.")
        try:
            values = _start.load(message)
        except ValidationError as exc:
            raise RecordingError("start_recording has invalid fields; see 'fields'.", exc.messages) from None
        with connected():
            if values["session_id"] is not None:
                session = Session.find(values["session_id"])
                if session is None or (self.principal is not None and not self.principal.can_see(session.owner)):
                    raise RecordingError(f"No session with id {str(values['session_id'])!r}.",
                                         {"session_id": ["Unknown session."]})
            else:
                session = Session.create(climb_data={}, owner=self.principal.id if self.principal else None)
            recording = SessionRecording.create(session=session, name=values["name"],
                                                description=values["description"],
                                                start_time=naive_utc(utcnow()), owner=session.owner)
        self.recording_id, self.session_id = recording.id, str(session.id)
        self.frame_count, self._started, self._last_kept = 0, time.monotonic(), float("-inf")
        return {"type": "recording_started", "session_id": self.session_id, "recording_id": self.recording_id}

    def add(self, raw: str) -> bool:
        """Keep a relayed pose message when recording and due one; True if kept."""
        if not self.active:
            return False
        now = time.monotonic()
        if now - self._last_kept < self.min_interval:
            return False
        try:
            message = jsontext.loads(raw)  # strict: NaN would be replayed as text no browser parses
        except ValueError:
            return False
        if message.get("type", "pose") != "pose" or "landmarks" not in message:
            return False
        self._last_kept = now
        self._buffer.append({"recording": self.recording_id, "seq": self.frame_count,
                             "frame_number": self.frame_count, "timestamp": round(now - self._started, 4),
                             "kind": "pose", "data": message})
        self.frame_count += 1
        if len(self._buffer) >= self.flush_every:
            self.flush()
        return True

    def flush(self) -> None:
        """Write the buffered frames."""
        if self._buffer:
            rows, self._buffer = self._buffer, []
            with connected():
                RecordingFrame.insert_many(rows).execute()

    def stop(self) -> dict:
        """Write what is left, fill in frame count and duration; ``recording_stopped``."""
        if not self.active:
            raise RecordingError("No recording is running; send start_recording first.")
        recording_id, duration = self.recording_id, round(time.monotonic() - self._started, 3)
        self.recording_id = None
        self.flush()
        with connected():
            SessionRecording.update(frame_count=self.frame_count, duration=duration,
                                    end_time=naive_utc(utcnow())).where(
                SessionRecording.id == recording_id).execute()
        return {"type": "recording_stopped", "recording_id": recording_id, "session_id": self.session_id,
                "frame_count": self.frame_count, "duration": duration}

    def close(self) -> None:
        """The publisher left: close its recording like ``stop_recording``."""
        if self.active:
            self.stop()
