"""Sockets with authentication on, against a real gunicorn+gevent server (``secure_web``)."""
from __future__ import annotations

import json
import struct
import time

import pytest
import requests
import websocket

from actors.submit import submit
from tests.support import actors as test_actors

pytestmark = pytest.mark.e2e

SOCKET_PATHS = ("/ws/tasks/", "/ws/workout/", "/ws/pose/", "/ws/holds/", "/ws/session-live/{sid}/",
                "/ws/session/{sid}/")


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://") + path


def close_of(ws) -> tuple[int, str]:
    """The close code and reason the server sent first."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
            return code, data[2:].decode()
    raise TimeoutError("the server did not close the socket")


@pytest.fixture(scope="module")
def people(make_user):
    return {"alice": make_user("sock-alice")[1], "bob": make_user("sock-bob")[1]}


@pytest.fixture(scope="module")
def alice_session(secure_web, people):
    """A climbing session of alice's, made through the REST API."""
    from tests.climbing_support import GENERATED_SVG, SMALL_ROUTE

    auth = {"Authorization": f"Bearer {people['alice']}"}
    wall = requests.post(f"{secure_web}/api/walls/", headers=auth, data={"name": "w"},
                         files={"svg": ("w.svg", GENERATED_SVG.encode())}).json()
    route = requests.post(f"{secure_web}/api/routes/", headers=auth,
                          json={"wall_id": wall["id"], "name": "r", **SMALL_ROUTE}).json()
    return requests.post(f"{secure_web}/api/sessions/", headers=auth, json={"route": route["id"]}).json()["id"]


def test_every_socket_without_credentials_is_closed_with_4401_and_a_reason(secure_web, alice_session):
    for path in SOCKET_PATHS:
        ws = websocket.create_connection(ws_url(secure_web, path.format(sid=alice_session)), timeout=10)
        code, reason = close_of(ws)
        assert code == 4401, path
        assert "authentication required" in reason and "token" in reason
        ws.close()


def test_a_bad_token_is_closed_with_a_reason_naming_it(secure_web):
    ws = websocket.create_connection(ws_url(secure_web, "/ws/tasks/?token=pq_wrong"), timeout=10)
    assert close_of(ws) == (4401, "the token is unknown, expired or revoked")


def test_a_page_from_another_origin_is_refused_even_with_a_token(secure_web, people):
    ws = websocket.create_connection(ws_url(secure_web, f"/ws/tasks/?token={people['alice']}"), timeout=10,
                                     origin="https://evil.example")
    code, reason = close_of(ws)
    assert code == 4403 and "evil.example" in reason and "ALLOWED_ORIGINS" in reason
    same = websocket.create_connection(ws_url(secure_web, f"/ws/tasks/?token={people['alice']}"), timeout=10,
                                       origin=secure_web)
    same.send(json.dumps({"action": "subscribe", "task_id": "nope"}))
    assert json.loads(same.recv())["type"] == "error"  # accepted: it answered
    same.close()


def test_the_task_socket_follows_only_the_users_own_tasks(secure_web, people, make_user):
    alice_id = make_user("sock-alice")[0].id
    mine = submit(test_actors.count_to, 3, 0.05, owner=alice_id)["task_id"]
    bob = websocket.create_connection(ws_url(secure_web, f"/ws/tasks/?token={people['bob']}"), timeout=10)
    for action in ("subscribe", "cancel"):
        bob.send(json.dumps({"action": action, "task_id": mine}))
        answer = json.loads(bob.recv())
        assert answer["type"] == "error" and answer["error"]["code"] == "not_found", answer
    bob.close()
    alice = websocket.create_connection(ws_url(secure_web, f"/ws/tasks/?token={people['alice']}"), timeout=10)
    alice.send(json.dumps({"action": "subscribe", "task_id": mine}))
    seen = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(m["type"] == "task_complete" for m in seen):
        seen.append(json.loads(alice.recv()))
    assert seen[-1]["type"] == "task_complete" and seen[-1]["task_id"] == mine
    alice.close()


def test_the_login_cookie_opens_sockets_for_the_pages(secure_web, make_user):
    make_user("sock-cookie")
    login = requests.post(f"{secure_web}/api/auth/login", json={"name": "sock-cookie",
                                                                  "password": "sock-cookie-password-1"})
    cookie = login.cookies["pq_session"]
    ws = websocket.create_connection(ws_url(secure_web, "/ws/workout/"), timeout=10, cookie=f"pq_session={cookie}",
                                     origin=secure_web)
    assert json.loads(ws.recv())["type"] == "system"
    ws.close()


def test_another_users_session_socket_answers_not_found(secure_web, people, alice_session):
    for path in (f"/ws/session-live/{alice_session}/", f"/ws/session/{alice_session}/"):
        ws = websocket.create_connection(ws_url(secure_web, f"{path}?token={people['bob']}"), timeout=10)
        answer = json.loads(ws.recv())
        assert answer["type"] == "error" and answer["error"]["code"] == "not_found", path
        assert close_of(ws)[0] == 4404
    ws = websocket.create_connection(ws_url(secure_web, f"/ws/session-live/{alice_session}/?token={people['alice']}"),
                                     timeout=10)
    ws.send(json.dumps({"type": "session_update", "session": {"status": "started"}}))
    assert json.loads(ws.recv())["type"] in ("session_updated", "climb_updated", "session_state")
    ws.close()


def test_sockets_past_the_per_user_cap_are_closed_with_4429(secure_web, make_user):
    _, token = make_user("sock-many")
    url = ws_url(secure_web, f"/ws/tasks/?token={token}")
    held = [websocket.create_connection(url, timeout=10) for _ in range(4)]  # MAX_SOCKETS_PER_USER=4 here
    for ws in held:  # each is really open and served
        ws.send(json.dumps({"action": "unsubscribe", "task_id": "x"}))
        assert json.loads(ws.recv())["type"] == "unsubscribed"
    extra = websocket.create_connection(url, timeout=10)
    code, reason = close_of(extra)
    assert code == 4429 and "limit 4" in reason
    held.pop().close()
    time.sleep(0.3)
    again = websocket.create_connection(url, timeout=10)
    again.send(json.dumps({"action": "unsubscribe", "task_id": "x"}))
    assert json.loads(again.recv())["type"] == "unsubscribed"
    for ws in [*held, again]:
        ws.close()


def test_frames_past_the_rate_limit_get_an_error_and_are_dropped(secure_web, people):
    ws = websocket.create_connection(ws_url(secure_web, f"/ws/pose/?token={people['alice']}"), timeout=10)
    for i in range(30):  # WS_MAX_FPS=5 on this server: a burst of 5, then refusals
        ws.send(json.dumps({"timestamp": i, "landmarks": []}))
    answer = json.loads(ws.recv())
    assert answer["type"] == "error" and answer["error"]["code"] == "rate_limited"
    assert "WS_MAX_FPS" in answer["message"]
    ws.close()


def test_relays_keep_each_users_pose_stream_to_that_user(secure_web, people):
    def relay(person: str):
        return websocket.create_connection(ws_url(secure_web, f"/ws/pose/?token={people[person]}"), timeout=10)

    camera, own_display, other_display = relay("alice"), relay("alice"), relay("bob")
    time.sleep(0.3)  # joined
    camera.send(json.dumps({"timestamp": 1, "landmarks": [], "note": "alice's wall"}))
    assert json.loads(own_display.recv())["note"] == "alice's wall"
    other_display.settimeout(1.0)
    with pytest.raises(websocket.WebSocketTimeoutException):
        other_display.recv()
    for ws in (camera, own_display, other_display):
        ws.close()
