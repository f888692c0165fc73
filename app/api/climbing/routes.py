"""Routes (problems) on a wall, in the earlier system's format (seed 000)."""
from __future__ import annotations

from flask import Blueprint

from app.api.climbing.common import get_or_404, invalid, list_filters, page
from app.auth import current_principal
from app.body import json_body
from app.errors import ApiError
from app.openapi import contract
from app.ownership import owner_id, scoped
from app.schemas.climbing import ListQuerySchema, RouteSchema
from models.climbing import Route, Wall
from models.db import connected
from models.tasks import naive_utc, utcnow
from motion.climbing.holds import resolve_hold_id

bp = Blueprint("routes", __name__, url_prefix="/api/routes")
route_schema = RouteSchema()


def validated(body: dict, partial: bool = False) -> tuple[dict, Wall]:
    """The route fields and its wall; 400 naming unknown hold ids."""
    values = route_schema.load(body, partial=partial)
    wall = Wall.get_or_none(Wall.id == values["wall_id"])
    if wall is None or not current_principal().can_see(wall.owner):
        raise invalid({"wall_id": [f"No wall with id {values['wall_id']}."]})
    holds = values["problem"]["holds"]
    ids = wall.hold_ids()
    unknown = list(dict.fromkeys(h["id"] for h in holds if resolve_hold_id(h["id"], ids) is None))
    if unknown:
        listed = ", ".join(unknown)
        raise ApiError(400, "invalid", f"These route holds are not on the wall: {listed}.",
                       fields={"problem": {"holds": [f"These holds are not on wall {wall.id}: {listed}."]}},
                       unknown_holds=unknown)
    return values, wall


def dump(route: Route) -> dict:
    """A route as clients see it."""
    return route_schema.dump(route)


@bp.post("/", strict_slashes=False)
@contract(body=RouteSchema, response=RouteSchema, status=201, errors=(400,))
def create_route():
    """Create a route: wall_id, name, grade, author, problem.holds [{id, type: start|normal|finish}]."""
    with connected():
        values, wall = validated(json_body())
        route = Route.create(wall=wall, name=values["name"], grade=values["grade"], author=values["author"],
                             holds=values["problem"]["holds"], owner=owner_id())
        return dump(route), 201


@bp.get("/", strict_slashes=False)
@contract(query=ListQuerySchema, errors=(400,))
def list_routes():
    """Routes, newest first, optionally of one wall (``?wall_id=``)."""
    filters = list_filters()
    select = scoped(Route.select().order_by(Route.id.desc()), Route)
    if filters["wall_id"] is not None:
        select = select.where(Route.wall == filters["wall_id"])
    with connected():
        return page(select, dump)


@bp.get("/<int:route_id>/", strict_slashes=False)
@contract(response=RouteSchema, errors=(404,))
def get_route(route_id: int):
    """One route."""
    with connected():
        return dump(get_or_404(Route, route_id, "route"))


@bp.route("/<int:route_id>/", methods=["PUT", "PATCH"], strict_slashes=False)
@contract(body=RouteSchema, response=RouteSchema, errors=(400, 404))
def update_route(route_id: int):
    """Replace a route (PUT) or change some of its fields (PATCH)."""
    from flask import request

    with connected():
        route = get_or_404(Route, route_id, "route")
        body = json_body()
        if request.method == "PATCH":
            body = {"wall_id": route.wall_id, "name": route.name, "grade": route.grade, "author": route.author,
                    "problem": {"holds": route.holds}, **body}
        values, wall = validated(body)
        route.wall, route.name, route.grade, route.author = wall, values["name"], values["grade"], values["author"]
        route.holds, route.updated_at = values["problem"]["holds"], naive_utc(utcnow())
        route.save()
        return dump(route)


@bp.delete("/<int:route_id>/", strict_slashes=False)
@contract(status=204, errors=(404,))
def delete_route(route_id: int):
    """Delete a route (its sessions stay, without a route)."""
    with connected():
        get_or_404(Route, route_id, "route").delete_instance()
    return "", 204
