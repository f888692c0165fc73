"""Climbing records: walls, calibrations, routes, sessions and their recordings (seeds 000, 001)."""
from __future__ import annotations

import uuid
from typing import Optional

from peewee import (CharField, DateTimeField, FloatField, ForeignKeyField, IntegerField, Model,
                    TextField, UUIDField)

from models.db import db
from models.fields import JSONField
from models.tasks import isoformat, naive_utc, utcnow

SESSION_STATUSES = ("started", "completed", "abandoned")
FINAL_SESSION_STATUSES = frozenset(("completed", "abandoned"))


def _now():
    return naive_utc(utcnow())


class BaseModel(Model):
    class Meta:
        database = db


class Wall(BaseModel):
    """A climbing wall: its SVG and the holds parsed from it (wall units = SVG user units)."""

    name = CharField(max_length=200)
    svg = TextField()
    width = FloatField()
    height = FloatField()
    #: ``[{"id", "d", "centroid", "bbox", "area"}]`` as parsed at upload (the SVG stays the source).
    holds = JSONField(default=list)
    hold_count = IntegerField(default=0)
    active_calibration_id = IntegerField(null=True)
    owner = IntegerField(null=True, index=True)
    created_at = DateTimeField(default=_now)

    class Meta:
        table_name = "wall"

    @classmethod
    def from_svg(cls, name: str, svg: bytes, owner: Optional[int] = None) -> "Wall":
        """Parse ``svg`` and store it as a wall (motion's InvalidInput when it has no usable holds)."""
        from motion.climbing import parse_wall_svg

        parsed = parse_wall_svg(svg)
        return cls.create(name=name, svg=svg.decode("utf-8", errors="replace"), width=parsed.width,
                          height=parsed.height, holds=[h.to_dict() for h in parsed.holds],
                          hold_count=len(parsed.holds), owner=owner)

    def hold_ids(self) -> set[str]:
        """Every hold id on the wall."""
        return {h["id"] for h in self.holds or ()}


class Calibration(BaseModel):
    """A perspective transform from camera pixels to a wall's coordinates."""

    wall = ForeignKeyField(Wall, backref="calibrations", on_delete="CASCADE", index=True)
    name = CharField(max_length=200, default="")
    method = CharField(max_length=40)
    #: :meth:`motion.climbing.Calibration.to_dict` plus the points it was fitted from.
    data = JSONField()
    reprojection_error = FloatField(default=0.0)
    owner = IntegerField(null=True, index=True)
    created_at = DateTimeField(default=_now)

    class Meta:
        table_name = "calibration"

    @classmethod
    def store(cls, wall: Wall, cal, name: str, points: Optional[list] = None) -> "Calibration":
        """Store a domain calibration and make it the wall's active one."""
        data = cal.to_dict()
        if points:
            data["points"] = points
        with db.atomic():
            record = cls.create(wall=wall, name=name, method=cal.method, data=data,
                                reprojection_error=cal.reprojection_error, owner=wall.owner)
            Wall.update(active_calibration_id=record.id).where(Wall.id == wall.id).execute()
        return record

    def to_motion(self):
        """The domain calibration."""
        from motion.climbing import Calibration as MotionCalibration

        return MotionCalibration.from_dict(self.data)


class Route(BaseModel):
    """A route (problem) on a wall in the earlier system's format."""

    wall = ForeignKeyField(Wall, backref="routes", on_delete="CASCADE", index=True)
    name = CharField(max_length=200)
    grade = CharField(max_length=40, default="")
    author = CharField(max_length=200, default="")
    #: ``[{"id": "17", "type": "start"}, …]``: ``problem.holds`` as given.
    holds = JSONField(default=list)
    owner = IntegerField(null=True, index=True)
    created_at = DateTimeField(default=_now)
    updated_at = DateTimeField(default=_now)

    class Meta:
        table_name = "route"

    @property
    def data(self) -> dict:
        """The route data as the seed stores it."""
        return {"grade": self.grade, "author": self.author, "problem": self.problem}

    @property
    def problem(self) -> dict:
        """``{"holds": [...]}`` as the seed nests them."""
        return {"holds": self.holds}


def climb_data_for(route: Optional[Route], start_time) -> dict:
    """A new session's climb_data: every route hold untouched, time null (seed 001)."""
    from motion.climbing import new_climb_data, parse_route

    return new_climb_data(parse_route(route.data) if route is not None else None, start_time)


class Session(BaseModel):
    """One climbing attempt on a route (seed 001), with its live climb state."""

    id = UUIDField(primary_key=True, default=uuid.uuid4)
    route = ForeignKeyField(Route, backref="sessions", null=True, on_delete="SET NULL", index=True)
    user = IntegerField(null=True, column_name="user_id", index=True)
    owner = IntegerField(null=True, index=True)
    start_time = DateTimeField(default=_now)
    end_time = DateTimeField(null=True)
    status = CharField(max_length=20, default="started", index=True)
    climb_data = JSONField(default=dict)
    #: Bumped by every live change; a write with an older version is ignored.
    version = IntegerField(default=0)
    created_at = DateTimeField(default=_now, index=True)
    updated_at = DateTimeField(default=_now)

    class Meta:
        table_name = "session"

    def to_dict(self, *, climb: bool = True) -> dict:
        """The session as REST and the live socket show it."""
        out = {
            "id": str(self.id),
            "route": self.route_id,
            "user": self.user,
            "start_time": isoformat(self.start_time),
            "end_time": isoformat(self.end_time),
            "status": self.status,
        }
        if climb:
            out["climb_data"] = self.climb_data or {}
        out["created_at"] = isoformat(self.created_at)
        out["updated_at"] = isoformat(self.updated_at)
        return out

    @classmethod
    def find(cls, session_id) -> Optional["Session"]:
        """The session with this id (a UUID or its text), or None."""
        try:
            key = session_id if isinstance(session_id, uuid.UUID) else uuid.UUID(str(session_id))
        except (TypeError, ValueError, AttributeError):
            return None
        return cls.get_or_none(cls.id == key)


class SessionRecording(BaseModel):
    """A recorded timeline of a session (pose frames at a bounded rate, climb changes), or a video of it."""

    session = ForeignKeyField(Session, backref="recordings", null=True, on_delete="CASCADE", index=True)
    name = CharField(max_length=200, default="")
    description = TextField(default="")
    video = CharField(max_length=500, null=True)
    start_time = DateTimeField(null=True)
    end_time = DateTimeField(null=True)
    frame_count = IntegerField(default=0)
    duration = FloatField(default=0.0)
    owner = IntegerField(null=True, index=True)
    created_at = DateTimeField(default=_now, index=True)

    class Meta:
        table_name = "session_recording"

    def to_dict(self) -> dict:
        """The recording as REST shows it."""
        return {
            "id": self.id, "session": str(self.session_id) if self.session_id else None, "name": self.name,
            "description": self.description, "video": self.video, "start_time": isoformat(self.start_time),
            "end_time": isoformat(self.end_time), "frame_count": self.frame_count, "duration": self.duration,
            "created_at": isoformat(self.created_at),
        }


class RecordingFrame(BaseModel):
    """One entry of a recording's timeline: a pose frame or a climb change."""

    recording = ForeignKeyField(SessionRecording, backref="frames", on_delete="CASCADE")
    seq = IntegerField()
    #: Index of the pose frame (climb entries carry the index of the next pose frame).
    frame_number = IntegerField()
    #: Seconds since the recording started.
    timestamp = FloatField()
    kind = CharField(max_length=8)  # "pose" | "climb"
    data = JSONField()

    class Meta:
        table_name = "recording_frame"
        indexes = ((("recording", "seq"), True),)


MODELS = [Wall, Calibration, Route, Session, SessionRecording, RecordingFrame]
