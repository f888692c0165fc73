"""/api/walls/: SVG upload, holds, calibrations (points, the earlier export, ArUco)."""
from __future__ import annotations

import io
import math

import cv2
import numpy as np
import pytest

from tests.climbing_support import (GENERATED_SVG, REAL_CALIBRATION, REAL_SVG, load_json, needs_real_data,
                                    upload_wall)


def holds_by_id(client, wall_id):
    return {h["id"]: h for h in client.get(f"/api/walls/{wall_id}/holds/").json["holds"]}


def test_a_generated_wall_keeps_viewbox_units_and_applies_transforms_and_curves(client):
    response = upload_wall(client)
    assert response.status_code == 201, response.json
    wall = response.json
    assert (wall["width"], wall["height"], wall["hold_count"]) == (2000, 1500, 9)
    holds = holds_by_id(client, wall["id"])
    assert set(holds) == {"rect", "circle", "blob"} | {f"hold_{n}" for n in range(6)}
    assert holds["rect"]["bbox"] == pytest.approx([200, 300, 400, 400])
    assert holds["rect"]["centroid"] == pytest.approx([300, 350])
    assert holds["rect"]["area"] == pytest.approx(20000)
    assert holds["circle"]["centroid"] == pytest.approx([1000, 1000], abs=1e-6)
    # curves are flattened to within 0.25 wall units: the area lies between the two circles
    assert math.pi * 49.75 ** 2 <= holds["circle"]["area"] <= math.pi * 50 ** 2
    assert holds["circle"]["bbox"] == pytest.approx([950, 950, 1050, 1050], abs=0.5)
    assert holds["blob"]["centroid"] == pytest.approx([1600, 200], abs=1e-6)  # symmetric in both axes
    assert holds["rect"]["d"] == "M 0 0 H 100 V 50 H 0 Z"  # the path data as uploaded


def test_wall_list_detail_and_svg_return_what_was_uploaded(client):
    wall = upload_wall(client, name="Listed").json
    assert client.get(f"/api/walls/{wall['id']}/").json["name"] == "Listed"
    assert wall["id"] in [w["id"] for w in client.get("/api/walls/?per_page=200").json["items"]]
    svg = client.get(f"/api/walls/{wall['id']}/svg")
    assert svg.mimetype == "image/svg+xml" and svg.data.decode() == GENERATED_SVG


def test_the_real_projectclimb_wall_loads_with_all_142_holds(client):
    needs_real_data()
    wall = upload_wall(client, REAL_SVG.read_bytes(), "projectclimb").json
    assert (wall["width"], wall["height"], wall["hold_count"]) == (2500, 3330, 142)
    holds = holds_by_id(client, wall["id"])
    assert "hold_17" in holds and all(len(h["bbox"]) == 4 for h in holds.values())


@pytest.mark.parametrize("svg, field_words", [
    (b"not svg at all", "not a readable SVG"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect id="r" width="5" height="5"/></svg>',
     "no usable holds"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><path id="ok" d="M0 0 H5 V5 Z"/>'
     b'<path id="broken" d="M 0 0 L 5 banana"/></svg>', "broken"),
])
def test_bad_svgs_are_a_400_saying_what_is_wrong(client, svg, field_words):
    response = upload_wall(client, svg)
    assert response.status_code == 400
    assert field_words in response.json["error"]["fields"]["svg"][0]


def test_an_upload_without_file_or_name_lists_both_fields(client):
    response = client.post("/api/walls/", data={}, content_type="multipart/form-data")
    assert response.status_code == 400 and set(response.json["error"]["fields"]) == {"svg", "name"}


def test_unknown_walls_are_404(client):
    for path in ("/api/walls/999999/", "/api/walls/999999/holds/", "/api/walls/999999/svg",
                 "/api/walls/999999/calibrations/active"):
        assert client.get(path).status_code == 404


# -- calibrations -----------------------------------------------------------------

H = np.array([[1.6, 0.1, 20.0], [0.05, 1.5, 10.0], [0.0001, 0.0002, 1.0]])  # image px → wall units


def project(points):
    pts = np.c_[np.asarray(points, float), np.ones(len(points))] @ H.T
    return (pts[:, :2] / pts[:, 2:]).tolist()


def test_four_points_give_the_exact_transform_and_it_becomes_active(client):
    wall = upload_wall(client).json
    image = [[100, 100], [1100, 120], [1050, 800], [120, 780]]
    body = {"image_width": 1280, "image_height": 960,
            "points": [{"image": i, "wall": w} for i, w in zip(image, project(image))]}
    response = client.post(f"/api/walls/{wall['id']}/calibrations/", json=body)
    assert response.status_code == 201, response.json
    cal = response.json
    assert cal["method"] == "exact" and cal["active"] and cal["reprojection_error"] < 1e-6
    h = np.array(cal["perspective_transform"])
    assert np.allclose(h / h[2, 2], H / H[2, 2], atol=1e-6)
    active = client.get(f"/api/walls/{wall['id']}/calibrations/active").json
    assert active["id"] == cal["id"] and client.get(f"/api/walls/{wall['id']}/").json["active_calibration"] == cal["id"]


def test_many_points_with_one_bad_click_fit_robustly(client):
    wall = upload_wall(client).json
    image = [[x, y] for x in (100, 400, 700, 1000) for y in (100, 400, 700)]
    walls = project(image)
    walls[4] = [walls[4][0] + 300, walls[4][1] - 200]  # one badly clicked point
    body = {"image_width": 1280, "image_height": 960, "points": [{"image": i, "wall": w} for i, w in zip(image, walls)]}
    cal = client.post(f"/api/walls/{wall['id']}/calibrations/", json=body).json
    assert cal["method"] == "ransac" and cal["inliers"].count(False) == 1 and not cal["inliers"][4]
    assert cal["reprojection_error"] < 1e-3


@pytest.mark.parametrize("points, where, words", [
    ([[0, 0], [100, 0], [200, 0], [0, 100]], "points", "one line"),
    ([[0, 0], [0, 0], [100, 100], [0, 100]], "points", "same point"),
    ([[0, 0], [100, 0], [100, 100]], "points", "at least 4"),
])
def test_degenerate_calibration_points_are_a_400(client, points, where, words):
    wall = upload_wall(client).json
    body = {"image_width": 640, "image_height": 480,
            "points": [{"image": p, "wall": [p[0] * 2 + 1, p[1] * 3 + 2]} for p in points]}
    response = client.post(f"/api/walls/{wall['id']}/calibrations/", json=body)
    assert response.status_code == 400
    assert words in str(response.json["error"]["fields"][where])


def test_malformed_calibration_bodies_get_per_field_messages(client):
    wall = upload_wall(client).json
    response = client.post(f"/api/walls/{wall['id']}/calibrations/",
                           json={"image_width": -5, "points": [{"image": [1, "x"], "wall": [1]}] * 4})
    fields = response.json["error"]["fields"]
    assert response.status_code == 400 and {"image_width", "image_height", "points"} <= set(fields)
    assert client.post(f"/api/walls/{wall['id']}/calibrations/", data="{nope",
                       content_type="application/json").status_code == 400


def test_the_earlier_systems_export_imports_as_is(client):
    needs_real_data()
    wall = upload_wall(client, REAL_SVG.read_bytes(), "projectclimb").json
    export = load_json(REAL_CALIBRATION)
    response = client.post(f"/api/walls/{wall['id']}/calibrations/", json=export)
    assert response.status_code == 201, response.json
    cal = response.json
    assert cal["method"] == "imported-manual-points" and cal["hand_extension_percent"] == 20
    assert (cal["image_width"], cal["image_height"]) == (1005, 1384)  # twice the camera matrix's centre
    h = np.array(cal["perspective_transform"])
    corner = np.array(export["manual_image_points"][0]) * (1005, 1384)
    mapped = h @ [*corner, 1]
    assert mapped[:2] / mapped[2] == pytest.approx(np.array(export["manual_svg_points"][0]) * (2500, 3330), abs=1e-6)


MARKERS = {3: (150, 150), 7: (1050, 160), 11: (1040, 760), 20: (160, 740)}


def marker_photo(markers=MARKERS) -> bytes:
    canvas = np.full((900, 1200), 255, np.uint8)
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    for marker_id, (cx, cy) in markers.items():
        canvas[cy - 60:cy + 60, cx - 60:cx + 60] = cv2.aruco.generateImageMarker(dictionary, marker_id, 120)
    photo = cv2.warpPerspective(canvas, np.array([[0.9, 0.1, 80], [-0.05, 0.85, 60], [0.0001, 0.0002, 1]]),
                                (1400, 1100), borderValue=255)
    return cv2.imencode(".png", photo)[1].tobytes()


def test_a_photo_with_four_known_aruco_markers_calibrates_the_wall(client):
    wall = upload_wall(client).json
    positions = '{"3": [149.5, 149.5], "7": [1049.5, 159.5], "11": [1039.5, 759.5], "20": [159.5, 739.5]}'
    response = client.post(f"/api/walls/{wall['id']}/calibrations/", content_type="multipart/form-data",
                           data={"photo": (io.BytesIO(marker_photo()), "wall.png"), "marker_positions": positions})
    assert response.status_code == 201, response.json
    assert response.json["method"].startswith("aruco") and response.json["active"]
    assert (response.json["image_width"], response.json["image_height"]) == (1400, 1100)


def test_a_photo_with_too_few_markers_is_a_400_naming_those_found(client):
    wall = upload_wall(client).json
    photo = marker_photo({3: (150, 150), 7: (1050, 160)})
    response = client.post(f"/api/walls/{wall['id']}/calibrations/", content_type="multipart/form-data",
                           data={"photo": (io.BytesIO(photo), "wall.png"),
                                 "marker_positions": '{"3": [150, 150], "7": [1050, 160], "9": [5, 5], "10": [9, 9]}'})
    assert response.status_code == 400
    message = response.json["error"]["fields"]["photo"][0]
    assert "Markers found (DICT_4X4_50): 3, 7" in message


def test_aruco_uploads_with_bad_fields_are_400(client):
    wall = upload_wall(client).json
    for data in ({"photo": (io.BytesIO(b"junk"), "x.png"), "marker_positions": "{bad"},
                 {"photo": (io.BytesIO(b"junk"), "x.png")},
                 {"photo": (io.BytesIO(b"junk"), "x.png"), "marker_positions": '{"1": [0, 0]}'}):
        response = client.post(f"/api/walls/{wall['id']}/calibrations/", content_type="multipart/form-data",
                               data=data)
        assert response.status_code == 400, response.json
