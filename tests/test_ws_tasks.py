"""/ws/tasks/ against gunicorn+gevent (two workers) and a real Dramatiq worker."""
from __future__ import annotations

import json
import time

import pytest
import requests
import websocket

from actors.submit import submit
from tests.support import actors as test_actors

pytestmark = pytest.mark.e2e


def connect(web: str, path: str = "/ws/tasks/") -> websocket.WebSocket:
    return websocket.create_connection(web.replace("http://", "ws://") + path, timeout=10)


def send(ws, message) -> None:
    ws.send(message if isinstance(message, str) else json.dumps(message))


def receive_until(ws, task_id: str, types=("task_complete", "task_error"), timeout: float = 20) -> list[dict]:
    """Messages about ``task_id`` until one of ``types`` arrives."""
    out = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = json.loads(ws.recv())
        if message.get("task_id") == task_id:
            out.append(message)
            if message["type"] in types:
                return out
    raise TimeoutError(f"no {types} for {task_id}; got {out}")


def test_subscriber_gets_current_state_then_every_change_then_completion(web):
    task_id = submit(test_actors.count_to, 10, 0.1)["task_id"]
    ws = connect(web)
    send(ws, {"action": "subscribe", "task_id": task_id})
    messages = receive_until(ws, task_id)
    ws.close()
    assert messages[0]["type"] == "task_update"  # the current state, at once
    updates = [m for m in messages if m["type"] == "task_update"]
    progress = [m["progress"] for m in updates]
    assert progress == sorted(progress) and len(set(progress)) >= 5
    assert {"task_id", "status", "message", "progress", "eta_seconds", "data"} <= set(updates[-1])
    done = messages[-1]
    assert done == {"type": "task_complete", "task_id": task_id, "status": "completed",
                    "message": "Complete", "result": {"counted": 10, "items": []}}


def test_late_subscriber_to_a_finished_task_gets_its_completion(web):
    task_id = submit(test_actors.count_to, 1)["task_id"]
    deadline = time.monotonic() + 20
    while requests.get(f"{web}/api/task-status/{task_id}/").json()["state"] != "SUCCESS":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    ws = connect(web)
    send(ws, {"action": "subscribe", "task_id": task_id})
    message = json.loads(ws.recv())
    ws.close()
    assert message["type"] == "task_complete" and message["result"] == {"counted": 1, "items": []}


def test_failure_arrives_as_task_error_with_the_jobs_message(web):
    task_id = submit(test_actors.reject_input, "Frame range 900-1200 is past the end (600 frames).")["task_id"]
    ws = connect(web)
    send(ws, {"action": "subscribe", "task_id": task_id})
    last = receive_until(ws, task_id)[-1]
    ws.close()
    assert last["type"] == "task_error" and last["status"] == "failed"
    assert last["error"] == "Frame range 900-1200 is past the end (600 frames)."


@pytest.mark.parametrize("raw, words", [
    ("not json", "JSON"),
    ("[1, 2]", "objects"),
    ('{"action": "explode", "task_id": "x"}', "Unknown action"),
    ('{"action": "subscribe"}', "task_id"),
    ('{"action": "subscribe", "task_id": 12}', "task_id"),
])
def test_malformed_messages_get_an_error_and_the_socket_stays_open(web, raw, words):
    ws = connect(web)
    send(ws, raw)
    error = json.loads(ws.recv())
    assert error["type"] == "error" and error["error"]["code"] == "bad_message"
    assert words in error["message"]
    send(ws, {"action": "subscribe", "task_id": "missing-task"})
    follow_up = json.loads(ws.recv())
    ws.close()
    assert follow_up["error"]["code"] == "not_found"


def test_cancel_over_the_socket_ends_the_task_cancelled(web):
    task_id = submit(test_actors.count_to, 400, 0.05)["task_id"]
    ws = connect(web)
    send(ws, {"action": "subscribe", "task_id": task_id})
    receive_until(ws, task_id, types=("task_update",))
    while json.loads(ws.recv()).get("status") != "processing":
        pass
    send(ws, {"action": "cancel", "task_id": task_id})
    last = receive_until(ws, task_id)[-1]
    ws.close()
    assert last["type"] == "task_error" and last["status"] == "cancelled"


def test_unsubscribe_stops_the_updates(web):
    task_id = submit(test_actors.count_to, 30, 0.05)["task_id"]
    ws = connect(web)
    send(ws, {"action": "subscribe", "task_id": task_id})
    json.loads(ws.recv())
    send(ws, {"action": "unsubscribe", "task_id": task_id})
    while (message := json.loads(ws.recv()))["type"] != "unsubscribed":
        pass
    ws.settimeout(2.0)
    with pytest.raises(websocket.WebSocketTimeoutException):
        while True:
            message = json.loads(ws.recv())
            assert message.get("task_id") != task_id or message["type"] == "unsubscribed"
    ws.close()


def test_every_socket_on_either_web_process_sees_every_transition(web):
    sockets = [connect(web) for _ in range(12)]
    task_id = submit(test_actors.count_to, 8, 0.05)["task_id"]
    for ws in sockets:
        send(ws, {"action": "subscribe", "task_id": task_id})
    finals = []
    for ws in sockets:
        messages = receive_until(ws, task_id)
        finals.append(messages[-1]["type"])
        # Whatever the subscriber saw first, it saw the rest in order.
        progress = [m["progress"] for m in messages if m["type"] == "task_update"]
        assert progress == sorted(progress)
        ws.close()
    assert finals == ["task_complete"] * 12
