"""The live wall in a real browser: holds light up as the climb progresses, the skeleton follows.

The climb is driven through ``/ws/session-live/<id>/`` the way the tracker
drives it (``climb_update`` / ``pose_update`` / ``session_update``).
"""
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pytest
import requests
import websocket

from tests.browser.conftest import screenshot

SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1000 1400">
""" + "".join(f'  <path id="hold_{n}" d="M {120 + 160 * (n % 5)} {1200 - 220 * (n // 5)} h 90 v 90 h -90 Z"/>\n'
              for n in range(25)) + "</svg>\n"
ROUTE = [{"id": "0", "type": "start"}, {"id": "1", "type": "start"}, {"id": "7", "type": "normal"},
         {"id": "12", "type": "normal"}, {"id": "22", "type": "finish"}]


def iso(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def session(web):
    if "/api/sessions/" not in requests.get(f"{web}/api/openapi.json").json()["paths"]:
        pytest.skip("climbing sessions are not in this build yet")
    wall = requests.post(f"{web}/api/walls/", data={"name": "page wall"},
                         files={"svg": ("wall.svg", io.BytesIO(SVG.encode()), "image/svg+xml")})
    assert wall.status_code == 201, wall.text
    route = requests.post(f"{web}/api/routes/", json={"wall_id": wall.json()["id"], "name": "Page route", "grade": "6a",
                                                       "author": "Tester", "problem": {"holds": ROUTE}})
    assert route.status_code == 201, route.text
    created = requests.post(f"{web}/api/sessions/", json={"route": route.json()["id"]})
    assert created.status_code == 201, created.text
    return created.json()


def skeleton(cx: float, cy: float) -> list[dict]:
    """33 landmarks of a standing figure around (cx, cy) in normalised wall coordinates."""
    points = [{"x": cx, "y": cy - 0.12, "z": 0.0, "visibility": 0.99} for _ in range(33)]
    for i, (dx, dy) in {11: (-0.05, -0.08), 12: (0.05, -0.08), 13: (-0.08, -0.14), 14: (0.08, -0.02),
                        15: (-0.1, -0.2), 16: (0.1, 0.02), 19: (-0.1, -0.21), 20: (0.1, 0.03),
                        23: (-0.04, 0.05), 24: (0.04, 0.05), 25: (-0.05, 0.13), 26: (0.05, 0.13),
                        27: (-0.05, 0.21), 28: (0.05, 0.21), 31: (-0.06, 0.22), 32: (0.06, 0.22)}.items():
        points[i] = {"x": cx + dx, "y": cy + dy, "z": 0.0, "visibility": 0.99}
    return points


def hold(page, hold_id: str):
    return page.locator(f'path[data-hold-id="{hold_id}"]')


def test_live_wall_lights_holds_as_the_climb_progresses(page, web, session):
    page.set_viewport_size({"width": 1600, "height": 1000})  # a gym wall screen
    page.goto(f"/wall/{session['id']}")
    hold(page, "hold_0").and_(page.locator(".route.type-start")).wait_for()
    assert "type-finish" in hold(page, "hold_22").get_attribute("class")
    assert hold(page, "hold_0").get_attribute("data-status") == "untouched"
    assert page.locator("#session-status").inner_text().lower() == "started"

    live = websocket.create_connection(web.replace("http://", "ws://") + f"/ws/session-live/{session['id']}/",
                                       timeout=10)
    start = datetime.now(timezone.utc) - timedelta(seconds=30)
    holds = [{**h, "status": "untouched", "time": None} for h in ROUTE]
    holds[0].update(status="completed", time=iso(start + timedelta(seconds=2)))
    holds[1].update(status="completed", time=iso(start + timedelta(seconds=5)))
    holds[2].update(status="touched")
    live.send(json.dumps({"type": "climb_update", "climb": {"holds": holds, "startTime": iso(start),
                                                            "endTime": None, "status": "started"}}))
    live.send(json.dumps({"type": "pose_update", "pose": skeleton(0.45, 0.55)}))

    page.wait_for_function("document.querySelector('path[data-hold-id=\"hold_7\"]').dataset.status === 'touching'")
    assert hold(page, "hold_0").get_attribute("data-status") == "completed"
    assert hold(page, "hold_12").get_attribute("data-status") == "untouched"
    assert page.locator("#done-count").inner_text() == "2"
    assert sorted(page.locator(".hold-time").all_text_contents()) == ["0:02", "0:05"]
    page.wait_for_function("document.querySelectorAll('#skeleton line').length >= 10")
    assert page.locator("#timer").inner_text().startswith("0:3")
    screenshot(page, "wall")

    live.send(json.dumps({"type": "session_update", "session": {"status": "completed"}}))
    page.wait_for_function("document.getElementById('session-status').textContent === 'completed'")
    live.close()

    page.click("#mode-replay")
    page.wait_for_function("document.getElementById('replay-info').textContent.includes('frames')")
    assert page.locator("#replay-controls").is_visible()


def test_wall_page_without_a_session_lists_sessions(page, session):
    page.goto("/wall")
    page.locator(f'a[href="/wall/{session["id"]}"]').wait_for()


def test_a_tracker_run_lights_the_holds_it_touches(page, web):
    """A synthetic climb published to /ws/pose/, tracked by the real runtime, seen on the page."""
    import threading
    import time

    from actors.tracker import build_runtime
    from tests.motion.test_climbing_tracker import CAMERA, ROUTE as TRACKED_ROUTE, WALL_SVG
    from tests.test_tracker_runtime import await_joined, publisher, trace, ws

    wall = requests.post(f"{web}/api/walls/", data={"name": "tracked"},
                         files={"svg": ("wall.svg", io.BytesIO(WALL_SVG.encode()), "image/svg+xml")}).json()
    corners = zip([[0, 0], [640, 0], [640, 480], [0, 480]], [[50, 30], [980, 80], [940, 990], [20, 950]])
    calibration = requests.post(f"{web}/api/walls/{wall['id']}/calibrations/", json={
        "name": "camera", "image_width": CAMERA[0], "image_height": CAMERA[1],
        "points": [{"image": i, "wall": w} for i, w in corners]})
    assert calibration.status_code == 201, calibration.text
    route = requests.post(f"{web}/api/routes/", json={"wall_id": wall["id"], "name": "tracked route",
                                                       **TRACKED_ROUTE}).json()
    session_id = requests.post(f"{web}/api/sessions/", json={"route": route["id"]}).json()["id"]
    page.goto(f"/wall/{session_id}")
    hold(page, "hold_20").and_(page.locator(".route.type-start")).wait_for()
    page.wait_for_function("document.getElementById('conn').textContent === 'connected'")
    assert hold(page, "hold_20").get_attribute("data-status") == "untouched"

    runtime = build_runtime(wall_id=wall["id"], session_id=session_id, input_websocket_url=ws(web, "/ws/pose/"),
                            output_websocket_url=ws(web, "/ws/holds/"), reconnect_delay=0.1, max_duration=30)
    runtime.start(wait=10)
    pub = publisher(ws(web, "/ws/pose/"))
    await_joined(pub, runtime)
    runner = threading.Thread(target=lambda: runtime.run(poll=0.02), daemon=True)
    runner.start()
    try:
        for text in trace():
            pub.send(text)
            time.sleep(0.02)
        page.wait_for_function(
            "document.querySelector('path[data-hold-id=\"hold_20\"]').dataset.status === 'completed'")
        page.wait_for_function("document.querySelectorAll('#skeleton line').length > 0")
        page.wait_for_function("document.getElementById('session-status').textContent === 'completed'")
        assert page.locator("#done-count").inner_text() == "6"
    finally:
        pub.close()
        runner.join(20)
