"""``flask stream-pose`` as a real process: a real video and a recording through the relay (and the tracker)."""
from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import pytest
import websocket

from actors.tracker_runtime import TrackerRuntime
from motion.climbing import ClimbTracker, TrackerParameters, import_earlier_calibration, parse_route, parse_wall_svg
from tests.support.processes import BIN, ROOT

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


@pytest.mark.skipif(not VIDEO.exists() or not WALL_DIR.exists(), reason=f"real data not found under {DATA}")
def test_a_real_video_streams_valid_pose_messages_that_land_on_the_wall_through_the_tracker(web, env):
    wall = parse_wall_svg((WALL_DIR / "wall_2025-11-16.svg").read_bytes())
    cal = import_earlier_calibration(json.loads((WALL_DIR / "calibration_manual_points.json").read_text()),
                                     (wall.width, wall.height))
    route = parse_route((WALL_DIR / "route_session.json").read_text(), wall)
    tracker = ClimbTracker(wall, cal, route, TrackerParameters(proximity_threshold=40.0))
    base = web.replace("http://", "ws://")
    poses = Collector(base + "/ws/pose/")
    holds = Collector(base + "/ws/holds/")
    runtime = TrackerRuntime(tracker, base + "/ws/pose/", base + "/ws/holds/", reconnect_delay=0.1).start(wait=10)
    runner = threading.Thread(target=runtime.run, kwargs={"poll": 0.02})
    runner.start()
    time.sleep(0.3)
    done = stream_pose(env, "--video", str(VIDEO), "--start-frame", "390", "--max-frames", "45", "--url", base + "/ws/pose/", "--quiet")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["sent"] == 45
    time.sleep(0.5)
    runtime.request_stop()
    runner.join(5)
    poses.close(), holds.close()

    messages = [m for _, m in poses.items]
    assert len(messages) == 45
    stamps = [m["timestamp"] for m in messages]
    assert stamps == sorted(stamps) and stamps[-1] - stamps[0] == pytest.approx(44 / 30 * 1000, abs=2)
    assert stamps[0] > 1e12  # milliseconds since the epoch
    people = [m for m in messages if m["landmarks"]]
    assert len(people) >= 15
    for m in messages:
        assert set(m) == {"type", "timestamp", "width", "height", "landmarks"} and m["type"] == "pose"
        assert m["width"] > 0 and m["height"] > 0 and len(m["landmarks"]) in (0, 33)
        assert all(set(p) == {"x", "y", "z", "visibility"} for p in m["landmarks"])

    assert runtime.tracker.counters.accepted == 45 and runtime.tracker.counters.malformed == 0
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
