"""``flask load-demo-wall`` and ``flask send-fake-session-data``."""
from __future__ import annotations

import pytest

from cli.climbing import register
from models.climbing import Route, Session, SessionRecording, Wall
from models.db import connected
from tests.climbing_support import start_web_waiting
from tests.support.processes import free_port


@pytest.fixture(scope="module")
def runner(app):
    register(app)
    return app.test_cli_runner()


def test_load_demo_wall_creates_a_wall_calibration_and_the_seed_route_once(runner, client):
    first = runner.invoke(args=["load-demo-wall"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(args=["load-demo-wall"])
    assert again.output == first.output  # the same records, not new ones
    with connected():
        wall = Wall.get(Wall.name == "Demo wall")
        route = Route.get(Route.wall == wall.id)
    assert wall.hold_count == 143 and wall.active_calibration_id
    assert [h["id"] for h in route.holds] == ["17", "91", "6", "101", "55", "133", "89", "41", "72", "11"]
    assert client.get(f"/api/walls/{wall.id}/calibrations/active").json["reprojection_error"] < 1e-3  # wall units


def test_load_demo_wall_rejects_a_bad_svg_with_a_message(runner, tmp_path):
    bad = tmp_path / "bad.svg"
    bad.write_text("<svg")
    result = runner.invoke(args=["load-demo-wall", "--svg", str(bad)])
    assert result.exit_code != 0 and "not a readable SVG" in result.output


def test_fake_session_data_climbs_the_route_in_order_and_completes(runner, env, logs):
    port = free_port()
    web = start_web_waiting(env, logs, port, name="web-cli")
    try:
        result = runner.invoke(args=["send-fake-session-data", "--create-session", "--duration", "2",
                                     "--url", f"http://127.0.0.1:{port}"])
    finally:
        web.stop()
    assert result.exit_code == 0, result.output
    session_id = result.output.split()[2]
    with connected():
        session = Session.find(session_id)
        recording = SessionRecording.get(SessionRecording.session == session.id)
    climb = session.climb_data["climb"]
    assert session.status == "completed" and session.end_time is not None and climb["status"] == "completed"
    times = [h["time"] for h in climb["holds"]]
    assert all(h["status"] == "completed" for h in climb["holds"]) and times == sorted(times)
    assert recording.frame_count >= 15 and 1.5 < recording.duration < 2.5


def test_fake_session_data_needs_exactly_one_session_choice(runner):
    assert runner.invoke(args=["send-fake-session-data"]).exit_code == 2
    missing = runner.invoke(args=["send-fake-session-data", "--session-id", "00000000-0000-0000-0000-000000000000"])
    assert missing.exit_code == 1 and "no session" in missing.output
