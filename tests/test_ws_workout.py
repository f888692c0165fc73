"""/ws/workout/ end to end: gunicorn+gevent (two workers) and a real Dramatiq worker analysing frames."""
from __future__ import annotations

import base64
import json
import threading
import time
from pathlib import Path

import pytest
import websocket

pytestmark = pytest.mark.e2e

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SQUAT = Path("/work/shared/data/videos/exercise/squat_side_3reps.mp4")
if not SQUAT.exists():
    SQUAT = DATA / "videos" / "exercise" / "squat_side_3reps.mp4"
SEED_WORKOUT_FIELDS = {"exercise", "confidence", "feedback", "angle", "reps", "landmarks_detected", "form_color",
                       "session_time", "frame_count"}


def connect(web: str) -> websocket.WebSocket:
    ws = websocket.create_connection(web.replace("http://", "ws://") + "/ws/workout/", timeout=20)
    hello = json.loads(ws.recv())
    assert hello["type"] == "system" and hello["payload"]["status"] == "initialized"
    return ws


def recv_type(ws, kind: str, timeout: float = 20) -> dict:
    """The next message of type ``kind`` (others are skipped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = json.loads(ws.recv())
        if message["type"] == kind:
            return message
    raise TimeoutError(f"no {kind} message in {timeout} s")


def data_url(bgr, quality: int = 80) -> str:
    import cv2

    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode()


def video_frames(path: Path, fps: float = 10.0, width: int = 640) -> list[str]:
    """The video resampled to ``fps`` as JPEG data URLs ``width`` pixels wide."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    src_fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    out, i, next_t = [], 0, 0.0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        if i / src_fps >= next_t - 1e-6:
            h, w = bgr.shape[:2]
            out.append(data_url(cv2.resize(bgr, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)))
            next_t += 1.0 / fps
        i += 1
    cap.release()
    return out


def test_system_message_reports_the_model_and_the_exercises(web):
    ws = websocket.create_connection(web.replace("http://", "ws://") + "/ws/workout/", timeout=20)
    hello = json.loads(ws.recv())
    ws.close()
    payload = hello["payload"]
    assert {"status", "message", "model_loaded", "supported_exercises"} <= set(payload)
    assert payload["model_loaded"] is False and "built-in classifier" in payload["message"]
    assert payload["supported_exercises"] == len(payload["exercises"]) and "squat" in payload["exercises"]
    assert payload["analyse_every"] == 2


@pytest.mark.skipif(not SQUAT.exists(), reason=f"real exercise video absent ({SQUAT}); ../shared/data not here")
def test_squat_video_at_10_fps_gets_squat_and_3_reps_then_summary_and_reset(web):
    frames = video_frames(SQUAT)
    ws = connect(web)
    results: list[dict] = []

    def sender():
        start = time.monotonic()
        for k, frame in enumerate(frames):  # real time: one frame every 100 ms
            time.sleep(max(0.0, start + k * 0.1 - time.monotonic()))
            ws.send(json.dumps({"type": "frame", "payload": frame}))

    thread = threading.Thread(target=sender)
    thread.start()
    expected_last = len(frames) if len(frames) % 2 else len(frames) - 1  # every 2nd frame, from the first
    while not results or results[-1]["frame_count"] < expected_last:
        message = recv_type(ws, "workout")
        results.append(message["payload"])
    thread.join()

    last = results[-1]
    assert SEED_WORKOUT_FIELDS <= set(last)
    counts = [r["frame_count"] for r in results]
    assert counts == sorted(counts) and len(set(counts)) == len(counts)  # in order, no repeats
    assert all(c % 2 == 1 for c in counts)  # every 2nd frame analysed
    assert len(results) + last["dropped_frames"] == (len(frames) + 1) // 2
    assert last["exercise"] == "squat" and last["reps"] == 3, [(r["exercise"], r["reps"]) for r in results[-5:]]
    assert isinstance(last["form_color"], list) and len(last["form_color"]) == 3
    assert any(len(r["landmarks"]) == 33 for r in results)
    assert 0.0 <= last["confidence"] <= 1.0

    ws.send(json.dumps({"type": "get_summary"}))
    summary = recv_type(ws, "summary")["payload"]
    assert summary["total_frames"] == len(frames)
    assert summary["exercise_details"]["squat"]["total_reps"] == 3
    assert {"session_duration", "exercises_performed", "dropped_frames"} <= set(summary)
    assert isinstance(summary["exercise_details"]["squat"]["best_form_score"], int)

    ws.send(json.dumps({"type": "reset"}))
    assert recv_type(ws, "system")["payload"]["status"] == "reset"
    ws.send(json.dumps({"type": "get_summary"}))
    empty = recv_type(ws, "summary")["payload"]
    assert empty["total_frames"] == 0 and empty["exercise_details"] == {}
    ws.send(json.dumps({"type": "frame", "payload": frames[0]}))
    again = recv_type(ws, "workout")["payload"]
    assert again["frame_count"] == 1 and again["reps"] == 0
    ws.close()


def _jpeg(width=320, height=240) -> str:
    import numpy as np

    return data_url(np.full((height, width, 3), 128, np.uint8))


@pytest.mark.parametrize("message, code", [
    ({"type": "frame", "payload": "data:image/jpeg;base64,@@not base64@@"}, "bad_frame"),
    ({"type": "frame", "payload": "data:image/png;base64," + base64.b64encode(b"hello, not an image").decode()},
     "bad_frame"),
    ({"type": "frame", "payload": "data:text/plain;base64,aGVsbG8="}, "bad_frame"),
    ({"type": "frame", "payload": 42}, "bad_frame"),
    ({"type": "frame", "payload": "data:image/jpeg;base64," + "A" * (1_500_000)}, "frame_too_large"),
    ({"type": "dance"}, "unknown_type"),
    ("not json at all", "bad_message"),
])
def test_bad_messages_get_an_error_and_the_connection_lives_on(web, message, code):
    ws = connect(web)
    ws.send(message if isinstance(message, str) else json.dumps(message))
    error = recv_type(ws, "error")
    assert error["error"]["code"] == code
    assert error["payload"]["message"] and error["payload"]["timestamp"].endswith("Z")
    ws.send(json.dumps({"type": "frame", "payload": _jpeg()}))
    payload = recv_type(ws, "workout")["payload"]
    assert payload["frame_count"] == 1 and payload["landmarks_detected"] is False
    ws.close()


def test_a_jpeg_that_does_not_decode_gets_an_error_from_the_worker(web):
    ws = connect(web)
    broken = "data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8\xff\xe0" + b"\x00" * 64).decode()
    ws.send(json.dumps({"type": "frame", "payload": broken}))
    error = recv_type(ws, "error")
    assert "decodable" in error["payload"]["message"]
    ws.send(json.dumps({"type": "frame", "payload": _jpeg()}))
    ws.send(json.dumps({"type": "frame", "payload": _jpeg()}))
    ws.send(json.dumps({"type": "frame", "payload": _jpeg()}))
    assert recv_type(ws, "workout")["payload"]["frame_count"] == 3
    ws.close()
