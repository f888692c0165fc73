"""Video correction jobs through HTTP, a real worker and real files (seed 004)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from tests.motion.videogen import frame_indices, has_audio, make_video, read_all
from tests.support.processes import wait_for

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "videos"

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture(scope="module")
def stamped(tmp_path_factory) -> Path:
    return make_video(tmp_path_factory.mktemp("jobs") / "stamped.mp4", frames=60, width=160, height=120)


def upload(client, path: Path) -> dict:
    with open(path, "rb") as f:
        response = client.post("/api/videos/", data={"file": (f, path.name)}, content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    return response.json


def run_job(client, path: str, body: dict | None = None, timeout: float = 120) -> dict:
    started = time.monotonic()
    response = client.post(path, json=body or {})
    assert response.status_code == 202, response.json
    assert time.monotonic() - started < 0.2  # the seed's API response budget
    assert set(response.json) == {"task_id", "status", "message"} and response.json["status"] == "pending"
    task_id = response.json["task_id"]
    return wait_for(lambda: (s := client.get(f"/api/task-status/{task_id}/").json)["state"]
                    in ("SUCCESS", "FAILURE", "CANCELLED") and s, timeout=timeout, what=f"{path} to end")


def download(client, video_id: int, tmp_path: Path) -> Path:
    out = tmp_path / f"out-{video_id}.mp4"
    out.write_bytes(client.get(f"/api/videos/{video_id}/file").data)
    return out


def test_rect_fill_paints_exactly_the_region_and_keeps_the_rest(client, stamped, tmp_path):
    video = upload(client, stamped)
    state = run_job(client, f"/api/video-apply-mask/{video['id']}/",
                    {"regions": [{"shape": "rect", "x": 20, "y": 10, "width": 60, "height": 40}],
                     "mode": "fill", "color": [0, 0, 255]})
    assert state["state"] == "SUCCESS", state
    result = state["result"]
    assert result["output_file"] == f"/api/videos/{result['output_video_id']}/file"
    assert "/" not in str(result.get("processing_time"))
    derived = client.get(f"/api/videos/{result['output_video_id']}/").json
    assert derived["source_id"] == video["id"] and derived["task_id"] == state["task_id"]
    assert derived["steps"][0]["op"] == "mask"
    out = read_all(download(client, result["output_video_id"], tmp_path))
    src = read_all(stamped)
    assert len(out) == len(src) == 60
    for a, b in zip(src, out):
        inside = b[10:50, 20:80].astype(int)
        assert np.abs(inside - [0, 0, 255]).max() <= 12
        outside = np.ones(a.shape[:2], bool)
        outside[8:52, 18:82] = False  # codec bleed at the edge
        assert np.abs(a[outside].astype(int) - b[outside].astype(int)).mean() < 3


def test_remove_frames_leaves_exactly_the_other_frames_in_order(client, stamped, tmp_path):
    video = upload(client, stamped)
    state = run_job(client, f"/api/video-remove-frames/{video['id']}/",
                    {"frames": [0, 7], "ranges": [[20, 29]], "times": [[2.0, 2.2]]})
    assert state["state"] == "SUCCESS", state
    removed = {0, 7, *range(20, 30), 50, 51, 52, 53, 54}
    kept = frame_indices(download(client, state["result"]["output_video_id"], tmp_path))
    assert kept == [i for i in range(60) if i not in removed]


def test_progress_is_reported_with_frames_and_an_eta(client, redis_client, tmp_path):
    longer = make_video(tmp_path / "longer.mp4", frames=600, width=320, height=240)
    video = upload(client, longer)
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe("pq:task-events")
    task_id = client.post(f"/api/video-apply-mask/{video['id']}/",
                          json={"regions": [{"shape": "polygon", "points": [[0, 0], [100, 0], [50, 90]]}],
                                "mode": "blur"}).json["task_id"]
    progress, messages = [], []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.2)
        if not message:
            continue
        flat = json.loads(message["data"])
        state = {k: json.loads(v) if k != "version" else v for k, v in zip(flat[0::2], flat[1::2])}
        if state["task_id"] != task_id:
            continue
        if state["state"] == "PROGRESS":
            progress.append(state["progress"])
            messages.append(state["status"])
        if state["state"] in ("SUCCESS", "FAILURE"):
            break
    pubsub.close()
    assert state["state"] == "SUCCESS"
    assert progress == sorted(progress) and len(progress) >= 5 and progress[-1] == 100.0
    assert any(m.startswith("Processing frame ") and m.endswith("/600") for m in messages)


def test_cancel_stops_the_job_and_removes_its_partial_output(client, config, tmp_path):
    big = make_video(tmp_path / "big.mp4", frames=900, width=640, height=480)
    video = upload(client, big)
    task_id = client.post(f"/api/video-apply-mask/{video['id']}/",
                          json={"regions": [{"shape": "rect", "x": 0, "y": 0, "width": 300, "height": 300}],
                                "mode": "pixelate"}).json["task_id"]
    wait_for(lambda: client.get(f"/api/task-status/{task_id}/").json["state"] == "PROGRESS", what="progress")
    asked = time.monotonic()
    assert client.post(f"/api/tasks/{task_id}/cancel/").status_code == 202
    state = wait_for(lambda: (s := client.get(f"/api/task-status/{task_id}/").json)["state"] == "CANCELLED" and s,
                     what="cancellation")
    assert time.monotonic() - asked < 1.5
    leftovers = [p for p in (config.effective_media_root / "videos").iterdir() if task_id in p.name]
    assert leftovers == [] and state["result"] is None


@pytest.mark.parametrize("body, words", [
    ({}, "Nothing to mask"),
    ({"regions": [{"shape": "rect", "x": 0, "y": 0, "width": 10}]}, "height"),
    ({"regions": [{"shape": "rect", "x": 5000, "y": 0, "width": 10, "height": 10}]}, "regions[0]"),
    ({"regions": [{"shape": "circle"}]}, "shape"),
    ({"faces": "yes please"}, "faces"),
    ({"device": "no-such-scope"}, "no-such-scope"),
    ({"regions": [{"shape": "rect", "x": 0, "y": 0, "width": 10, "height": 10}], "color": [0, 0, 300]}, "color"),
])
def test_bad_mask_bodies_are_400_before_anything_is_queued(client, stamped, body, words):
    video = upload(client, stamped)
    response = client.post(f"/api/video-apply-mask/{video['id']}/", json=body)
    assert response.status_code == 400
    assert words in json.dumps(response.json)


@pytest.mark.parametrize("body, words", [
    ({}, "Nothing to remove"),
    ({"frames": [60]}, "60"),
    ({"ranges": [[10, 5]]}, "before start"),
    ({"ranges": [[0, 59]]}, "removes all 60 frames"),
    ({"times": [[0.5]]}, "times"),
])
def test_bad_removal_bodies_are_400(client, stamped, body, words):
    video = upload(client, stamped)
    response = client.post(f"/api/video-remove-frames/{video['id']}/", json=body)
    assert response.status_code == 400
    assert words in json.dumps(response.json)


def test_sync_mode_runs_the_job_in_the_request(client, stamped):
    video = upload(client, stamped)
    response = client.post(f"/api/video-remove-frames/{video['id']}/?sync=1", json={"frames": [3]})
    assert response.status_code == 200 and response.json["task_id"] is None
    assert response.json["result"]["frames_written"] == 59


def test_reprocess_reruns_the_recorded_steps_on_the_original(client, stamped, tmp_path):
    video = upload(client, stamped)
    cut = run_job(client, f"/api/video-remove-frames/{video['id']}/", {"ranges": [[0, 9]]})
    masked = run_job(client, f"/api/video-apply-mask/{cut['result']['output_video_id']}/",
                     {"regions": [{"shape": "rect", "x": 0, "y": 0, "width": 40, "height": 40}]})
    derived = client.get(f"/api/videos/{masked['result']['output_video_id']}/").json
    assert derived["source_id"] == video["id"] and [s["op"] for s in derived["steps"]] == ["remove_frames", "mask"]
    again = run_job(client, f"/api/video-reprocess/{derived['id']}/")
    assert again["state"] == "SUCCESS", again
    assert again["result"]["steps"] == ["remove_frames", "mask"]
    first = read_all(download(client, derived["id"], tmp_path))
    second = read_all(download(client, again["result"]["output_video_id"], tmp_path))
    assert len(first) == len(second) == 50
    assert max(np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(first, second)) < 1.0


def test_reprocess_of_an_original_is_a_400(client, stamped):
    video = upload(client, stamped)
    response = client.post(f"/api/video-reprocess/{video['id']}/")
    assert response.status_code == 400 and "original upload" in response.json["error"]["message"]


def test_audio_is_kept_and_stays_in_sync_after_removal(client, tmp_path):
    from tests.motion.videogen import media_duration

    tone = make_video(tmp_path / "tone.mp4", frames=100, audio=True)
    video = upload(client, tone)
    assert video["has_audio"] is True
    state = run_job(client, f"/api/video-remove-frames/{video['id']}/", {"ranges": [[25, 74]]})
    out = download(client, state["result"]["output_video_id"], tmp_path)
    assert has_audio(out) and state["result"]["audio_kept"] is True
    assert media_duration(out, "audio") == pytest.approx(2.0, abs=0.1)  # 50 frames at 25 fps


def _real(name: str) -> Path:
    path = DATA / name
    if not path.is_file():
        pytest.skip(f"{path} is absent (the shared data folder is not next to the project)")
    return path


def test_faces_in_a_real_video_are_blurred(client, tmp_path):
    from motion.video.faces import FaceDetector

    source = _real("exercise/lunge_walking_quva020_5reps.mp4")
    video = upload(client, source)
    state = run_job(client, f"/api/video-apply-mask/{video['id']}/", {"faces": True}, timeout=300)
    assert state["state"] == "SUCCESS", state
    assert state["result"]["frames_with_faces"] > 100
    out = download(client, state["result"]["output_video_id"], tmp_path)
    detector = FaceDetector()
    src_frames, out_frames = read_all(source), read_all(out)
    refound = 0
    for a, b in zip(src_frames[::5], out_frames[::5]):
        for x0, y0, x1, y1 in detector.detect(a):
            # A face found in the input must not be found again at that place in the output.
            refound += any(min(x1, u1) > max(x0, u0) and min(y1, v1) > max(y0, v0)
                           for u0, v0, u1, v1 in detector.detect(b))
    assert refound == 0


def test_analysis_of_a_real_video_finds_the_person(client):
    source = _real("exercise/squat_side_3reps.mp4")
    video = upload(client, source)
    state = run_job(client, f"/api/video-analyze/{video['id']}/", {"stride": 5}, timeout=300)
    assert state["state"] == "SUCCESS", state
    result = state["result"]
    assert result["frames_with_person"] >= 0.9 * result["frames_analysed"]
    assert result["mean_visibility"] > 0.5
    lines = client.get(result["landmarks_file"]).data.decode().splitlines()
    assert len(lines) == result["frames_analysed"]
    first = json.loads(lines[0])
    assert len(first["landmarks"]) == 33 and {"frame", "time"} <= set(first)
    workout = result["workout"]  # issue 6: segments, reps with timestamps and form scores, a plot
    assert [s["exercise"] for s in workout["segments"]] == ["squat"] and workout["segments"][0]["reps"] == 3
    assert [r["rep"] for r in workout["reps"]] == [1, 2, 3]
    assert all(0 < r["time"] < 10.8 and 0 <= r["form_score"] <= 100 for r in workout["reps"])
    assert workout["summary"]["exercise_details"]["squat"]["total_reps"] == 3
    plot = client.get(workout["plot_file"])
    assert plot.status_code == 200 and plot.mimetype == "image/png" and plot.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_four_jobs_run_at_once(client, tmp_path):
    clip = make_video(tmp_path / "four.mp4", frames=300, width=320, height=240)
    video = upload(client, clip)
    ids = [client.post(f"/api/video-apply-mask/{video['id']}/",
                       json={"regions": [{"shape": "rect", "x": 0, "y": 0, "width": 50, "height": 50}],
                             "mode": "blur"}).json["task_id"] for _ in range(4)]
    states = [wait_for(lambda t=t: (s := client.get(f"/api/task-status/{t}/").json)["state"] == "SUCCESS" and s,
                       timeout=120, what="four jobs") for t in ids]
    last_start = max(s["started_at"] for s in states)
    first_end = min(s["finished_at"] for s in states)
    assert last_start < first_end  # all four were running together


def test_real_video_goes_through_removal_masking_and_reprocess(client, tmp_path):
    source = _real("exercise/pushup_single_1rep.mp4")
    video = upload(client, source)
    cut = run_job(client, f"/api/video-remove-frames/{video['id']}/", {"ranges": [[0, 9]], "frames": [20]})
    assert cut["state"] == "SUCCESS", cut
    cut_video = client.get(f"/api/videos/{cut['result']['output_video_id']}/").json
    assert cut_video["frames"] == video["frames"] - 11
    masked = run_job(client, f"/api/video-apply-mask/{cut_video['id']}/",
                     {"regions": [{"shape": "rect", "x": 0, "y": 0, "width": 64, "height": 64}], "mode": "pixelate"})
    assert masked["state"] == "SUCCESS", masked
    again = run_job(client, f"/api/video-reprocess/{masked['result']['output_video_id']}/")
    assert again["state"] == "SUCCESS", again
    redone = client.get(f"/api/videos/{again['result']['output_video_id']}/").json
    assert redone["frames"] == cut_video["frames"] and redone["source_id"] == video["id"]
