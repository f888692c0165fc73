"""The workout page in a real browser, fed a real exercise video as its camera, counts reps.

Chromium plays a Y4M file as a fake webcam (``--use-fake-device-for-media-stream
--use-file-for-fake-video-capture``); the file is made in a temp folder from a
clip of ``../shared/data`` with the ffmpeg of ``imageio-ffmpeg``.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import websocket

from tests.browser.conftest import launch, screenshot

CLIP = Path(__file__).resolve().parents[3] / "shared" / "data" / "videos" / "exercise" / "squat_ucf101_g01c01_side_4reps.avi"


@pytest.fixture(scope="module")
def camera_file(tmp_path_factory) -> Path:
    if not CLIP.exists():
        pytest.skip(f"exercise clip not found at {CLIP} (clone ../shared/data to run this test)")
    import imageio_ffmpeg

    out = tmp_path_factory.mktemp("camera") / "camera.y4m"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-i", str(CLIP), "-vf", "fps=25",
                    "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", str(out)], check=True, timeout=60)
    return out


@pytest.fixture
def workout_socket(web):
    try:
        websocket.create_connection(web.replace("http://", "ws://") + "/ws/workout/", timeout=5).close()
    except (websocket.WebSocketException, OSError) as exc:
        answer = getattr(exc, "status_code", None) or type(exc).__name__
        pytest.skip(f"/ws/workout/ is not in this build yet (handshake answered {answer})")


def test_workout_page_counts_reps_from_a_camera(playwright_driver, web, camera_file, workout_socket):
    browser = launch(playwright_driver, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                     f"--use-file-for-fake-video-capture={camera_file}")
    try:
        context = browser.new_context(base_url=web, viewport={"width": 1280, "height": 860})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto("/workout")
        page.fill("#fps", "10")
        page.click("#start")
        page.wait_for_function("document.getElementById('camera').videoWidth > 0")
        page.wait_for_function("Number(document.getElementById('received').textContent) > 0", timeout=30_000)
        page.wait_for_function("Number(document.getElementById('reps').textContent) >= 1", timeout=60_000)
        first = int(page.locator("#reps").inner_text())
        page.wait_for_function(f"Number(document.getElementById('reps').textContent) > {first}", timeout=60_000)
        assert page.locator("#exercise").inner_text() not in ("", "–")
        screenshot(page, "workout")
        page.click("#summary-button")
        page.locator("#summary table").wait_for()
        assert not errors, errors
    finally:
        browser.close()


def test_workout_page_sends_camera_frames_and_shows_each_answer(playwright_driver, web, camera_file):
    """The page's side of seed 003's protocol, against a scripted /ws/workout/ (Playwright's socket routing)."""
    import json

    browser = launch(playwright_driver, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                     f"--use-file-for-fake-video-capture={camera_file}")
    frames: list[str] = []

    def serve(route):
        def on_message(text):
            message = json.loads(text)
            if message["type"] == "frame":
                frames.append(message["payload"])
                n = len(frames)
                landmarks = [{"x": 0.3 + 0.01 * i, "y": 0.2 + 0.02 * i, "z": 0, "visibility": 0.9} for i in range(33)]
                route.send(json.dumps({"type": "workout", "payload": {
                    "exercise": "squat", "confidence": 0.9, "feedback": "Keep your back straight", "angle": 95,
                    "reps": n // 3, "landmarks_detected": True, "form_color": [0, 200, 0], "session_time": n / 10,
                    "frame_count": n, "dropped_frames": 0, "landmarks": landmarks}}))
            elif message["type"] == "get_summary":
                route.send(json.dumps({"type": "summary", "payload": {
                    "session_duration": 12.5, "total_frames": len(frames), "exercises_performed": 1,
                    "exercise_details": {"squat": {"total_reps": len(frames) // 3, "duration": 12.5,
                                                   "best_form_score": 90}}}}))
        route.on_message(on_message)
        route.send(json.dumps({"type": "system", "payload": {"status": "initialized", "message": "ready"}}))

    try:
        context = browser.new_context(base_url=web, viewport={"width": 1280, "height": 860})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.route_web_socket("**/ws/workout/", serve)
        page.goto("/workout")
        page.fill("#fps", "20")
        page.click("#start")
        page.wait_for_function("Number(document.getElementById('reps').textContent) >= 3")
        assert frames[0].startswith("data:image/jpeg;base64,")
        assert page.locator("#exercise").inner_text() == "squat"
        assert page.locator("#feedback").inner_text() == "Keep your back straight"
        assert page.evaluate("getComputedStyle(document.getElementById('form-indicator')).backgroundColor") \
            == "rgb(0, 200, 0)"
        drawn = page.evaluate("""() => { const c = document.getElementById('overlay');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 3; i < d.length; i += 4) n += d[i] > 0; return n; }""")
        assert drawn > 100  # the skeleton is drawn over the video
        page.click("#summary-button")
        page.locator("#summary table td", has_text="squat").wait_for()
        if not (CLIP.exists() and _has_workout_socket(web)):
            screenshot(page, "workout")
        assert not errors, errors
    finally:
        browser.close()


def _has_workout_socket(web: str) -> bool:
    try:
        websocket.create_connection(web.replace("http://", "ws://") + "/ws/workout/", timeout=5).close()
        return True
    except (websocket.WebSocketException, OSError):
        return False
