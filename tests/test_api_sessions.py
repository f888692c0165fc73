"""/api/sessions/ and /api/session-recordings/ (seed 001)."""
from __future__ import annotations

import uuid

from tests.climbing_support import SMALL_ROUTE, make_route, make_session, upload_wall


def test_a_new_session_starts_with_every_route_hold_untouched_in_the_seed_format(client):
    session = make_session(client)
    uuid.UUID(session["id"])
    assert session["status"] == "started" and session["end_time"] is None
    climb = session["climb_data"]["climb"]
    assert session["climb_data"]["pose"] == []
    assert climb["holds"] == [{"id": h["id"], "type": h["type"], "status": "untouched", "time": None}
                              for h in SMALL_ROUTE["problem"]["holds"]]
    assert climb["endTime"] is None and climb["status"] == "started"
    assert climb["startTime"].endswith("Z") and len(climb["startTime"]) == 24  # 2025-01-01T12:00:02.000Z


def test_sessions_are_read_listed_and_filtered(client):
    session = make_session(client)
    assert client.get(f"/api/sessions/{session['id']}/").json == session
    listed = client.get(f"/api/sessions/?route={session['route']}").json
    assert [s["id"] for s in listed["items"]] == [session["id"]]
    assert client.get("/api/sessions/?status=nope").status_code == 400


def test_put_changes_status_and_climb_and_ending_sets_the_end_time(client):
    session = make_session(client)
    climb = session["climb_data"]["climb"]
    climb["holds"][0].update(status="completed", time="2025-01-01T12:00:02.000Z")
    response = client.put(f"/api/sessions/{session['id']}/", json={"climb_data": {"climb": climb, "pose": []}})
    assert response.status_code == 200 and response.json["climb_data"]["climb"] == climb
    done = client.put(f"/api/sessions/{session['id']}/", json={"status": "completed"}).json
    assert done["status"] == "completed" and done["end_time"].endswith("Z")
    assert done["climb_data"]["climb"] == climb


def test_bad_session_input_is_a_400_or_404(client):
    session = make_session(client)
    sid = session["id"]
    assert client.post("/api/sessions/", json={"route": 999999}).json["error"]["fields"] == {
        "route": ["No route with id 999999."]}
    assert "status" in client.put(f"/api/sessions/{sid}/", json={"status": "won"}).json["error"]["fields"]
    bad_climb = {"climb": {"holds": [{"id": "0", "type": "start", "status": "completed", "time": None},
                                     {"id": "ghost", "type": "normal", "status": "untouched", "time": None}],
                           "startTime": None, "endTime": None, "status": "started"}}
    response = client.put(f"/api/sessions/{sid}/", json={"climb_data": bad_climb})
    assert response.status_code == 400 and "ghost" in str(response.json["error"]["fields"])
    assert client.put(f"/api/sessions/{sid}/", json={"climb_data": {"climb": {"holds": "x"}}}).status_code == 400
    for path in ("/api/sessions/not-a-uuid/", f"/api/sessions/{uuid.uuid4()}/"):
        assert client.get(path).status_code == 404
        assert client.put(path, json={"status": "abandoned"}).status_code == 404


def test_changing_the_route_starts_a_fresh_climb_on_it(client):
    session = make_session(client)
    wall = upload_wall(client).json
    other = make_route(client, wall["id"], {"problem": {"holds": [{"id": "hold_4", "type": "start"}]}})
    moved = client.put(f"/api/sessions/{session['id']}/", json={"route": other["id"]}).json
    assert moved["route"] == other["id"]
    assert [h["id"] for h in moved["climb_data"]["climb"]["holds"]] == ["hold_4"]


def test_deleting_a_session(client):
    session = make_session(client)
    assert client.delete(f"/api/sessions/{session['id']}/").status_code == 204
    assert client.get(f"/api/sessions/{session['id']}/").status_code == 404


def test_recordings_are_created_for_a_session_and_listed(client):
    session = make_session(client)
    body = {"session": session["id"], "name": "take 1", "video": "videos/12",
            "start_time": "2025-01-01T12:00:00Z", "end_time": "2025-01-01T12:01:30Z"}
    response = client.post("/api/session-recordings/", json=body)
    assert response.status_code == 201, response.json
    recording = response.json
    assert recording["duration"] == 90 and recording["session"] == session["id"]
    listed = client.get(f"/api/session-recordings/?session={session['id']}").json["items"]
    assert [r["id"] for r in listed] == [recording["id"]]
    assert client.get(f"/api/session-recordings/{recording['id']}/").json["frames"] == []


def test_bad_recordings_are_400(client):
    assert set(client.post("/api/session-recordings/", json={"name": 5}).json["error"]["fields"]) == {"session", "name"}
    assert client.post("/api/session-recordings/", json={"session": str(uuid.uuid4())}).status_code == 400
    session = make_session(client)
    response = client.post("/api/session-recordings/", json={
        "session": session["id"], "start_time": "2025-01-01T12:00:00Z", "end_time": "2025-01-01T11:00:00Z"})
    assert response.json["error"]["fields"] == {"end_time": ["end_time is before start_time."]}
