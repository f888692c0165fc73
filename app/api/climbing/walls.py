"""Walls (an uploaded SVG of holds) and their calibrations (seed 000)."""
from __future__ import annotations

import json

from flask import Blueprint, Response, request

from app.api.climbing.common import get_or_404, invalid, list_filters, page
from app.body import json_body
from app.openapi import contract
from app.ownership import owner_id, scoped
from app.schemas.climbing import (ArucoCalibrationSchema, CalibrationCreateSchema, CalibrationSchema, HoldSchema,
                                  ListQuerySchema, WallSchema)
from models.climbing import Calibration, Wall
from models.db import connected
from motion.climbing import calibrate_from_aruco, compute_calibration, import_earlier_calibration
from motion.errors import InvalidInput

bp = Blueprint("walls", __name__, url_prefix="/api/walls")
wall_schema, hold_schema, calibration_schema = WallSchema(), HoldSchema(), CalibrationSchema()
MAX_SVG_BYTES = 20 << 20


def _dump_calibration(record: Calibration, active_id) -> dict:
    record.active = record.id == active_id
    return calibration_schema.dump(record)


@bp.post("/", strict_slashes=False)
@contract(form={"svg": {"type": "string", "format": "binary"}, "name": {"type": "string", "maxLength": 200}},
          response=WallSchema, status=201, errors=(400, 413))
def create_wall():
    """Upload a wall: multipart ``svg`` file and ``name``; every <path> with an id is a hold."""
    errors = {}
    upload = request.files.get("svg")
    if upload is None:
        errors["svg"] = ["Upload the wall's SVG file as the multipart field 'svg'."]
    body = {"name": request.form.get("name") or (upload.filename.rsplit(".", 1)[0] if upload else "")}
    try:
        values = wall_schema.load(body)
    except Exception as exc:  # ValidationError: merge with the file's error
        errors.update(getattr(exc, "messages", {}))
        values = None
    if errors:
        raise invalid(errors)
    svg = upload.read(MAX_SVG_BYTES + 1)
    if len(svg) > MAX_SVG_BYTES:
        raise invalid({"svg": [f"The SVG is larger than {MAX_SVG_BYTES >> 20} MB."]})
    try:
        with connected():
            wall = Wall.from_svg(values["name"], svg, owner=owner_id())
            return wall_schema.dump(wall), 201
    except InvalidInput as exc:
        raise invalid({"svg": [str(exc)]}, str(exc)) from None


@bp.get("/", strict_slashes=False)
@contract(query=ListQuerySchema, errors=(400,))
def list_walls():
    """Walls, newest first, paginated."""
    list_filters()
    with connected():
        return page(scoped(Wall.select().order_by(Wall.id.desc()), Wall), wall_schema.dump)


@bp.get("/<int:wall_id>/", strict_slashes=False)
@contract(response=WallSchema, errors=(404,))
def get_wall(wall_id: int):
    """One wall."""
    with connected():
        return wall_schema.dump(get_or_404(Wall, wall_id, "wall"))


@bp.delete("/<int:wall_id>/", strict_slashes=False)
@contract(status=204, errors=(404,))
def delete_wall(wall_id: int):
    """Delete a wall with its calibrations and routes."""
    with connected():
        get_or_404(Wall, wall_id, "wall").delete_instance()
    return "", 204


@bp.get("/<int:wall_id>/holds/", strict_slashes=False)
@contract(errors=(404,))
def wall_holds(wall_id: int):
    """Every hold of the wall: id, path data, centroid and bounding box in wall units."""
    with connected():
        wall = get_or_404(Wall, wall_id, "wall")
    return {"wall": wall.id, "width": wall.width, "height": wall.height,
            "holds": hold_schema.dump(wall.holds, many=True)}


@bp.get("/<int:wall_id>/svg", strict_slashes=False)
@contract(errors=(404,))
def wall_svg(wall_id: int):
    """The wall's SVG as uploaded."""
    with connected():
        wall = get_or_404(Wall, wall_id, "wall")
    return Response(wall.svg, mimetype="image/svg+xml")


@bp.post("/<int:wall_id>/calibrations/", strict_slashes=False)
@contract(body=CalibrationCreateSchema, response=CalibrationSchema, status=201, errors=(400, 404))
def create_calibration(wall_id: int):
    """Calibrate the wall from point pairs, the earlier system's export, or an ArUco photo; it becomes active."""
    with connected():
        wall = get_or_404(Wall, wall_id, "wall")
    if "photo" in request.files:
        return _aruco(wall)
    body = json_body()
    try:
        if "manual_image_points" in body or "perspective_transform" in body:
            cal = import_earlier_calibration(body, (wall.width, wall.height))
            name, points = str(body.get("name") or "Imported calibration")[:200], None
        else:
            values = CalibrationCreateSchema().load(body)
            image = [p["image"] for p in values["points"]]
            wall_pts = [p["wall"] for p in values["points"]]
            cal = compute_calibration(image, wall_pts, (values["image_width"], values["image_height"]),
                                      method=values["method"],
                                      hand_extension_percent=values["hand_extension_percent"])
            name, points = values["name"], values["points"]
    except InvalidInput as exc:
        raise invalid({"points": [str(exc)]}, str(exc)) from None
    with connected():
        record = Calibration.store(wall, cal, name, points)
        return _dump_calibration(record, record.id), 201


def _aruco(wall: Wall):
    form = dict(request.form)
    try:
        form["marker_positions"] = json.loads(form.get("marker_positions") or "null")
    except ValueError:
        raise invalid({"marker_positions": ['Must be JSON: {"0": [x, y], "1": [x, y], …} in wall units.']}) from None
    if form["marker_positions"] is None:
        form.pop("marker_positions")
    values = ArucoCalibrationSchema().load(form)
    try:
        cal = calibrate_from_aruco(request.files["photo"].read(), values["marker_positions"],
                                   dictionary=values["dictionary"], method=values["method"])
    except InvalidInput as exc:
        raise invalid({"photo": [str(exc)]}, str(exc)) from None
    with connected():
        record = Calibration.store(wall, cal, values["name"] or "ArUco calibration")
        return _dump_calibration(record, record.id), 201


@bp.get("/<int:wall_id>/calibrations/", strict_slashes=False)
@contract(errors=(404,))
def list_calibrations(wall_id: int):
    """The wall's calibrations, newest first."""
    with connected():
        wall = get_or_404(Wall, wall_id, "wall")
        rows = Calibration.select().where(Calibration.wall == wall.id).order_by(Calibration.id.desc())
        return {"items": [_dump_calibration(r, wall.active_calibration_id) for r in rows]}


@bp.get("/<int:wall_id>/calibrations/active", strict_slashes=False)
@contract(response=CalibrationSchema, errors=(404,))
def active_calibration(wall_id: int):
    """The wall's active calibration."""
    with connected():
        wall = get_or_404(Wall, wall_id, "wall")
        record = Calibration.get_or_none(Calibration.id == wall.active_calibration_id) \
            if wall.active_calibration_id else None
    if record is None:
        from app.errors import ApiError

        raise ApiError(404, "not_found", f"Wall {wall_id} has no calibration yet.")
    return _dump_calibration(record, record.id)
