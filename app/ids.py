"""Integer ids in URLs: only values a database integer column can hold match a route.

Werkzeug's ``int`` converter takes any number of digits; a 30-digit id then
reached the database and failed there (500). Here ``<int:…>`` stops at
``INT_MAX``, so larger ids simply match no route (404).
"""
from __future__ import annotations

import builtins

from flask import Flask
from werkzeug.routing import IntegerConverter

from app.schemas import INT_MAX


class IdConverter(IntegerConverter):
    """``<int:…>`` limited to ``0 … INT_MAX``."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = INT_MAX,
                 signed: bool = False) -> None:
        limit = INT_MAX if max is None else builtins.min(max, INT_MAX)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=limit, signed=signed)


def init_app(app: Flask) -> None:
    """Use :class:`IdConverter` for ``int``; call before any blueprint is registered."""
    app.url_map.converters["int"] = IdConverter
