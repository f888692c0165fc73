"""Malformed frames on every socket path of the real gunicorn+gevent server.

The socket routes come from the app's url_map (flask-sock registers them with
``websocket=True``), so a new socket is fuzzed as soon as it exists; the test
also insists on the six it knows. Each socket gets non-JSON text, JSON that is
not an object, an unknown type, missing and wrong-typed fields, a binary
frame, a message over the app's and over the transport's size limits, and
JSON nested far too deep. Each must be answered with a socket ``error``
message (the shape of ``app.errors.socket_error``) on a socket that stays
open, or a clean close with a status code and a reason; never a connection
dropped without one. Afterwards every socket still answers a fresh
connection, ``/healthz`` is 200, and the web log shows no traceback.
"""
from __future__ import annotations

import json
import re
import struct
import time
from urllib.parse import quote
from dataclasses import dataclass, field
from typing import Callable, Optional

import pytest
import requests
import websocket

from tests.climbing_support import GENERATED_SVG, SMALL_ROUTE

pytestmark = pytest.mark.e2e

EXPECTED_SOCKETS = {"/ws/tasks/", "/ws/pose/", "/ws/holds/", "/ws/workout/", "/ws/session-live/<session_id>/",
                    "/ws/session/<session_id>/"}
#: Over the server's WS_MAX_MESSAGE_BYTES (1 MB) and the workout socket's own larger cap (~5.6 MB).
TRANSPORT_OVERSIZE = 8 << 20
#: Over the relays' RELAY_MAX_MESSAGE_BYTES (256 KB), under the transport limit.
APP_OVERSIZE = 600 << 10


@dataclass
class Outcome:
    """How the server answered one frame: an ``error`` message, a close, or a dropped connection."""

    kind: str  # "error" | "close" | "dropped" | "silent"
    message: Optional[dict] = None
    code: Optional[int] = None
    reason: str = ""


@dataclass
class SocketSpec:
    """What one socket takes: its message type key (None: a relay, any JSON object is a message),
    messages with missing or wrong-typed fields, and how to see that a fresh connection works."""

    type_key: Optional[str]
    wrong_fields: list[dict]
    alive: Callable[[str, dict], None]
    greeting: int = 0  # messages the server sends first on connect
    extra: list[str] = field(default_factory=list)


def ws_url(web: str, path: str) -> str:
    return web.replace("http://", "ws://") + path


def connect(web: str, path: str, greeting: int = 0, timeout: float = 10) -> websocket.WebSocket:
    ws = websocket.create_connection(ws_url(web, path), timeout=timeout)
    for _ in range(greeting):
        json.loads(ws.recv())
    return ws


def answer(ws: websocket.WebSocket, timeout: float = 10) -> Outcome:
    """Read until an ``error`` message, a close frame or the connection ending; skip other messages."""
    ws.settimeout(timeout)
    try:
        while True:
            opcode, data = ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
                return Outcome("close", code=code, reason=data[2:].decode("utf-8", "replace"))
            if opcode == websocket.ABNF.OPCODE_TEXT:
                message = json.loads(data)
                if message.get("type") == "error":
                    return Outcome("error", message=message)
    except websocket.WebSocketTimeoutException:
        return Outcome("silent")
    except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
        return Outcome("dropped")


def send(ws: websocket.WebSocket, frame) -> bool:
    """Send text or bytes; False if the server had already closed (it may, mid-send, on an oversize frame)."""
    try:
        if isinstance(frame, bytes):
            ws.send_binary(frame)
        else:
            ws.send(frame)
        return True
    except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
        return False


def check_error_shape(message: dict) -> None:
    """``{"type": "error", "message", "error": {"code", "message"}}`` without server internals."""
    assert message["type"] == "error" and isinstance(message["message"], str) and message["message"]
    assert isinstance(message["error"]["code"], str) and isinstance(message["error"]["message"], str)
    text = json.dumps(message)
    assert not re.search(r"Traceback|File \"|/(tmp|work|home|root)/|\.py\b|sqlite|psycopg|SELECT ", text), text


# -- the fresh-connection checks --------------------------------------------------------

def tasks_alive(web: str, ids: dict) -> None:
    ws = connect(web, "/ws/tasks/")
    ws.send(json.dumps({"action": "subscribe", "task_id": ids["task"]}))
    message = json.loads(ws.recv())
    assert message["task_id"] == ids["task"] and message["type"].startswith("task_"), message
    ws.close()


def relay_alive(path: str) -> Callable[[str, dict], None]:
    def alive(web: str, ids: dict) -> None:
        reader, writer = connect(web, path), connect(web, path)
        time.sleep(0.2)  # both joined the room
        writer.send(json.dumps({"type": "ping", "n": 1}))
        assert json.loads(reader.recv()) == {"type": "ping", "n": 1}
        reader.close(), writer.close()
    return alive


def workout_alive(web: str, ids: dict) -> None:
    ws = connect(web, "/ws/workout/")
    assert json.loads(ws.recv())["type"] == "system"
    ws.send(json.dumps({"type": "reset"}))
    assert json.loads(ws.recv())["payload"]["status"] == "reset"
    ws.close()


def live_alive(web: str, ids: dict) -> None:
    ws = connect(web, f"/ws/session-live/{ids['session_id']}/")
    assert json.loads(ws.recv())["type"] == "session_updated"
    ws.close()


def replay_alive(web: str, ids: dict) -> None:
    ws = connect(web, f"/ws/session/{ids['session_id']}/")
    assert json.loads(ws.recv())["type"] == "replay_ready"
    ws.close()


SPECS = {
    "/ws/tasks/": SocketSpec("action", [
        {"action": "subscribe"}, {"action": "subscribe", "task_id": 12}, {"action": "cancel", "task_id": ["x"]},
        {"action": "unsubscribe", "task_id": "x" * 500}, {"action": "subscribe", "task_id": "no-such-task"},
    ], tasks_alive),
    "/ws/pose/": SocketSpec(None, [
        {"type": "start_recording", "session_id": 5}, {"type": "start_recording", "name": ["x"]},
        {"type": "start_recording", "name": "a\x00b"},
        {"type": "stop_recording"},
    ], relay_alive("/ws/pose/")),
    "/ws/holds/": SocketSpec(None, [], relay_alive("/ws/holds/")),  # a relay: every JSON object is a message
    "/ws/workout/": SocketSpec("type", [
        {"type": "frame"}, {"type": "frame", "payload": 12}, {"type": "frame", "payload": "data:image/jpeg;base64,!!"},
        {"type": "frame", "payload": "data:text/html;base64,PGI+"}, {"type": "frame", "payload": "aGVsbG8="},
    ], workout_alive, greeting=1),
    "/ws/session-live/<session_id>/": SocketSpec("type", [
        {"type": "climb_update"}, {"type": "climb_update", "climb": {"holds": "x"}},
        {"type": "pose_update", "pose": [{"x": "a"}]}, {"type": "pose_update", "pose": [{"x": 1e400}]},
        {"type": "session_update", "session": {"status": 5}}, {"type": "session_update", "session": {"user": 10**20}},
        {"type": "update_parameters"}, {"type": "update_parameters", "route_id": "x"}, {"type": "get_status"},
    ], live_alive, greeting=2),
    "/ws/session/<session_id>/": SocketSpec("type", [
        {"type": "seek"}, {"type": "seek", "frame_number": "x"}, {"type": "seek", "frame_number": 10**30},
        {"type": "set_speed", "speed": -1}, {"type": "set_speed", "speed": "fast"}, {"action": 5},
    ], replay_alive, greeting=1),
}


def generic_frames(spec: SocketSpec) -> list[tuple[str, object]]:
    """Malformed frames every socket gets: ``(label, frame)``."""
    frames: list[tuple[str, object]] = [
        ("non-JSON text", "this is {not json"),
        ("empty text", ""),
        ("JSON array", "[1, 2, 3]"),
        ("JSON number", "42"),
        ("JSON string", '"subscribe"'),
        ("JSON null", "null"),
        ("NaN", '{"type": NaN}'),
        ("binary frame", b"\x00\xff\xfe binary \x89PNG"),
        ("binary JSON-looking frame", b'{"type": "frame"'),
        ("deeply nested array", "[" * 100_000),
        ("deeply nested objects", '{"a":' * 5_000 + "1" + "}" * 5_000),
        ("huge number", '{"n": ' + "9" * 5_000 + "}"),
        ("NUL in a string", '{"note": "a\\u0000b"}'),
        ("over the app's size limit", json.dumps({"type": "x" * APP_OVERSIZE})),
    ]
    if spec.type_key is not None:
        frames.append(("unknown type", json.dumps({spec.type_key: "no-such-type"})))
        frames.append(("wrong-typed type", json.dumps({spec.type_key: {"nested": True}})))
        frames.append(("no type", json.dumps({"hello": "world"})))
        frames.append(("lone surrogate type", '{"%s": "\\ud800"}' % spec.type_key))
    frames += [(f"fields: {json.dumps(m)[:60]}", json.dumps(m)) for m in spec.wrong_fields]
    return frames


# -- fixtures ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def socket_routes(app) -> list[str]:
    """Every socket route the app registers."""
    return sorted(rule.rule for rule in app.url_map.iter_rules() if getattr(rule, "websocket", False))


@pytest.fixture(scope="module")
def records(web) -> dict:
    """A session (route on a wall) with a replayable timeline, and a finished task."""
    wall = requests.post(f"{web}/api/walls/", files={"svg": ("w.svg", GENERATED_SVG)}, data={"name": "w"}).json()
    route = requests.post(f"{web}/api/routes/", json={"wall_id": wall["id"], "name": "r", **SMALL_ROUTE}).json()
    session = requests.post(f"{web}/api/sessions/", json={"route": route["id"]}).json()
    live = connect(web, f"/ws/session-live/{session['id']}/", greeting=2)
    live.send(json.dumps({"type": "pose_update", "pose": [{"x": 0.5, "y": 0.5}]}))
    assert json.loads(live.recv())["type"] == "pose_updated"
    live.close()
    task = requests.post(f"{web}/api/tasks/prune/", json={"older_than_days": 36500}).json()["task_id"]
    return {"session_id": session["id"], "task": task}


@pytest.fixture(scope="module")
def web_log(logs):
    """The web server's log, and where it stood before these tests."""
    path = logs / "web.log"
    return path, path.stat().st_size if path.exists() else 0


def concrete(rule: str, ids: dict) -> str:
    """A rule's URL with its parameters filled in from the seeded records."""
    def fill(match: re.Match) -> str:
        name = match.group(1)
        assert name in ids, f"no seeded value for <{name}> in {rule}: add one to the records fixture"
        return ids[name]
    return re.sub(r"<(?:\w+:)?(\w+)>", fill, rule)


# -- tests --------------------------------------------------------------------------------

def test_the_app_registers_the_known_sockets_and_each_has_malformed_examples(socket_routes):
    assert EXPECTED_SOCKETS <= set(socket_routes), set(socket_routes)
    missing = set(socket_routes) - set(SPECS)
    assert not missing, f"sockets without a SocketSpec (add their messages to SPECS): {missing}"


@pytest.mark.parametrize("rule", sorted(SPECS))
def test_malformed_frames_get_an_error_or_a_clean_close(web, records, socket_routes, rule):
    assert rule in socket_routes
    spec = SPECS[rule]
    path = concrete(rule, records)
    ws = connect(web, path, spec.greeting)
    problems = []
    for label, frame in generic_frames(spec):
        if not send(ws, frame):
            ws = connect(web, path, spec.greeting)
            problems.append(f"{label}: the server closed before the frame was sent")
            continue
        outcome = answer(ws)
        if outcome.kind == "error":
            check_error_shape(outcome.message)
            continue
        if outcome.kind == "close":
            if not (outcome.code and outcome.code != 1005 and outcome.reason):
                problems.append(f"{label}: closed without a code and reason ({outcome.code}, {outcome.reason!r})")
        else:
            problems.append(f"{label}: {outcome.kind}")
        ws = connect(web, path, spec.greeting)
    # Beyond the transport limit: a close with 1009 and a reason (the frame cannot even be read).
    send(ws, json.dumps({"type": "y" * TRANSPORT_OVERSIZE}))
    outcome = answer(ws)
    if not (outcome.kind == "close" and outcome.code == 1009 and outcome.reason):
        problems.append(f"over the transport limit: {outcome}")
    assert not problems, "\n".join(problems)
    spec.alive(web, records)


@pytest.mark.parametrize("rule", sorted(r for r in SPECS if "<" in r))
@pytest.mark.parametrize("value", ["not-a-uuid", "00000000-0000-0000-0000-000000000000", "%00", "x" * 2000,
                                   "..%2F..%2Fetc%2Fpasswd", "1;DROP TABLE session"])
def test_malformed_path_parameters_are_refused_cleanly(web, rule, value):
    """An error then close 4404 with a reason; or, refused at the handshake, a JSON 404 (no route matches,
    e.g. an encoded slash) or 400 (a NUL character)."""
    url = re.sub(r"<(?:\w+:)?(\w+)>", quote(value, safe="%"), rule)
    try:
        ws = connect(web, url)
    except websocket.WebSocketBadStatusException as exc:
        assert exc.status_code in (400, 404) and json.loads(exc.resp_body)["error"]["code"] in (
            "not_found", "bad_request")
        return
    outcome = answer(ws)
    assert outcome.kind == "error", outcome
    check_error_shape(outcome.message)
    outcome = answer(ws)
    assert outcome.kind == "close" and outcome.code == 4404 and outcome.reason, outcome


def test_after_all_that_the_server_answers_and_logged_no_traceback(web, records, web_log):
    for spec in SPECS.values():
        spec.alive(web, records)
    assert requests.get(f"{web}/healthz", timeout=5).status_code == 200
    path, start = web_log
    with open(path, "rb") as f:
        f.seek(start)
        written = f.read().decode("utf-8", "replace")
    assert "Traceback" not in written, written[-5000:]
