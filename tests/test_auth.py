"""Users, tokens, ownership and limits, in process (real Redis and database)."""
from __future__ import annotations

import hashlib
import os

import pytest

from models.db import connected
from models.users import Token
from tests.climbing_support import make_route, make_session, upload_wall
from tests.motion.videogen import make_video


def as_user(app, token: str):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


@pytest.fixture(scope="module")
def alice(app, make_user):
    return as_user(app, make_user("alice")[1])


@pytest.fixture(scope="module")
def bob(app, make_user):
    return as_user(app, make_user("bob")[1])


def test_a_request_without_credentials_gets_401_saying_how_to_authenticate(anonymous):
    response = anonymous.get("/api/tasks/")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert "Bearer" in response.json["error"]["message"] and "/login" in response.json["error"]["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_health_api_description_and_login_page_need_no_credentials(anonymous):
    assert anonymous.get("/healthz").status_code in (200, 503)
    assert anonymous.get("/api/openapi.json").status_code == 200
    assert anonymous.get("/login").status_code == 200


def test_pages_redirect_to_the_login_page_without_a_login(anonymous):
    response = anonymous.get("/videos")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/videos")


def test_an_unknown_or_malformed_token_is_refused(anonymous):
    for header in ("Bearer pq_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 5000):
        response = anonymous.get("/api/videos/", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_tokens_are_stored_only_as_hashes(make_user):
    user, raw = make_user("hash-check")
    with connected():
        stored = [t.token_hash for t in Token.select().where(Token.user == user)]
    assert hashlib.sha256(raw.encode()).hexdigest() in stored
    assert raw not in stored


def test_a_revoked_token_stops_working_at_once(app, make_user):
    from models.users import revoke

    _, raw = make_user("revoker")
    client = as_user(app, raw)
    assert client.get("/api/auth/me").json["name"] == "revoker"
    with connected():
        assert revoke(raw[:10]) == 1
    assert client.get("/api/auth/me").status_code == 401


def test_an_expired_token_is_refused(app, make_user):
    from datetime import timedelta

    from models.users import issue_token

    user, _ = make_user("expiring")
    with connected():
        token, raw = issue_token(user, "short", expires_in=timedelta(seconds=-1))
    assert as_user(app, raw).get("/api/auth/me").status_code == 401


def test_login_sets_an_httponly_samesite_cookie_that_logout_revokes(app, make_user):
    make_user("browser-user")
    client = app.test_client()
    assert client.post("/api/auth/login", json={"name": "browser-user", "password": "nope-nope-nope"}).status_code == 401
    response = client.post("/api/auth/login", json={"name": "browser-user", "password": "browser-user-password-1"})
    assert response.status_code == 200 and response.json["user"]["name"] == "browser-user"
    cookie = response.headers["Set-Cookie"]
    assert "pq_session=pq_" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/api/auth/me").json["name"] == "browser-user"
    assert client.get("/videos").status_code == 200
    stolen = client.get_cookie("pq_session").value
    assert client.post("/api/auth/logout").status_code == 204
    other = app.test_client()
    other.set_cookie("pq_session", stolen)
    assert other.get("/api/auth/me").status_code == 401


def test_a_cookie_cannot_be_used_by_another_sites_page_to_change_things(app, make_user):
    make_user("csrf-user")
    client = app.test_client()
    client.post("/api/auth/login", json={"name": "csrf-user", "password": "csrf-user-password-1"})
    evil = client.post("/api/tasks/prune/", json={}, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and evil.json["error"]["code"] == "bad_origin"
    same = client.post("/api/routes/", json={}, headers={"Origin": "http://localhost"})
    assert same.status_code == 400  # got past the origin check to validation


def test_repeated_wrong_passwords_are_slowed_to_429(app, make_user):
    make_user("guessed")
    client = app.test_client()
    codes = [client.post("/api/auth/login", json={"name": "guessed", "password": f"guess-{i}"}).status_code
             for i in range(11)]
    assert codes[:10] == [401] * 10 and codes[10] == 429
    right = client.post("/api/auth/login", json={"name": "guessed", "password": "guessed-password-1"})
    assert right.status_code == 429  # the window has to pass first


def test_every_climbing_record_of_another_user_answers_404_and_is_not_listed(alice, bob, client):
    wall = upload_wall(alice).json
    route = make_route(alice, wall["id"])
    session = make_session(alice, route)
    recording = alice.post("/api/session-recordings/", json={"session": session["id"], "name": "take"}).json
    for path in (f"/api/walls/{wall['id']}/", f"/api/walls/{wall['id']}/holds/", f"/api/walls/{wall['id']}/svg",
                 f"/api/walls/{wall['id']}/calibrations/", f"/api/routes/{route['id']}/",
                 f"/api/sessions/{session['id']}/", f"/api/sessions/{session['id']}/tracker/",
                 f"/api/session-recordings/{recording['id']}/"):
        assert alice.get(path).status_code == 200, path
        denied = bob.get(path)
        assert denied.status_code == 404, path
        assert denied.json["error"]["code"] == "not_found"
        assert client.get(path).status_code == 200, path  # the admin sees all
    assert bob.delete(f"/api/walls/{wall['id']}/").status_code == 404
    assert bob.patch(f"/api/routes/{route['id']}/", json={"name": "mine now"}).status_code == 404
    assert bob.put(f"/api/sessions/{session['id']}/", json={"status": "completed"}).status_code == 404
    # Someone else's wall or session cannot be built upon either.
    assert bob.post("/api/routes/", json={"wall_id": wall["id"], "name": "x", "problem": {"holds": []}}).status_code == 400
    assert bob.post("/api/sessions/", json={"route": route["id"]}).status_code == 400
    assert bob.post("/api/session-recordings/", json={"session": session["id"], "name": "x"}).status_code == 400
    for listing, key in (("/api/walls/", wall["id"]), ("/api/routes/", route["id"]),
                         ("/api/sessions/", session["id"]), ("/api/session-recordings/", recording["id"])):
        assert key in [item["id"] for item in alice.get(listing).json["items"]], listing
        assert key not in [item["id"] for item in bob.get(listing).json["items"]], listing
    assert alice.get(f"/api/walls/{wall['id']}/").json["owner"] == alice.get("/api/auth/me").json["id"]


def test_videos_and_their_tasks_of_another_user_answer_404(alice, bob, client, tmp_path):
    clip = make_video(tmp_path / "mine.mp4", frames=10)
    with open(clip, "rb") as f:
        video = alice.post("/api/videos/", data={"file": (f, "mine.mp4")}, content_type="multipart/form-data").json
    job = alice.post(f"/api/video-analyze/{video['id']}/", json={}).json
    for path in (f"/api/videos/{video['id']}/", f"/api/videos/{video['id']}/file",
                 f"/api/task-status/{job['task_id']}/"):
        assert alice.get(path).status_code == 200, path
        assert bob.get(path).status_code == 404, path
    assert bob.post(f"/api/video-apply-mask/{video['id']}/", json={"faces": True}).status_code == 404
    assert bob.post(f"/api/tasks/{job['task_id']}/cancel/").status_code == 404
    assert alice.get(f"/api/task-status/{job['task_id']}/").json["state"] != "CANCELLED"
    assert job["task_id"] not in [t["task_id"] for t in bob.get("/api/tasks/").json["items"]]
    assert job["task_id"] in [t["task_id"] for t in alice.get("/api/tasks/").json["items"]]
    assert video["id"] not in [v["id"] for v in bob.get("/api/videos/").json["items"]]
    assert bob.delete(f"/api/videos/{video['id']}/").status_code == 404
    assert alice.get(f"/api/videos/{video['id']}/").status_code == 200
    assert bob.post("/api/tasks/prune/", json={}).status_code == 403  # everyone's history: admins only


def test_paths_that_leave_the_media_root_are_refused(alice, app, tmp_path):
    session = make_session(alice)
    root = app.config["POSEQUEUE"].effective_media_root
    root.mkdir(parents=True, exist_ok=True)
    link = root / "escape-link"
    if not link.exists():
        os.symlink(tmp_path, link)
    for bad in ("../secrets.txt", "/etc/passwd", "videos/../../x.mp4", "escape-link/x.mp4", ".."):
        response = alice.post("/api/session-recordings/", json={"session": session["id"], "name": "t", "video": bad})
        assert response.status_code == 400, bad
        assert "media folder" in response.json["error"]["message"]
        assert str(tmp_path) not in response.get_data(as_text=True)
    ok = alice.post("/api/session-recordings/", json={"session": session["id"], "name": "t", "video": "videos/./a.mp4"})
    assert ok.status_code == 201 and ok.json["video"] == "videos/a.mp4"


def test_a_json_body_over_the_limit_is_413(client, app):
    limit = app.config["POSEQUEUE"].max_json_bytes
    response = client.post("/api/routes/", data=b"{" + b" " * limit + b"}", content_type="application/json")
    assert response.status_code == 413
    assert "MAX_JSON_BYTES" in response.json["error"]["message"]


def test_api_tokens_are_created_listed_and_revoked_by_their_user(alice, bob, app):
    created = alice.post("/api/auth/tokens/", json={"name": "wall display", "expires_days": 30})
    assert created.status_code == 201 and created.json["token"].startswith("pq_")
    device = as_user(app, created.json["token"])
    assert device.get("/api/auth/me").json["name"] == "alice"
    listed = alice.get("/api/auth/tokens/").json["items"]
    assert any(t["name"] == "wall display" and "token" not in t for t in listed)
    assert bob.delete(f"/api/auth/tokens/{created.json['id']}/").status_code == 404
    assert alice.delete(f"/api/auth/tokens/{created.json['id']}/").status_code == 204
    assert device.get("/api/auth/me").status_code == 401


def test_cli_creates_users_and_tokens_and_revokes_them(app):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["users", "create", "cli-person"])
    assert made.exit_code == 0 and "password:" in made.output
    again = runner.invoke(args=["users", "create", "cli-person"])
    assert again.exit_code != 0 and "already exists" in again.output
    bad = runner.invoke(args=["users", "create", "../nope"])
    assert bad.exit_code != 0 and "not valid" in bad.output
    token = runner.invoke(args=["tokens", "create", "cli-person", "--name", "camera box"])
    assert token.exit_code == 0
    raw = token.output.splitlines()[0]
    assert as_user(app, raw).get("/api/auth/me").json["name"] == "cli-person"
    listed = runner.invoke(args=["tokens", "list", "cli-person"])
    assert raw[:10] in listed.output and raw not in listed.output
    assert runner.invoke(args=["tokens", "revoke", raw[:10]]).exit_code == 0
    assert as_user(app, raw).get("/api/auth/me").status_code == 401
    assert runner.invoke(args=["tokens", "revoke", raw[:10]]).exit_code != 0  # nothing live left


def test_errors_carry_a_request_id_and_no_internals(anonymous, client):
    response = client.get("/api/videos/999999999/")
    assert response.status_code == 404 and response.headers["X-Request-Id"]
    body = response.get_data(as_text=True)
    for leak in ("Traceback", "/work", "SELECT", "sqlite", "psycopg"):
        assert leak not in body


def test_a_path_too_long_for_the_file_system_is_a_400_not_a_500(alice):
    session = make_session(alice)
    for bad in ("a" * 300, "videos/" + "b" * 300 + "/c.mp4"):
        response = alice.post("/api/session-recordings/", json={"session": session["id"], "name": "t", "video": bad})
        assert response.status_code == 400, bad


def test_a_wall_display_opens_a_page_once_with_a_token_and_is_logged_in_without_it_in_the_url(app, make_user):
    _, token = make_user("wall-display")
    kiosk = app.test_client()
    first = kiosk.get(f"/wall?token={token}&replay=1")
    assert first.status_code == 302 and first.headers["Location"] == "/wall?replay=1"
    assert "pq_session=pq_" in first.headers["Set-Cookie"] and "HttpOnly" in first.headers["Set-Cookie"]
    assert kiosk.get("/wall?replay=1").status_code == 200
    assert kiosk.get("/api/auth/me").json["name"] == "wall-display"
    stranger = app.test_client().get("/wall?token=pq_not-a-token")
    assert stranger.status_code == 302 and stranger.headers["Location"].startswith("/login")
