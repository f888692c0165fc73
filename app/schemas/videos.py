"""Video resource and video job schemas (seed 004)."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.schemas import Int, id_range

NUMBER = fields.Float(required=True, allow_nan=False)


class VideoSchema(Schema):
    """A video as clients see it."""

    id = fields.Integer(dump_only=True)
    filename = fields.String(dump_only=True)
    frames = fields.Integer(dump_only=True)
    fps = fields.Float(dump_only=True)
    width = fields.Integer(dump_only=True)
    height = fields.Integer(dump_only=True)
    duration = fields.Float(dump_only=True)
    size_bytes = fields.Integer(dump_only=True)
    has_audio = fields.Boolean(dump_only=True)
    codec = fields.String(dump_only=True)
    source_id = fields.Integer(dump_only=True, allow_none=True)
    task_id = fields.String(dump_only=True, allow_none=True)
    steps = fields.List(fields.Dict(), dump_only=True)
    created_at = fields.String(dump_only=True)


class VideoListSchema(Schema):
    """``GET /api/videos/``."""

    items = fields.List(fields.Nested(VideoSchema))
    total = Int()


class RegionSchema(Schema):
    """One mask region in source pixels: a rectangle or a polygon."""

    shape = fields.String(required=True, validate=validate.OneOf(["rect", "polygon"]))
    x = fields.Float(allow_nan=False)
    y = fields.Float(allow_nan=False)
    width = fields.Float(allow_nan=False, validate=validate.Range(min=0, min_inclusive=False))
    height = fields.Float(allow_nan=False, validate=validate.Range(min=0, min_inclusive=False))
    points = fields.List(fields.List(fields.Float(allow_nan=False), validate=validate.Length(equal=2)),
                         validate=validate.Length(min=3, max=1000))
    mode = fields.String(validate=validate.OneOf(["fill", "blur", "pixelate"]))
    color = fields.List(Int(validate=validate.Range(0, 255)), validate=validate.Length(equal=3))

    @validates_schema
    def _shape_fields(self, data, **kwargs):
        if data.get("shape") == "rect":
            missing = [k for k in ("x", "y", "width", "height") if k not in data]
            if missing:
                raise ValidationError({k: ["Required for a rect."] for k in missing})
        elif data.get("shape") == "polygon" and "points" not in data:
            raise ValidationError({"points": ["Required for a polygon: [[x, y], ...], at least 3."]})


class MaskJobSchema(Schema):
    """Body of ``POST /api/video-apply-mask/<id>/``."""

    regions = fields.List(fields.Nested(RegionSchema), load_default=list, validate=validate.Length(max=200))
    mode = fields.String(load_default="fill", validate=validate.OneOf(["fill", "blur", "pixelate"]))
    color = fields.List(Int(validate=validate.Range(0, 255)), validate=validate.Length(equal=3),
                        load_default=lambda: [0, 0, 0])
    faces = fields.Boolean(load_default=False)
    face_mode = fields.String(load_default="blur", validate=validate.OneOf(["blur", "pixelate"]))
    device = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=100))
    segments = Int(load_default=None, allow_none=True, validate=validate.Range(1, 64),
                              metadata={"description": "segments processed in parallel (1 = one worker); "
                                                       "absent: automatic for long videos"})

    @validates_schema
    def _something_to_mask(self, data, **kwargs):
        if not data.get("regions") and not data.get("faces") and not data.get("device"):
            raise ValidationError("Nothing to mask: give regions, faces: true, or a device preset.",
                                  field_name="_schema")


class RemoveFramesJobSchema(Schema):
    """Body of ``POST /api/video-remove-frames/<id>/`` (0-based frames, ends inclusive; times in s)."""

    frames = fields.List(Int(validate=id_range(min=0)), load_default=list)
    ranges = fields.List(fields.List(Int(validate=id_range(min=0)),
                                     validate=validate.Length(equal=2)), load_default=list)
    times = fields.List(fields.List(fields.Float(allow_nan=False, validate=validate.Range(min=0)),
                                    validate=validate.Length(equal=2)), load_default=list)

    @validates_schema
    def _something_to_remove(self, data, **kwargs):
        if not (data.get("frames") or data.get("ranges") or data.get("times")):
            raise ValidationError("Nothing to remove: give frames, ranges or times.", field_name="_schema")
        for name in ("ranges", "times"):
            for i, (start, end) in enumerate(data.get(name) or []):
                if end < start:
                    raise ValidationError({name: {i: [f"End {end} is before start {start}."]}})


class AnalyzeJobSchema(Schema):
    """Body of ``POST /api/video-analyze/<id>/``."""

    stride = Int(load_default=1, validate=validate.Range(min=1, max=10_000))
    faces = fields.Boolean(load_default=True)
