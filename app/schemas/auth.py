"""Login and token schemas."""
from marshmallow import Schema, fields, validate


class LoginSchema(Schema):
    """Body of ``POST /api/auth/login``."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=1024))


class UserSchema(Schema):
    """A user as clients see them."""

    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    is_admin = fields.Boolean(dump_only=True)


class LoginResultSchema(Schema):
    """Answer of a login: the user and when the login cookie expires."""

    user = fields.Nested(UserSchema, dump_only=True)
    expires_at = fields.String(dump_only=True)


class TokenCreateSchema(Schema):
    """Body of ``POST /api/auth/tokens/``."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    expires_days = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0.001, max=3650))


class TokenSchema(Schema):
    """A token as listed (never its secret)."""

    id = fields.Integer(dump_only=True)
    user = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    kind = fields.String(dump_only=True)
    prefix = fields.String(dump_only=True)
    created_at = fields.String(dump_only=True, allow_none=True)
    expires_at = fields.String(dump_only=True, allow_none=True)
    revoked_at = fields.String(dump_only=True, allow_none=True)
    last_used_at = fields.String(dump_only=True, allow_none=True)


class TokenCreatedSchema(TokenSchema):
    """A new token, with its secret: shown this once."""

    token = fields.String(dump_only=True)


class TokenListSchema(Schema):
    """The caller's tokens."""

    items = fields.List(fields.Nested(TokenSchema), dump_only=True)
