"""``track_pose_session`` and ``flask run-tracker``: loading from the database, errors a person can act on, the result."""
from __future__ import annotations

import json
import subprocess

import pytest

from actors.tracker import track_pose_session
from models.climbing import Calibration, Route, Session, Wall
from models.db import connected
from tests.motion.test_climbing_tracker import CAL, ROUTE, WALL_SVG
from tests.support.processes import BIN, ROOT


@pytest.fixture
def wall(app):
    with connected():
        wall = Wall.create(name="generated", svg=WALL_SVG, width=1000, height=1000)
        cal = Calibration.create(wall=wall, method="points", data=CAL.to_dict())
        route = Route.create(wall=wall, name="r", grade="6a", holds=ROUTE["problem"]["holds"])
        bare = Wall.create(name="uncalibrated", svg=WALL_SVG, width=1000, height=1000)
        Wall.update(active_calibration_id=cal.id).where(Wall.id == wall.id).execute()
    return {"wall": wall.id, "route": route.id, "bare": bare.id}


def test_errors_are_the_seeds_error_dict_with_a_message_a_person_can_act_on(wall):
    assert track_pose_session.fn(wall_id=987654) == {
        "status": "error", "message": "Wall 987654 does not exist; upload the wall or pass another wall_id."}
    no_cal = track_pose_session.fn(wall_id=wall["bare"])
    assert no_cal["status"] == "error" and "no active calibration" in no_cal["message"] and set(no_cal) == {
        "status", "message"}
    no_route = track_pose_session.fn(wall_id=wall["wall"], route_id=424242)
    assert no_route["status"] == "error" and "Route 424242 does not exist" in no_route["message"]
    bad_route = track_pose_session.fn(wall_id=wall["wall"], route_data='{"problem": {"holds": [{"id": "999"}]}}')
    assert bad_route["status"] == "error"


def test_the_actor_runs_to_its_maximum_duration_and_returns_the_seed_result(wall, web):
    base = web.replace("http://", "ws://")
    result = track_pose_session.fn(wall_id=wall["wall"], route_id=wall["route"], input_websocket_url=base + "/ws/pose/",
                                   output_websocket_url=base.replace("ws://", "http://") + "/ws/holds/",
                                   max_duration=0.5)
    assert set(result) == {"status", "message", "wall_id", "message_count", "elapsed_time", "average_rate"}
    assert result["status"] == "success" and result["wall_id"] == wall["wall"] and result["elapsed_time"] >= 0.5
    with connected():
        assert Session.select().count() >= 1


def test_flask_run_tracker_runs_with_the_same_options_and_prints_the_result(wall, web, env):
    base = web.replace("http://", "ws://")
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "tests.support.wsgi:create_app()", "run-tracker", "--wall-id", str(wall["wall"]),
         "--route-id", str(wall["route"]), "--input-websocket-url", base + "/ws/pose/",
         "--output-websocket-url", base + "/ws/holds/", "--touch-duration", "0.4", "--max-duration", "1"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == "success" and result["wall_id"] == wall["wall"]
    assert "tracking session" in done.stderr and "msgs" in done.stderr
