"""Task resource schemas."""
from marshmallow import Schema, fields, validate

from app.schemas import Int, id_range
from models.tasks import STATES


class TaskSchema(Schema):
    """A task as clients see it (the seed-004 shape plus fields)."""

    task_id = fields.String(dump_only=True)
    actor = fields.String(dump_only=True)
    arguments = fields.Dict(dump_only=True)
    owner = fields.Integer(dump_only=True, allow_none=True)
    state = fields.String(dump_only=True)
    progress = fields.Float(dump_only=True)
    status = fields.String(dump_only=True)
    result = fields.Raw(dump_only=True, allow_none=True)
    error = fields.String(dump_only=True, allow_none=True)
    eta_seconds = fields.Float(dump_only=True, allow_none=True)
    attempts = fields.Integer(dump_only=True)
    created_at = fields.String(dump_only=True, allow_none=True)
    started_at = fields.String(dump_only=True, allow_none=True)
    finished_at = fields.String(dump_only=True, allow_none=True)


class TaskListQuerySchema(Schema):
    """Filters and paging for ``GET /api/tasks/``."""

    state = fields.String(load_default=None, validate=validate.OneOf(STATES))
    actor = fields.String(load_default=None, validate=validate.Length(min=1, max=128))
    page = Int(load_default=1, validate=id_range())
    per_page = Int(load_default=50, validate=validate.Range(min=1, max=200))


class PruneTasksSchema(Schema):
    """Body of ``POST /api/tasks/prune/``."""

    older_than_days = Int(load_default=30, validate=validate.Range(min=0, max=36500))


class JobAcceptedSchema(Schema):
    """The 202 answer to every job submission."""

    task_id = fields.String(allow_none=True)
    status = fields.String()
    message = fields.String()


class TaskPageSchema(Schema):
    """One page of ``GET /api/tasks/``."""

    items = fields.List(fields.Nested(TaskSchema))
    page = Int()
    per_page = Int()
    total = Int()
