"""The OpenAPI document, built from the routes, their docstrings and schemas.

Endpoints declare their contract with :func:`contract`; the first docstring
line becomes the summary. ``/api/openapi.json`` serves the document and
``/api/docs`` a plain page listing it (no CDN is reachable, so no Swagger UI).
"""
from __future__ import annotations

import html
import re
from typing import Optional

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, current_app, jsonify
from marshmallow import validate

from app.schemas import INT_MAX

bp = Blueprint("openapi", __name__)

_METHODS = ("get", "post", "put", "patch", "delete")
_CONVERTER = re.compile(r"<(?:(?P<conv>[a-z]+):)?(?P<name>\w+)>")


def contract(*, body=None, query=None, response=None, status: int = 200, form: Optional[dict] = None,
             errors: tuple[int, ...] = ()):
    """Declare what an endpoint takes and answers (marshmallow schema classes or instances)."""

    def wrap(fn):
        fn.__contract__ = {"body": body, "query": query, "response": response, "status": status,
                           "form": form, "errors": errors}
        return fn

    return wrap


def _error_response(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def build_spec(app: Flask) -> dict:
    """The OpenAPI 3 document for every ``/api`` route and ``/healthz``."""
    plugin = MarshmallowPlugin()
    spec = APISpec(title="posequeue", version="1.0.0", openapi_version="3.0.3", plugins=[plugin],
                   info={"description": "Motion-analysis jobs: tasks, videos, climbing sessions."})
    plugin.converter.add_attribute_function(_exclusive_range)
    spec.components.schema("Error", {"type": "object", "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                       "fields": {"type": "object"}, "request_id": {"type": "string"}}}}})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "description": "An API token (flask tokens create USER)."})
    spec.components.security_scheme("cookie", {"type": "apiKey", "in": "cookie", "name": "pq_session",
                                               "description": "The login cookie set by POST /api/auth/login."})
    from app.auth import PUBLIC_ENDPOINTS

    paths: dict[str, dict] = {}
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/") or rule.rule == "/healthz") or rule.endpoint == "static":
            continue
        if getattr(rule, "websocket", False):
            continue
        view = app.view_functions[rule.endpoint]
        path = _CONVERTER.sub(lambda m: "{" + m.group("name") + "}", rule.rule)
        params = [{"name": m.group("name"), "in": "path", "required": True,
                   "schema": {"type": "integer", "minimum": 0, "maximum": INT_MAX} if m.group("conv") == "int"
                   else {"type": "string"}}
                  for m in _CONVERTER.finditer(rule.rule)]
        for method in sorted(m.lower() for m in rule.methods if m.lower() in _METHODS):
            op = _operation(view, params)
            if rule.endpoint in PUBLIC_ENDPOINTS:
                op["security"] = []
            else:
                op["responses"]["401"] = _error_response("Missing, unknown, expired or revoked credentials")
            paths.setdefault(path, {})[method] = op
    for path, operations in sorted(paths.items()):
        spec.path(path=path, operations=operations)
    document = spec.to_dict()
    document["security"] = [{"bearer": []}, {"cookie": []}]
    return document


def _exclusive_range(self, field, ret, **kwargs) -> dict:
    """``exclusiveMinimum`` / ``exclusiveMaximum`` for ranges that exclude their ends (apispec drops them)."""
    out = {}
    for v in field.validators:
        if isinstance(v, validate.Range):
            if v.min is not None and not v.min_inclusive:
                out["exclusiveMinimum"] = True
            if v.max is not None and not v.max_inclusive:
                out["exclusiveMaximum"] = True
    return out


def _operation(view, params: list) -> dict:
    doc = (view.__doc__ or "").strip()
    declared = getattr(view, "__contract__", {})
    op: dict = {"summary": doc.splitlines()[0] if doc else view.__name__,
                "tags": [view.__module__.rsplit(".", 1)[-1]], "parameters": list(params)}
    if len(doc.splitlines()) > 1:
        op["description"] = doc
    if declared.get("query") is not None:
        op["parameters"].append({"in": "query", "schema": declared["query"]})
    if declared.get("body") is not None:
        body = declared["body"]
        fields = (body() if isinstance(body, type) else body).fields
        # Required when the schema has a required field: an empty body is then a 400, not "valid".
        op["requestBody"] = {"required": any(f.required for f in fields.values()),
                             "content": {"application/json": {"schema": body}}}
    if declared.get("form"):
        files = [name for name, prop in declared["form"].items() if prop.get("format") == "binary"]
        op["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "properties": declared["form"], "required": files}}}}
    status = str(declared.get("status", 200))
    response = {"description": "OK"}
    if declared.get("response") is not None:
        response["content"] = {"application/json": {"schema": declared["response"]}}
    op["responses"] = {status: response, "default": _error_response("An error in the one error shape")}
    for code in declared.get("errors", ()):
        op["responses"][str(code)] = _error_response("Error")
    return op


@bp.get("/api/openapi.json")
def openapi_json():
    """The OpenAPI 3 document of this API."""
    return jsonify(build_spec(current_app))


@bp.get("/api/docs")
def docs_page():
    """A readable list of every endpoint, from the OpenAPI document."""
    spec = build_spec(current_app)
    rows = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            rows.append(f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                        f"<td>{html.escape(op.get('summary', ''))}</td></tr>")
    page = ("<!doctype html><meta charset=utf-8><title>posequeue API</title>"
            "<style>body{font:16px system-ui;margin:2em}td{padding:.3em .8em;border-bottom:1px solid #ddd}</style>"
            "<h1>posequeue API</h1><p>Machine-readable: <a href=/api/openapi.json>/api/openapi.json</a></p>"
            f"<table>{''.join(rows)}</table>")
    return page, 200, {"Content-Type": "text/html; charset=utf-8"}
