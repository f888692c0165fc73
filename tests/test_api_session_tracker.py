"""``/api/sessions/<id>/tracker/`` and tracker control through the API and the live socket.

End to end: gunicorn+gevent (2 workers) and a real Dramatiq worker run the
tracker; a publisher on ``/ws/pose/`` climbs, a reader on ``/ws/holds/`` and a
client of ``/ws/session-live/<id>/`` see it, and control it.
"""
from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
import requests
import websocket

from models.climbing import Calibration, Route, Session, Wall
from models.db import connected
from tests.motion.test_climbing_tracker import CAL, LEFT, RIGHT, ROUTE, T0, TIMES, WALL_SVG, pose_message
from tests.climbing_support import start_web_waiting
from tests.support.processes import free_port, wait_for


@pytest.fixture(scope="module")
def web(env, logs, worker):
    """This module's own gunicorn+gevent (2 workers) beside the real Dramatiq worker.

    Not the session ``web``: started this early in the run, that one would have its
    Prometheus files wiped by later gunicorn starts (gunicorn.conf.py ``on_starting``
    clears the shared PROMETHEUS_MULTIPROC_DIR), breaking test_observability.
    """
    port = free_port()
    proc = start_web_waiting(env, logs, port, workers=2, name="web-session-tracker")
    yield f"http://127.0.0.1:{port}"
    proc.stop()


@pytest.fixture
def tracked(app):
    """A calibrated generated wall, a route on it, and a session on that route."""
    with connected():
        wall = Wall.create(name="tracked", svg=WALL_SVG, width=1000, height=1000)
        cal = Calibration.create(wall=wall, method="points", data=CAL.to_dict())
        Wall.update(active_calibration_id=cal.id).where(Wall.id == wall.id).execute()
        route = Route.create(wall=wall, name="r", grade="6a", holds=ROUTE["problem"]["holds"])
        session = Session.create(route=route, climb_data={})
    return {"wall": wall.id, "route": route.id, "session": str(session.id)}


def test_unknown_session_is_404_and_bad_options_are_400_per_field(client, tracked):
    missing = str(uuid.uuid4())
    for method in ("get", "post", "delete"):
        response = getattr(client, method)(f"/api/sessions/{missing}/tracker/")
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert client.post(f"/api/sessions/{missing}/tracker/control/", json={"type": "stop"}).status_code == 404
    bad = client.post(f"/api/sessions/{tracked['session']}/tracker/",
                      json={"proximity_threshold": -1, "touch_duration": "soon", "input_websocket_url": "ftp://x",
                            "debug": "maybe"})
    assert bad.status_code == 400
    assert set(bad.json["error"]["fields"]) == {"proximity_threshold", "touch_duration", "input_websocket_url",
                                                "debug"}


def test_without_a_tracker_state_says_so_and_stop_and_control_are_409(client, tracked):
    url = f"/api/sessions/{tracked['session']}/tracker/"
    assert client.get(url).json == {"session_id": tracked["session"], "running": False, "task_id": None,
                                    "task": None}
    assert client.delete(url).status_code == 409
    response = client.post(url + "control/", json={"type": "get_status"})
    assert response.status_code == 409 and response.json["error"]["code"] == "not_running"


def test_control_messages_are_validated_before_anything_is_sent(client, tracked):
    url = f"/api/sessions/{tracked['session']}/tracker/control/"
    assert client.post(url, json={"type": "dance"}).json["error"]["fields"] == {
        "type": ["Must be one of: reset_holds, pause_output, resume_output, update_parameters, get_status, stop."]}
    assert "parameters" in client.post(url, json={"type": "update_parameters"}).json["error"]["fields"]
    assert "touch_duration" in client.post(url, json={"type": "update_parameters",
                                                      "parameters": {"touch_duration": -2}}).json["error"]["fields"]
    assert client.post(url, json={"type": "update_parameters", "route_id": 987654}).json["error"]["fields"] == {
        "route_id": ["No route with id 987654."]}


class Collector:
    """A socket client collecting every message in a thread."""

    def __init__(self, url: str) -> None:
        self.ws = websocket.create_connection(url, timeout=10)
        self.ws.settimeout(None)
        self.messages: list[dict] = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        try:
            while True:
                self.messages.append(json.loads(self.ws.recv()))
        except Exception:
            pass

    def wait(self, predicate, what: str, timeout: float = 15) -> dict:
        def found():
            return next((m for m in list(self.messages) if predicate(m)), None)

        return wait_for(found, timeout=timeout, what=what)

    def close(self) -> None:
        self.ws.close()


@pytest.mark.e2e
def test_start_control_and_stop_a_session_tracker_end_to_end(web, tracked):
    sid = tracked["session"]
    base, ws_base = f"{web}/api/sessions/{sid}/tracker/", web.replace("http://", "ws://")
    started = requests.post(base, json={"proximity_threshold": 30.0, "touch_duration": 0.5})
    assert started.status_code == 202, started.text
    body = started.json()
    assert body["status"] == "pending" and body["task_id"] and body["message"]
    again = requests.post(base, json={})
    assert again.status_code == 409 and again.json()["error"]["code"] == "tracker_running"

    wait_for(lambda: requests.get(base).json()["task"]["state"] in ("STARTED", "PROGRESS"), timeout=30,
             what="the tracker to start")
    state = requests.get(base).json()
    assert state["running"] is True and state["task_id"] == body["task_id"]
    assert state["task"]["arguments"]["kwargs"]["session_id"] == sid
    assert state["task"]["arguments"]["kwargs"]["input_websocket_url"].endswith("/ws/pose/")

    holds = Collector(ws_base + "/ws/holds/")
    live = Collector(f"{ws_base}/ws/session-live/{sid}/")
    pose = websocket.create_connection(ws_base + "/ws/pose/", timeout=10)
    try:
        # get_status on the live socket: answered to this client by the tracker itself.
        status = wait_for(lambda: (lambda a: a if a.get("type") == "status" else None)(
            requests.post(base + "control/", json={"type": "get_status"}).json()),
                          timeout=10, what="a status")
        assert status["type"] == "status" and status["wall_id"] == tracked["wall"]
        live.ws.send(json.dumps({"type": "get_status"}))
        answer = live.wait(lambda m: m["type"] == "status", "status on the live socket")
        assert answer["tracker"]["parameters"]["proximity_threshold"] == 30.0
        assert answer["input_connected"] is True

        # Climb the first part of the trace: the start holds complete.
        for t in TIMES[:25]:
            pose.send(json.dumps(pose_message(T0 + t, LEFT(t), RIGHT(t))))
            time.sleep(0.02)
        live.wait(lambda m: m["type"] == "climb_updated" and sum(
            h["status"] == "completed" for h in m["climb"].get("holds", ())) >= 2, "two holds completed")

        # reset_holds from the live socket → a session message flagged reset on both channels.
        live.ws.send(json.dumps({"type": "reset_holds"}))
        live.wait(lambda m: m["type"] == "control_forwarded" and m["control"] == "reset_holds", "the ack")
        reset = live.wait(lambda m: m["type"] == "climb_updated" and m.get("reset"), "climb_updated reset")
        assert all(h["status"] == "untouched" for h in reset["climb"]["holds"])
        out = holds.wait(lambda m: m.get("reset") is True, "reset on /ws/holds/")
        assert all(h["status"] == "untouched" for h in out["climb"]["holds"])

        # update_parameters through the API: the tracker's answer, then its status shows it.
        updated = requests.post(base + "control/", json={"type": "update_parameters",
                                                         "parameters": {"touch_duration": 0.3}})
        assert updated.status_code == 200 and updated.json()["type"] == "parameters_updated"
        assert updated.json()["parameters"] == {"touch_duration": 0.3}

        # pause_output: nothing more on /ws/holds/ while tracking goes on; resume brings it back.
        assert requests.post(base + "control/", json={"type": "pause_output"}).status_code == 202
        time.sleep(0.5)
        seen = len(holds.messages)
        for t in TIMES[25:30]:
            pose.send(json.dumps(pose_message(T0 + t, LEFT(t), RIGHT(t))))
            time.sleep(0.02)
        time.sleep(0.5)
        assert len(holds.messages) == seen
        assert requests.post(base + "control/", json={"type": "resume_output"}).status_code == 202
        time.sleep(0.3)
        pose.send(json.dumps(pose_message(T0 + TIMES[30], LEFT(TIMES[30]), RIGHT(TIMES[30]))))
        holds.wait(lambda m: m.get("timestamp") == round((T0 + TIMES[30]) * 1000), "output after resume")

        # A bad control message: an error for that client, and the socket stays open.
        live.ws.send(json.dumps({"type": "update_parameters", "proximity_threshold": "near"}))
        error = live.wait(lambda m: m["type"] == "error", "an error")
        assert error["error"]["code"] == "bad_message" and "proximity_threshold" in error["error"]["fields"]

        # DELETE: the tracker stops and returns the seed's result.
        stopped = requests.delete(base)
        assert stopped.status_code == 202 and stopped.json()["task_id"] == body["task_id"]
        wait_for(lambda: requests.get(base).json()["task"]["state"] == "SUCCESS", timeout=15,
                 what="the tracker to end")
        final = requests.get(base).json()
        assert final["running"] is False
        assert set(final["task"]["result"]) == {"status", "message", "wall_id", "message_count", "elapsed_time",
                                                "average_rate"}
        assert final["task"]["result"]["message_count"] >= 31

        # No tracker any more: the live socket answers get_status with an error, the API with 409.
        live.ws.send(json.dumps({"type": "get_status"}))
        live.wait(lambda m: m["type"] == "error" and m["error"]["code"] == "no_tracker", "no_tracker")
        assert requests.post(base + "control/", json={"type": "get_status"}).status_code == 409
        # And a new one may start.
        restarted = requests.post(base, json={"max_duration": 0.5})
        assert restarted.status_code == 202 and restarted.json()["task_id"] != body["task_id"]
        wait_for(lambda: requests.get(base).json()["task"]["state"] == "SUCCESS", timeout=20,
                 what="the second tracker to reach its maximum duration")
    finally:
        pose.close()
        holds.close()
        live.close()
