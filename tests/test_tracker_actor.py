"""``track_pose_session`` and ``flask run-tracker``: loading from the database, errors a person can act on, the result."""
from __future__ import annotations

import json
import subprocess
import threading
import time

import pytest
import websocket

from actors.tracker import track_pose_session
from models.climbing import Calibration, Route, Session, Wall
from models.db import connected
from tests.motion.test_climbing_tracker import CAL, LEFT, RIGHT, ROUTE, T0, TIMES, WALL_SVG, pose_message
from tests.support.processes import BIN, ROOT, wait_for


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


def _publish_until(pub, runtime_messages, frames, at_least: int, what: str) -> None:
    """Send ``frames`` in order (20 ms apart), then wait until the tracker counted ``at_least`` messages."""
    for text in frames:
        pub.send(text)
        time.sleep(0.02)
    wait_for(lambda: runtime_messages() >= at_least, timeout=15, what=what)


def _trace(times) -> list[str]:
    return [json.dumps(pose_message(T0 + t, LEFT(t), RIGHT(t))) for t in times]


def test_redis_going_away_mid_run_ends_the_run_with_the_seeds_error_dict(wall, web, tmp_path):
    """A real Redis (its own, so the rest of the suite keeps its own) stops while the tracker runs."""
    from actors.tracker import build_runtime, run_session
    from models.redis_client import make_redis
    from models.redis_server import EmbeddedRedis

    base = web.replace("http://", "ws://")
    live_redis = EmbeddedRedis(tmp_path / "redis").start()
    pub = None
    try:
        runtime = build_runtime(wall_id=wall["wall"], route_id=wall["route"], input_websocket_url=base + "/ws/pose/",
                                output_websocket_url=base + "/ws/holds/", proximity_threshold=30.0,
                                reconnect_delay=0.1, max_duration=60, redis_client=make_redis(live_redis.url))
        out: dict = {}
        runner = threading.Thread(target=lambda: out.update(run_session(runtime)), daemon=True)
        runner.start()
        wait_for(runtime.input.connected.is_set, timeout=10, what="the tracker's input socket")
        pub = websocket.create_connection(base + "/ws/pose/", timeout=10)
        frames = _trace(TIMES)
        # Until the relay delivers to the tracker (its join may trail the connect), then a few frames more.
        wait_for(lambda: pub.send(frames[0]) or runtime.tracker.counters.messages > 0, timeout=10,
                 what="the relay to deliver")
        _publish_until(pub, lambda: runtime.tracker.counters.accepted, frames[1:10], 5, "frames tracked")
        live_redis.stop()
        for text in frames[10:40]:
            pub.send(text)
            time.sleep(0.02)
        runner.join(20)
        assert not runner.is_alive()
    finally:
        live_redis.stop()
        if pub is not None:
            pub.close()
    assert set(out) == {"status", "message"} and out["status"] == "error", out
    assert "Redis, the live session store (REDIS_URL), became unreachable (ConnectionError)" in out["message"]
    assert out["message"].startswith(f"The tracker of session {runtime.session_id} stopped after ")
    assert "start the tracker for this session again" in out["message"]


@pytest.mark.e2e
def test_a_session_deleted_under_a_running_tracker_ends_the_task_with_the_seeds_error_dict(wall, web):
    """On the real worker: the tracker's next climb change finds no session; the task records the error dict
    as its result (no Dramatiq retry, no FAILURE)."""
    import requests

    with connected():
        sid = str(Session.create(route=wall["route"], climb_data={}).id)
    base = web.replace("http://", "ws://")
    api = f"{web}/api/sessions/{sid}/tracker/"
    started = requests.post(api, json={"wall_id": wall["wall"], "proximity_threshold": 30.0, "max_duration": 120})
    assert started.status_code == 202, started.text
    task_id = started.json()["task_id"]
    pub = websocket.create_connection(base + "/ws/pose/", timeout=10)
    try:
        def status() -> dict:
            answer = requests.post(api + "control/", json={"type": "get_status"})
            return answer.json() if answer.status_code == 200 else {}
        wait_for(lambda: status().get("input_connected"), timeout=60, what="the tracker to connect")
        frames = _trace(TIMES)
        wait_for(lambda: pub.send(frames[0]) or status().get("message_count", 0) > 0, timeout=10,
                 interval=0.2, what="the relay to deliver")
        # The start holds (0.5 s) and hold 15 (2.3 s) complete: the session's climb is written.
        _publish_until(pub, lambda: status().get("tracker", {}).get("holds_completed", 0), frames[1:25], 3,
                       "three holds")
        assert requests.delete(f"{web}/api/sessions/{sid}/").status_code == 204
        for text in frames[25:45]:  # hold 11 is touched at 3.9 s: a climb change for a session that is gone
            pub.send(text)
            time.sleep(0.02)
        task = wait_for(lambda: (lambda t: t if t["state"] not in ("PENDING", "STARTED", "PROGRESS") else None)(
            requests.get(f"{web}/api/task-status/{task_id}/").json()), timeout=30, what="the tracker task to end")
    finally:
        pub.close()
    assert task["state"] == "SUCCESS" and task["attempts"] <= 1, task
    result = task["result"]
    assert set(result) == {"status", "message"} and result["status"] == "error", result
    assert result["message"].startswith(f"The tracker of session {sid} stopped after ")
    assert "the session was deleted while it was being tracked" in result["message"]


def test_a_tracker_started_again_on_a_session_goes_on_from_its_saved_climb(wall):
    """The runtime the actor builds reads the session's climb back (no socket traffic needed)."""
    from actors.tracker import build_runtime
    from motion.climbing.route import format_time

    with connected():
        session = Session.create(route=wall["route"], climb_data={"climb": {
            "holds": [{"id": h["id"], "type": h["type"], "status": "completed" if k < 2 else "untouched",
                       "time": format_time(T0 + k) if k < 2 else None}
                      for k, h in enumerate(ROUTE["problem"]["holds"])],
            "startTime": format_time(T0 - 5), "endTime": None, "status": "started"}, "pose": []})
    runtime = build_runtime(wall_id=wall["wall"], session_id=str(session.id), proximity_threshold=30.0,
                            max_duration=5)
    climb = runtime.tracker.climb
    assert [h["status"] for h in climb["holds"]] == ["completed", "completed"] + ["untouched"] * 4
    assert climb["holds"][1]["time"] == format_time(T0 + 1) and climb["startTime"] == format_time(T0 - 5)
    # Another route's climb is not carried over.
    with connected():
        other = Session.create(climb_data={"climb": {"holds": [{"id": "99", "status": "completed",
                                                                 "time": format_time(T0)}]}, "pose": []})
    fresh = build_runtime(wall_id=wall["wall"], route_id=wall["route"], session_id=str(other.id), max_duration=5)
    assert all(h["status"] == "untouched" for h in fresh.tracker.climb["holds"])
