"""``flask stream-pose`` as a real process: a real video through the relay and the tracker actor (real worker)
to ``/ws/holds/`` and the live session socket; a recording replayed with its spacing."""
from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
import websocket

from motion.climbing import import_earlier_calibration, parse_wall_svg
from tests.support.processes import BIN, ROOT, wait_for

pytestmark = pytest.mark.e2e

DATA = ROOT.parent / "shared" / "data"
VIDEO = DATA / "videos" / "climbing" / "projectclimb_wall_climb_IMG_2568.mp4"
WALL_DIR = DATA / "walls" / "projectclimb"


def stream_pose(env, *args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "flask"), "--app", "tests.support.wsgi:create_app()", "stream-pose", *args],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


class Collector:
    def __init__(self, url: str) -> None:
        self.ws = websocket.create_connection(url, timeout=10)
        self.ws.settimeout(None)
        self.items: list[tuple[float, dict]] = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        try:
            while True:
                text = self.ws.recv()
                self.items.append((time.monotonic(), json.loads(text)))
        except Exception:
            pass

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def real_session(app):
    """The real wall, its manual-points calibration and its route in the database, and a session on that route."""
    from models.climbing import Calibration, Route, Session, Wall
    from models.db import connected

    svg = (WALL_DIR / "wall_2025-11-16.svg").read_bytes()
    wall = parse_wall_svg(svg)
    cal = import_earlier_calibration(json.loads((WALL_DIR / "calibration_manual_points.json").read_text()),
                                     (wall.width, wall.height))
    route = json.loads((WALL_DIR / "route_session.json").read_text())
    with connected():
        wall_row = Wall.create(name="projectclimb", svg=svg.decode(), width=wall.width, height=wall.height,
                               hold_count=len(wall.holds))
        cal_row = Calibration.create(wall=wall_row, method="points", data=cal.to_dict())
        Wall.update(active_calibration_id=cal_row.id).where(Wall.id == wall_row.id).execute()
        route_row = Route.create(wall=wall_row, name="session route", grade=route["grade"], author=route["author"],
                                 holds=route["problem"]["holds"])
        session = Session.create(route=route_row, climb_data={})
    return {"wall": wall, "wall_id": wall_row.id, "session": str(session.id)}


@pytest.mark.skipif(not VIDEO.exists() or not WALL_DIR.exists(), reason=f"real data not found under {DATA}")
def test_a_real_video_through_the_relay_and_the_tracker_actor_reaches_the_live_session_socket(web, env, real_session):
    """``flask stream-pose`` on a real climbing video → ``/ws/pose/`` → the ``track_pose_session`` actor on the real
    worker → ``/ws/holds/`` and the session's live socket, whose client sees the touched hold in ``climb_updated``.

    Frames 375–434 of IMG_2568: the climber's right hand stays on hold 201 (on the route) from about frame 393;
    with proximity 40 wall units and touch_duration 0.5 s the touch is confirmed at frame 408 (message time).
    """
    sid, wall = real_session["session"], real_session["wall"]
    base = web.replace("http://", "ws://")
    api = f"{web}/api/sessions/{sid}/tracker/"
    started = requests.post(api, json={"wall_id": real_session["wall_id"], "proximity_threshold": 40.0,
                                       "touch_duration": 0.5, "max_duration": 300})
    assert started.status_code == 202, started.text
    poses = Collector(base + "/ws/pose/")
    holds = Collector(base + "/ws/holds/")
    live = Collector(f"{base}/ws/session-live/{sid}/")
    try:
        # The tracker runs on the worker once its input socket is connected: then no frame is lost.
        def connected():
            answer = requests.post(api + "control/", json={"type": "get_status"})
            return answer.status_code == 200 and answer.json().get("input_connected")
        wait_for(connected, timeout=60, what="the tracker actor to connect to /ws/pose/")
        snapshot = wait_for(lambda: next((m for _, m in live.items if m["type"] == "climb_updated"), None),
                            timeout=10, what="the live socket's snapshot")
        assert all(h["status"] == "untouched" for h in snapshot["climb"].get("holds", ()))

        done = stream_pose(env, "--video", str(VIDEO), "--start-frame", "375", "--max-frames", "60",
                           "--url", base + "/ws/pose/", "--quiet")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout.strip().splitlines()[-1])["sent"] == 60

        def touched():
            return next((m for _, m in list(live.items) if m["type"] == "climb_updated" and any(
                h["id"] == "201" and h["status"] == "completed" for h in m["climb"].get("holds", ()))), None)
        update = wait_for(touched, timeout=30, what="climb_updated with hold 201 completed on the live socket")
        assert update["session_id"] == sid and update["version"] > snapshot["version"]
        assert update["climb"]["status"] == "started"
        status = wait_for(lambda: (lambda s: s if s.get("message_count") == 60 else None)(
            requests.post(api + "control/", json={"type": "get_status"}).json()), timeout=20,
            what="the tracker to take all 60 frames")
        assert status["tracker"]["accepted"] == 60 and status["tracker"]["malformed"] == 0

        stopped = requests.delete(api)
        assert stopped.status_code == 202
        wait_for(lambda: requests.get(api).json()["task"]["state"] == "SUCCESS", timeout=20, what="the tracker to end")
        result = requests.get(api).json()["task"]["result"]
        assert result["status"] == "success" and result["message_count"] == 60
        assert result["wall_id"] == real_session["wall_id"]
    finally:
        if requests.get(api).json().get("running"):
            requests.delete(api)
        time.sleep(0.3)
        poses.close(), holds.close(), live.close()

    # What the camera sent: MediaPipe pose messages in the documented format, in order, ms timestamps.
    messages = [m for _, m in poses.items]
    assert len(messages) == 60
    stamps = [m["timestamp"] for m in messages]
    assert stamps == sorted(stamps) and stamps[-1] - stamps[0] == pytest.approx(59 / 30 * 1000, abs=2)
    assert stamps[0] > 1e12  # milliseconds since the epoch
    people = [m for m in messages if m["landmarks"]]
    assert len(people) >= 15
    for m in messages:
        assert set(m) == {"type", "timestamp", "width", "height", "landmarks"} and m["type"] == "pose"
        assert m["width"] > 0 and m["height"] > 0 and len(m["landmarks"]) in (0, 33)
        assert all(set(p) == {"x", "y", "z", "visibility"} for p in m["landmarks"])

    # The live socket also streamed the wall pose (35 landmarks) as pose_updated.
    live_poses = [m for _, m in live.items if m["type"] == "pose_updated"]
    assert live_poses and all(len(m["pose"]) == 35 for m in live_poses)

    # The session record keeps the touch.
    from models.climbing import Session
    from models.db import connected

    with connected():
        climb = Session.find(sid).climb_data["climb"]
    assert any(h["id"] == "201" and h["status"] == "completed" and h["time"] for h in climb["holds"])

    outputs = [m for _, m in holds.items if "session" in m and m["pose"]]
    assert outputs, "the tracker streamed nothing"
    hands = [m["pose"][i] for m in outputs for i in (33, 34) if m["pose"][i]["visibility"] >= 0.5]
    assert len(hands) >= 15
    on_wall = [p for p in hands if -0.05 <= p["x"] <= 1.05 and -0.05 <= p["y"] <= 1.05]
    assert len(on_wall) >= 0.9 * len(hands), hands[:4]  # the hands land on the wall
    assert all(len(m["pose"]) == 35 for m in outputs)
    assert len(outputs[-1]["session"]["holds"]) == len(wall.holds)


def test_a_recording_is_replayed_with_its_spacing_in_seconds_or_milliseconds(web, env, tmp_path):
    url = web.replace("http://", "ws://") + "/ws/pose/"
    reader = Collector(url)
    lines = []
    for k in range(6):  # 0.2 s apart; the first half in s, the rest in ms
        t = 1_763_000_000.0 + 0.2 * k
        lines.append(json.dumps({"type": "pose", "timestamp": t if k < 3 else int(t * 1000), "width": 480,
                                 "height": 640, "landmarks": []}))
    recording = tmp_path / "poses.jsonl"
    recording.write_text("\n".join(lines) + "\n\n")
    time.sleep(0.2)
    done = stream_pose(env, "--jsonl", str(recording), "--url", url, "--speed", "2", "--quiet")
    assert done.returncode == 0, done.stderr
    time.sleep(0.3)
    arrivals = [t for t, _ in reader.items]
    assert len(arrivals) == 6
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    assert all(0.07 <= g <= 0.2 for g in gaps), gaps  # 0.2 s of message time at speed 2
    assert [m["timestamp"] for _, m in reader.items] == [json.loads(x)["timestamp"] for x in lines]
    reader.close()


def test_exactly_one_source_is_required(env):
    done = stream_pose(env, "--url", "ws://127.0.0.1:9/ws/pose/")
    assert done.returncode == 2 and "exactly one of --video, --camera or --jsonl" in done.stderr
