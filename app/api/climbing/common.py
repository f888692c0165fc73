"""Helpers shared by the climbing endpoints."""
from __future__ import annotations

from flask import request
from peewee import Model

from app.errors import ApiError
from app.ownership import owned_or_404
from app.schemas.climbing import ListQuerySchema


def get_or_404(model: type[Model], key, what: str):
    """The caller's row with primary key ``key``, or a 404 naming ``what`` (someone else's is "missing" too)."""
    return owned_or_404(model, key, what)


def invalid(fields: dict, message: str = "The request has invalid fields; see 'fields'.") -> ApiError:
    """A 400 in the shape marshmallow errors get."""
    return ApiError(400, "invalid", message, fields=fields)


def page(select, dump) -> dict:
    """One page of ``select`` as ``{"items", "page", "per_page", "total"}``."""
    query = ListQuerySchema().load(request.args, partial=True)
    number, size = query.get("page", 1), query.get("per_page", 50)
    return {"items": [dump(row) for row in select.paginate(number, size)], "page": number, "per_page": size,
            "total": select.count()}


def list_filters() -> dict:
    """The list endpoints' validated filters."""
    return ListQuerySchema().load(request.args)
