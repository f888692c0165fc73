"""Climbing resource schemas: walls, calibrations, routes, sessions, recordings, live messages."""
from datetime import timezone

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.schemas import Int, id_range
from models.climbing import SESSION_STATUSES
from models.tasks import isoformat

HOLD_TYPES = ("start", "normal", "finish")
HOLD_STATUSES = ("untouched", "touched", "completed")
_finite = {"allow_nan": False}


#: Largest coordinate of a calibration point (pixels or wall units): beyond it distances overflow.
MAX_COORDINATE = 1e9


class Point(fields.List):
    """``[x, y]``: two finite numbers within ±MAX_COORDINATE."""

    def __init__(self, **kwargs):
        super().__init__(fields.Float(validate=validate.Range(-MAX_COORDINATE, MAX_COORDINATE), **_finite),
                         validate=validate.Length(equal=2), **kwargs)


class WallSchema(Schema):
    """A wall: its size in SVG user units and how many holds it has."""

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    width = fields.Float(dump_only=True)
    height = fields.Float(dump_only=True)
    hold_count = fields.Integer(dump_only=True)
    active_calibration = fields.Integer(dump_only=True, allow_none=True, attribute="active_calibration_id")
    owner = fields.Integer(dump_only=True, allow_none=True)
    created_at = fields.Function(lambda o: isoformat(o.created_at), dump_only=True)


class HoldSchema(Schema):
    """One hold: SVG id, path data, centroid and bounding box in wall units."""

    id = fields.String()
    d = fields.String()
    centroid = fields.List(fields.Float())
    bbox = fields.List(fields.Float())
    area = fields.Float()


class CalibrationPointSchema(Schema):
    """One point pair: where it is in the camera image and on the wall."""

    image = Point(required=True)
    wall = Point(required=True)


class CalibrationCreateSchema(Schema):
    """Body of ``POST /api/walls/<id>/calibrations/`` with point pairs."""

    name = fields.String(load_default="", validate=validate.Length(max=200))
    image_width = fields.Float(required=True, validate=validate.Range(min=1, max=100_000), **_finite)
    image_height = fields.Float(required=True, validate=validate.Range(min=1, max=100_000), **_finite)
    points = fields.List(fields.Nested(CalibrationPointSchema), required=True,
                         validate=validate.Length(min=4, max=1000, error="Give at least 4 point pairs."))
    method = fields.String(load_default="ransac", validate=validate.OneOf(("ransac", "lmeds")))
    hand_extension_percent = fields.Float(load_default=20.0, validate=validate.Range(min=0, max=200), **_finite)


class ArucoCalibrationSchema(Schema):
    """Form fields of an ArUco photo calibration (the photo is the ``photo`` file)."""

    name = fields.String(load_default="", validate=validate.Length(max=200))
    marker_positions = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True)
    dictionary = fields.String(load_default="DICT_4X4_50", validate=validate.Regexp(r"^DICT_[0-9A-Z_]+$"))
    method = fields.String(load_default="ransac", validate=validate.OneOf(("ransac", "lmeds")))


class CalibrationSchema(Schema):
    """A stored calibration."""

    id = Int()
    wall = Int(attribute="wall_id")
    name = fields.String()
    method = fields.String()
    active = fields.Boolean()
    image_width = fields.Float(attribute="data.image_width")
    image_height = fields.Float(attribute="data.image_height")
    perspective_transform = fields.List(fields.List(fields.Float()), attribute="data.perspective_transform")
    reprojection_error = fields.Float()
    max_error = fields.Float(attribute="data.max_error")
    inliers = fields.List(fields.Boolean(), attribute="data.inliers")
    hand_extension_percent = fields.Float(attribute="data.hand_extension_percent")
    created_at = fields.Function(lambda o: isoformat(o.created_at))


class RouteHoldSchema(Schema):
    """One hold of a route: its id as the route names it (``"17"`` for ``hold_17``) and its role."""

    id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    type = fields.String(load_default="normal", validate=validate.OneOf(HOLD_TYPES))


class ProblemSchema(Schema):
    holds = fields.List(fields.Nested(RouteHoldSchema), required=True,
                        validate=validate.Length(min=1, max=500, error="A route needs at least one hold."))


class RouteSchema(Schema):
    """A route in the earlier system's format plus its wall and name."""

    id = fields.Integer(dump_only=True)
    wall_id = Int(required=True, validate=id_range())
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    grade = fields.String(load_default="", validate=validate.Length(max=40))
    author = fields.String(load_default="", validate=validate.Length(max=200))
    problem = fields.Nested(ProblemSchema, required=True)
    owner = fields.Integer(dump_only=True, allow_none=True)
    created_at = fields.Function(lambda o: isoformat(o.created_at), dump_only=True)
    updated_at = fields.Function(lambda o: isoformat(o.updated_at), dump_only=True)


class ClimbHoldSchema(Schema):
    """One hold of a climb object (seed 001)."""

    id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    type = fields.String(required=True, validate=validate.OneOf(HOLD_TYPES))
    status = fields.String(required=True, validate=validate.OneOf(HOLD_STATUSES))
    time = fields.String(required=True, allow_none=True, validate=validate.Length(max=40))


class ClimbSchema(Schema):
    """The seed-001 climb object: ``holds``, ``startTime``, ``endTime``, ``status``."""

    holds = fields.List(fields.Nested(ClimbHoldSchema), required=True, validate=validate.Length(max=500))
    startTime = fields.String(required=True, allow_none=True, validate=validate.Length(max=40))
    endTime = fields.String(required=True, allow_none=True, validate=validate.Length(max=40))
    status = fields.String(required=True, validate=validate.OneOf(SESSION_STATUSES))


class ClimbDataSchema(Schema):
    """A session's ``climb_data``: ``{"climb": …, "pose": []}``."""

    climb = fields.Nested(ClimbSchema, required=True)
    pose = fields.List(fields.Raw(allow_none=True), load_default=list)


class SessionSchema(Schema):
    """A climbing session (seed 001)."""

    id = fields.String(dump_only=True)
    route = Int(allow_none=True, load_default=None, validate=id_range())
    user = Int(allow_none=True, load_default=None, validate=id_range())
    start_time = fields.AwareDateTime(default_timezone=timezone.utc, allow_none=True)
    end_time = fields.AwareDateTime(default_timezone=timezone.utc, allow_none=True)
    status = fields.String(load_default="started", validate=validate.OneOf(SESSION_STATUSES))
    climb_data = fields.Nested(ClimbDataSchema)
    created_at = fields.String(dump_only=True)
    updated_at = fields.String(dump_only=True)


class SessionUpdateSchema(Schema):
    """``PUT /api/sessions/<id>/`` and the ``session_update`` message: the fields to change."""

    route = Int(allow_none=True, validate=id_range())
    user = Int(allow_none=True, validate=id_range())
    start_time = fields.AwareDateTime(default_timezone=timezone.utc)
    end_time = fields.AwareDateTime(default_timezone=timezone.utc, allow_none=True)
    status = fields.String(validate=validate.OneOf(SESSION_STATUSES))
    climb_data = fields.Nested(ClimbDataSchema)


class LandmarkSchema(Schema):
    """One pose landmark in normalised wall coordinates."""

    x = fields.Float(required=True, **_finite)
    y = fields.Float(required=True, **_finite)
    z = fields.Float(load_default=0.0, **_finite)
    visibility = fields.Float(load_default=1.0, **_finite)


class RecordingSchema(Schema):
    """A session recording (its frames are replayed on ``/ws/session/<session_id>/``)."""

    id = fields.Integer(dump_only=True)
    session = fields.UUID(required=True)
    name = fields.String(load_default="", validate=validate.Length(max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    video = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    start_time = fields.AwareDateTime(default_timezone=timezone.utc, load_default=None, allow_none=True)
    end_time = fields.AwareDateTime(default_timezone=timezone.utc, load_default=None, allow_none=True)
    frame_count = fields.Integer(dump_only=True)
    duration = fields.Float(dump_only=True)
    created_at = fields.String(dump_only=True)

    @validates_schema
    def _ordered(self, data, **kwargs):
        if data.get("start_time") and data.get("end_time") and data["end_time"] < data["start_time"]:
            raise ValidationError("end_time is before start_time.", "end_time")


class RecordingFrameSchema(Schema):
    """One entry of a recording's timeline: a pose frame or a climb change."""

    frame_number = fields.Integer()
    timestamp = fields.Float()
    kind = fields.String(validate=validate.OneOf(("pose", "climb")))
    data = fields.Raw()


class RecordingDetailSchema(RecordingSchema):
    """``GET /api/session-recordings/<id>/``: the recording and its timeline."""

    frames = fields.List(fields.Nested(RecordingFrameSchema), dump_only=True)


class ListQuerySchema(Schema):
    """Paging (and filters) for list endpoints."""

    page = Int(load_default=1, validate=id_range())
    per_page = Int(load_default=50, validate=validate.Range(min=1, max=200))
    wall_id = Int(load_default=None, validate=id_range())
    route = Int(load_default=None, validate=id_range())
    session = fields.UUID(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(SESSION_STATUSES))
