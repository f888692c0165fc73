"""Session tracker schemas: the seed-000 options to start one, control messages, its state."""
import json

from marshmallow import EXCLUDE, INCLUDE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from app.schemas import Int, id_range
from app.schemas.tasks import TaskSchema
from motion.climbing.route import parse_route
from motion.errors import InvalidInput

CONTROL_TYPES = ("reset_holds", "pause_output", "resume_output", "update_parameters", "get_status", "stop")
PARAMETERS = ("proximity_threshold", "touch_duration", "route_id")
_finite = {"allow_nan": False}


#: A socket URL: ``ws(s)://`` or the seed's ``http(s)://`` form (a pattern, so the OpenAPI document says it too).
_socket_url = validate.Regexp(r"^(wss?|https?)://\S+$", error="Must be a ws://, wss://, http:// or https:// URL.")


def _route_json(value: str) -> bool:
    """Route data in the earlier system's format (its holds are checked against the wall by the tracker)."""
    try:
        parse_route(value)
    except InvalidInput as exc:
        raise ValidationError(str(exc)) from None
    return True


class TrackerStartSchema(Schema):
    """Body of ``POST /api/sessions/<id>/tracker/``: the seed's tracker options (all optional).

    ``wall_id`` defaults to the wall of the session's route, the route to the
    session's, the sockets to this server's ``/ws/pose/`` and ``/ws/holds/``.
    """

    wall_id = Int(load_default=None, validate=id_range())
    input_websocket_url = fields.String(load_default=None, validate=[validate.Length(max=2000), _socket_url])
    output_websocket_url = fields.String(load_default=None, validate=[validate.Length(max=2000), _socket_url])
    proximity_threshold = fields.Float(load_default=300.0, validate=validate.Range(min=0, min_inclusive=False,
                                                                                     max=1e6), **_finite)
    touch_duration = fields.Float(load_default=0.5, validate=validate.Range(min=0, max=600), **_finite)
    reconnect_delay = fields.Float(load_default=0.5, validate=validate.Range(min=0.01, max=60), **_finite)
    debug = fields.Boolean(load_default=False)
    no_stream_landmarks = fields.Boolean(load_default=False)
    stream_svg_only = fields.Boolean(load_default=False)
    route_data = fields.String(load_default=None, validate=[validate.Length(min=2, max=1_000_000), _route_json])
    route_id = Int(load_default=None, validate=id_range())
    max_duration = fields.Float(load_default=None, validate=validate.Range(min=0.1, max=7 * 24 * 3600), **_finite)

    @pre_load
    def _route_data_as_text(self, data, **kwargs):
        """``route_data`` may be given as the route object itself, as well as its JSON text (the seed's)."""
        if isinstance(data, dict) and isinstance(data.get("route_data"), dict):
            try:
                data = {**data, "route_data": json.dumps(data["route_data"], allow_nan=False)}
            except (ValueError, RecursionError):  # NaN, integers too long to write, absurd nesting
                raise ValidationError("The route object cannot be written as JSON.", "route_data") from None
        return data


class TrackerControlSchema(Schema):
    """A control message for a running tracker (live socket or ``POST …/tracker/control/``).

    ``update_parameters`` takes ``proximity_threshold``, ``touch_duration``
    and ``route_id`` at the top level or under ``parameters``.
    """

    class Meta:
        unknown = EXCLUDE

    type = fields.String(required=True, validate=validate.OneOf(CONTROL_TYPES))
    proximity_threshold = fields.Float(validate=validate.Range(min=0, min_inclusive=False, max=1e6), **_finite)
    touch_duration = fields.Float(validate=validate.Range(min=0, max=600), **_finite)
    route_id = Int(validate=id_range())

    @pre_load
    def _flatten(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("parameters"), dict):
            data = {**{k: v for k, v in data.items() if k != "parameters"}, **data["parameters"]}
        return data

    @validates_schema
    def _parameters(self, data, **kwargs):
        given = [k for k in PARAMETERS if k in data]
        if data.get("type") == "update_parameters" and not given:
            raise ValidationError(f"Give at least one of {', '.join(PARAMETERS)}.", "parameters")
        if data.get("type") != "update_parameters" and given:
            raise ValidationError(f"Only update_parameters takes {', '.join(given)}.", "parameters")


class TrackerStateSchema(Schema):
    """``GET /api/sessions/<id>/tracker/``: whether a tracker runs and its task."""

    session_id = fields.String()
    running = fields.Boolean()
    task_id = fields.String(allow_none=True)
    task = fields.Nested(TaskSchema, allow_none=True)


class TrackerControlAcceptedSchema(Schema):
    """A control message forwarded to the running tracker: ``{"type": "control_forwarded", "control",
    "session_id", "task_id"}``; ``get_status`` and ``update_parameters`` answer with the tracker's own
    reply (``status``, ``parameters_updated``) and its fields instead."""

    class Meta:
        unknown = INCLUDE  # the tracker's replies carry their own fields

    type = fields.String()
    control = fields.String()
    session_id = fields.String()
    task_id = fields.String()
