"""Recording on ``/ws/pose/`` (issue 4, the earlier system's protocol) against gunicorn+gevent."""
from __future__ import annotations

import json
import threading
import time

import pytest
import requests
import websocket

from models.climbing import SessionRecording
from models.db import connected
from tests.motion.test_climbing_tracker import LEFT, RIGHT, T0, pose_message
from tests.support.processes import wait_for

pytestmark = pytest.mark.e2e


def connect(web: str) -> websocket.WebSocket:
    return websocket.create_connection(web.replace("http://", "ws://") + "/ws/pose/", timeout=10)


def ask(ws, message: dict) -> dict:
    ws.send(json.dumps(message))
    return json.loads(ws.recv())


def pose(t: float) -> str:
    return json.dumps(pose_message(T0 + t, LEFT(t), RIGHT(t)))


class Reader:
    def __init__(self, web: str) -> None:
        self.ws = connect(web)
        self.ws.settimeout(None)
        self.messages: list[dict] = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        try:
            while True:
                self.messages.append(json.loads(self.ws.recv()))
        except Exception:
            pass


def test_a_publisher_records_its_pose_messages_at_a_bounded_rate_while_they_are_still_relayed(web):
    reader = Reader(web)
    pub = connect(web)
    time.sleep(0.2)
    try:
        assert ask(pub, {"type": "stop_recording"})["error"]["code"] == "bad_message"
        bad = ask(pub, {"type": "start_recording", "name": 5, "session_id": "nope"})
        assert bad["type"] == "error" and set(bad["error"]["fields"]) == {"name", "session_id"}
        started = ask(pub, {"type": "start_recording", "name": "attempt 1", "description": "left side"})
        assert started["type"] == "recording_started" and started["session_id"] and started["recording_id"]
        assert ask(pub, {"type": "start_recording", "name": "again"})["type"] == "error"

        paced = [0.1 * i for i in range(10)]          # 10/s: every frame kept
        for t in paced:
            pub.send(pose(t))
            time.sleep(0.1)
        burst = [1.0 + 0.001 * i for i in range(100)]  # as fast as possible: at most ~30/s kept
        began = time.monotonic()
        for t in burst:
            pub.send(pose(t))
        burst_time = time.monotonic() - began
        stopped = ask(pub, {"type": "stop_recording"})
        assert stopped["type"] == "recording_stopped" and stopped["recording_id"] == started["recording_id"]
        assert 10 <= stopped["frame_count"] <= 10 + 1 + int(burst_time * 30 / 0.9) + 1
        assert stopped["duration"] >= 1.0

        # The reader got every pose message and none of the recording messages.
        wait_for(lambda: len(reader.messages) >= 110, timeout=10, what="every pose message relayed")
        assert all(m["type"] == "pose" for m in reader.messages) and len(reader.messages) == 110

        recording = requests.get(f"{web}/api/session-recordings/{stopped['recording_id']}/").json()
        assert recording["session"] == started["session_id"] and recording["name"] == "attempt 1"
        assert recording["frame_count"] == stopped["frame_count"] == len(recording["frames"])
        assert recording["duration"] == stopped["duration"] and recording["end_time"]
        frames = recording["frames"]
        assert [f["frame_number"] for f in frames] == list(range(len(frames)))
        assert all(f["kind"] == "pose" and len(f["data"]["landmarks"]) == 33 for f in frames)
        assert [f["data"]["timestamp"] for f in frames[:10]] == [round((T0 + t) * 1000) for t in paced]
        stamps = [f["timestamp"] for f in frames]
        assert stamps == sorted(stamps)

        # The socket stays open for more: a second recording on the same session.
        again = ask(pub, {"type": "start_recording", "name": "attempt 2", "session_id": started["session_id"]})
        assert again["session_id"] == started["session_id"] and again["recording_id"] != started["recording_id"]
        pub.send(pose(3.0))
        assert ask(pub, {"type": "stop_recording"})["frame_count"] == 1
    finally:
        pub.close()
        reader.ws.close()


def test_a_publisher_that_disconnects_mid_recording_has_its_recording_closed(web):
    pub = connect(web)
    started = ask(pub, {"type": "start_recording", "name": "dropped"})
    for i in range(3):
        pub.send(pose(0.1 * i))
        time.sleep(0.05)
    pub.close()

    def closed():
        with connected():
            recording = SessionRecording.get_by_id(started["recording_id"])
        return recording.end_time is not None and recording

    recording = wait_for(closed, timeout=10, what="the recording to be closed")
    assert recording.frame_count == 3 and recording.duration > 0
