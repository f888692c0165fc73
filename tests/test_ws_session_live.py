"""/ws/session-live/<id>/ and /ws/session/<id>/ against gunicorn+gevent with two workers."""
from __future__ import annotations

import json
import struct
import time
import uuid

import pytest
import requests
import websocket

from models.climbing import Session
from models.db import connected
from models.session_live import save_recording
from tests.climbing_support import GENERATED_SVG, SMALL_ROUTE, start_web_waiting as start_web
from tests.support.processes import free_port

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def web(env, logs):
    """gunicorn+gevent with two workers (no Dramatiq worker needed here)."""
    port = free_port()
    proc = start_web(env, logs, port, workers=2)
    yield f"http://127.0.0.1:{port}"
    proc.stop()


def new_session(web: str) -> dict:
    wall = requests.post(f"{web}/api/walls/", files={"svg": ("w.svg", GENERATED_SVG)}, data={"name": "w"}).json()
    route = requests.post(f"{web}/api/routes/", json={"wall_id": wall["id"], "name": "r", **SMALL_ROUTE}).json()
    return requests.post(f"{web}/api/sessions/", json={"route": route["id"]}).json()


def connect(web: str, session_id: str, path: str = "session-live") -> websocket.WebSocket:
    return websocket.create_connection(f"{web.replace('http://', 'ws://')}/ws/{path}/{session_id}/", timeout=10)


def recv(ws) -> dict:
    return json.loads(ws.recv())


def recv_type(ws, kind: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = recv(ws)
        if message["type"] == kind:
            return message
    raise TimeoutError(kind)


def close_code(ws) -> int:
    """Read until the server's close frame; its status code."""
    while True:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return struct.unpack("!H", data[:2])[0]


def climb_with(session: dict, *completed: int) -> dict:
    climb = json.loads(json.dumps(session["climb_data"]["climb"]))
    for n in completed:
        climb["holds"][n].update(status="completed", time=f"2025-01-01T12:00:0{n}.000Z")
    return climb


def test_what_one_client_sends_every_client_on_either_worker_receives(web):
    session = new_session(web)
    sockets = [connect(web, session["id"]) for _ in range(6)]  # spread over both gunicorn workers
    for ws in sockets:
        first, second = recv(ws), recv(ws)
        assert first["type"] == "session_updated" and first["session"]["status"] == "started"
        assert second["type"] == "climb_updated" and second["climb"] == session["climb_data"]["climb"]
    climb = climb_with(session, 0)
    sockets[0].send(json.dumps({"type": "climb_update", "climb": climb}))
    for ws in sockets:
        assert recv_type(ws, "climb_updated")["climb"] == climb
    pose = [{"x": 0.5, "y": 0.25, "z": 0.0, "visibility": 0.9}] * 35
    sockets[1].send(json.dumps({"type": "pose_update", "pose": pose}))
    for ws in sockets:
        assert recv_type(ws, "pose_updated")["pose"] == pose
    sockets[2].send(json.dumps({"type": "session_update", "session": {"status": "completed"}}))
    for ws in sockets:
        updated = recv_type(ws, "session_updated")["session"]
        assert updated["status"] == "completed" and updated["end_time"].endswith("Z")
        ws.close()
    stored = requests.get(f"{web}/api/sessions/{session['id']}/").json()
    assert stored["climb_data"] == {"climb": climb, "pose": []} and stored["status"] == "completed"


def test_a_late_joiner_gets_the_current_state_first(web):
    session = new_session(web)
    early = connect(web, session["id"])
    recv(early), recv(early)
    climb = climb_with(session, 0, 1)
    early.send(json.dumps({"type": "climb_update", "climb": climb}))
    recv_type(early, "climb_updated")
    late = connect(web, session["id"])
    assert recv(late)["type"] == "session_updated"
    assert recv(late) == {"type": "climb_updated", "session_id": session["id"], "climb": climb,
                          "version": pytest.approx(1, abs=100)}
    early.close(), late.close()


def test_a_rest_update_reaches_the_sockets(web):
    session = new_session(web)
    ws = connect(web, session["id"])
    recv(ws), recv(ws)
    assert requests.put(f"{web}/api/sessions/{session['id']}/", json={"status": "abandoned"}).status_code == 200
    assert recv_type(ws, "session_updated")["session"]["status"] == "abandoned"
    ws.close()


@pytest.mark.parametrize("session_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_an_unknown_session_gets_an_error_then_close_code_4404(web, session_id):
    ws = connect(web, session_id)
    error = recv(ws)
    assert error["type"] == "error" and error["error"]["code"] == "not_found" and session_id in error["message"]
    assert close_code(ws) == 4404


@pytest.mark.parametrize("raw, words", [
    ("not json", "JSON"),
    ("[1]", "objects"),
    ('{"type": "dance"}', "Unknown message type"),
    ('{"type": "climb_update", "climb": 3}', "climb"),
    ('{"type": "climb_update", "climb": {"holds": [{"id": "0"}], "status": "won"}}', "invalid fields"),
    ('{"type": "climb_update", "climb": {"holds": [{"id": "zz", "type": "start", "status": "completed", "time": null}],'
     ' "startTime": null, "endTime": null, "status": "started"}}', "zz"),
    ('{"type": "session_update", "session": {"status": "flying"}}', "invalid fields"),
    ('{"type": "pose_update", "pose": [{"x": "left"}]}', "invalid fields"),
    ('{"type": "pose_update", "pose": 5}', "landmarks"),
])
def test_bad_messages_get_an_error_and_the_socket_stays_open(web, raw, words):
    session = new_session(web)
    ws = connect(web, session["id"])
    recv(ws), recv(ws)
    ws.send(raw)
    error = recv(ws)
    assert error["type"] == "error" and error["error"]["code"] == "bad_message" and words in error["message"]
    ws.send(json.dumps({"type": "pose_update", "pose": []}))
    assert recv(ws)["type"] == "pose_updated"
    ws.close()


def test_after_a_server_restart_and_lost_redis_state_the_state_comes_from_the_database(env, logs, redis_client):
    port = free_port()
    server = start_web(env, logs, port, name="web-restart")
    base = f"http://127.0.0.1:{port}"
    try:
        session = new_session(base)
        ws = connect(base, session["id"])
        recv(ws), recv(ws)
        climb = climb_with(session, 0, 2)
        ws.send(json.dumps({"type": "climb_update", "climb": climb}))
        recv_type(ws, "climb_updated")
        ws.close()
    finally:
        server.stop()
    redis_client.delete(f"pq:session:{session['id']}")
    server = start_web(env, logs, port, name="web-restarted")
    try:
        ws = connect(base, session["id"])
        assert recv(ws)["session"]["id"] == session["id"]
        assert recv(ws)["climb"] == climb
        ws.close()
    finally:
        server.stop()


# -- replay -------------------------------------------------------------------------

def recorded_session(frames: int = 40, fps: float = 20.0) -> str:
    """A session with a recording: ``frames`` poses at ``fps`` and a climb change at frame 10."""
    with connected():
        session = Session.create(climb_data={"climb": {}, "pose": []})
        entries = [{"t": 1000 + n / fps, "kind": "pose", "data": [{"x": n / 100, "y": 0.5}]} for n in range(frames)]
        entries.append({"t": 1000 + 9.5 / fps, "kind": "climb", "data": {"holds": [], "status": "started"}})
        save_recording(session, entries, name="replay test")
    return str(session.id)


def test_replay_streams_frames_with_the_recorded_timing_scaled_by_speed(web):
    ws = connect(web, recorded_session(), "session")
    ready = recv(ws)
    assert ready["type"] == "replay_ready" and ready["frame_count"] == 40
    ws.send(json.dumps({"type": "set_speed", "speed": 2}))
    assert recv(ws)["speed"] == 2
    ws.send(json.dumps({"type": "play"}))
    assert recv(ws)["playing"] is True
    started, frames, climbs = time.monotonic(), [], []
    while (message := recv(ws))["type"] != "replay_finished":
        (frames if message["type"] == "frame_data" else climbs).append(message)
    elapsed = time.monotonic() - started
    assert [f["frame_number"] for f in frames] == list(range(40))
    assert set(frames[5]) == {"type", "frame_number", "timestamp", "pose_data"}
    assert frames[5]["pose_data"] == [{"x": 0.05, "y": 0.5}] and frames[39]["timestamp"] == pytest.approx(1.95)
    assert len(climbs) == 1 and climbs[0]["frame_number"] == 10
    assert 0.9 < elapsed < 1.6  # 1.95 s of recording at speed 2
    ws.close()


def test_pause_and_seek_act_at_once_during_playback(web):
    ws = connect(web, recorded_session(frames=200, fps=10), "session")
    recv(ws)
    ws.send(json.dumps({"type": "play"}))
    recv(ws)
    recv_type(ws, "frame_data")
    ws.send(json.dumps({"type": "pause"}))
    while (message := recv(ws))["type"] != "replay_state":
        pass
    assert message["playing"] is False and message["frame_number"] < 5
    ws.settimeout(0.5)
    with pytest.raises(websocket.WebSocketTimeoutException):
        recv(ws)
    ws.settimeout(10)
    ws.send(json.dumps({"type": "seek", "frame_number": 150}))
    climb, frame, state = recv(ws), recv(ws), recv(ws)
    assert climb["type"] == "climb_updated"  # the climb as it was at frame 150
    assert frame["type"] == "frame_data" and frame["frame_number"] == 150
    assert state == {"type": "replay_state", "playing": False, "speed": 1.0, "frame_number": 151, "frame_count": 200}
    for bad in ('{"type": "seek", "frame_number": 999}', '{"type": "set_speed", "speed": 0}', '{"type": "rewind"}',
                "nope"):
        ws.send(bad)
        assert recv(ws)["type"] == "error"
    ws.close()


def test_an_ended_live_session_is_replayable_from_its_recorded_timeline(web):
    session = new_session(web)
    ws = connect(web, session["id"])
    recv(ws), recv(ws)
    for n in range(3):
        ws.send(json.dumps({"type": "pose_update", "pose": [{"x": n / 10, "y": 0.5, "z": 0, "visibility": 1}]}))
        recv_type(ws, "pose_updated")
        time.sleep(0.12)  # the timeline keeps at most 10 poses a second
    ws.send(json.dumps({"type": "climb_update", "climb": climb_with(session, 0)}))
    recv_type(ws, "climb_updated")
    ws.send(json.dumps({"type": "session_update", "session": {"status": "completed"}}))
    recv_type(ws, "session_updated")
    ws.close()
    recordings = requests.get(f"{web}/api/session-recordings/?session={session['id']}").json()["items"]
    assert len(recordings) == 1 and recordings[0]["frame_count"] == 3
    replay = connect(web, session["id"], "session")
    assert recv(replay)["frame_count"] == 3
    replay.send(json.dumps({"type": "play"}))
    kinds = []
    while (message := recv(replay))["type"] != "replay_finished":
        kinds.append(message["type"])
    assert kinds == ["replay_state", "frame_data", "frame_data", "frame_data", "climb_updated"]
    replay.close()
