"""Long videos masked in parallel segments by several worker threads, joined into one output."""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from tests.motion.videogen import ffmpeg, frame_indices, has_audio, make_video, read_all
from tests.support.processes import wait_for
from tests.test_video_jobs import download, upload

pytestmark = pytest.mark.usefixtures("worker")

FINAL = ("SUCCESS", "FAILURE", "CANCELLED")
FILL = {"shape": "rect", "x": 20, "y": 10, "width": 60, "height": 40}
BLUR = {"shape": "polygon", "points": [[100, 100], [220, 120], [160, 200]], "mode": "blur"}


def start(client, video_id: int, body: dict) -> str:
    response = client.post(f"/api/video-apply-mask/{video_id}/", json=body)
    assert response.status_code == 202, response.json
    return response.json["task_id"]


def status(client, task_id: str) -> dict:
    return client.get(f"/api/task-status/{task_id}/").json


def wait_end(client, task_id: str, timeout: float = 60) -> dict:
    return wait_for(lambda: (s := status(client, task_id))["state"] in FINAL and s, timeout=timeout,
                    what=f"task {task_id} to end")


def children(ledger, task_id: str) -> list[dict]:
    return [ledger.get(c) for c in ledger.store.children(task_id)]


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_video(tmp_path_factory.mktemp("segments") / "clip.mp4", frames=400, width=320, height=240,
                      audio=True)


def test_four_segments_give_the_frames_of_a_one_worker_run(client, ledger, redis_client, worker, clip, tmp_path):
    video = upload(client, clip)
    body = {"regions": [FILL, BLUR], "color": [0, 0, 255]}
    single = wait_end(client, start(client, video["id"], {**body, "segments": 1}))
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe("pq:task-events")
    task_id = start(client, video["id"], {**body, "segments": 4})
    progress, deadline, state = [], time.monotonic() + 60, {}
    while time.monotonic() < deadline and state.get("state") not in FINAL:
        message = pubsub.get_message(timeout=0.2)
        if message:
            flat = json.loads(message["data"])
            event = {k: json.loads(v) if k != "version" else v for k, v in zip(flat[0::2], flat[1::2])}
            if event["task_id"] == task_id:
                state = event
                progress.append(event["progress"])
    pubsub.close()
    assert single["state"] == "SUCCESS" and state["state"] == "SUCCESS", (single.get("error"), state.get("error"))
    # The user sees one task whose progress rises across all segments to 100.
    assert progress == sorted(progress) and progress[-1] == 100.0 and len(set(progress)) >= 5, progress
    parts = children(ledger, task_id)
    assert len(parts) == 5 and all(p["state"] == "SUCCESS" for p in parts)  # 4 segments + the join
    assert [p["arguments"]["parent"] for p in parts] == [task_id] * 5
    result = state["result"]
    assert result["segments"] == 4 and result["frames_written"] == 400 and result["audio_kept"]
    derived = client.get(f"/api/videos/{result['output_video_id']}/").json
    assert derived["task_id"] == task_id and derived["frames"] == 400 and derived["steps"][-1]["op"] == "mask"
    one = read_all(download(client, single["result"]["output_video_id"], tmp_path))
    out_path = download(client, result["output_video_id"], tmp_path)
    many = read_all(out_path)
    assert len(one) == len(many) == 400
    assert frame_indices(out_path) == list(range(400)) and has_audio(out_path)
    for a, b in zip(one, many):
        diff = np.abs(a.astype(int) - b.astype(int))
        assert diff.mean() < 2.5  # two H.264 encodes (CRF 18) of the same frames
        # The filled region is the same red in both (lossy encodes; tests/motion/test_video_segments.py
        # shows the frames are exactly equal when both are encoded losslessly).
        assert diff[14:46, 24:76].mean() < 1.0
        assert np.abs(b[14:46, 24:76].astype(int) - [0, 0, 255]).max() <= 12
    # Segment files are gone once joined.
    media = Path(client.application.config["POSEQUEUE"].effective_media_root) / "videos"
    assert not (media / f"{task_id}.parts").exists()
    assert "Unexpected failure" not in worker.output()  # no middleware hook crashed on the way


def test_cancelling_the_parent_cancels_every_segment_and_leaves_no_files(client, ledger, config, tmp_path):
    big = make_video(tmp_path / "big.mp4", frames=900, width=640, height=480)
    video = upload(client, big)
    task_id = start(client, video["id"], {"regions": [FILL], "mode": "pixelate", "segments": 4})
    wait_for(lambda: any(p["state"] == "PROGRESS" and p["progress"] > 0 for p in children(ledger, task_id)),
             timeout=30, what="a segment to make progress")
    assert client.post(f"/api/tasks/{task_id}/cancel/").status_code == 202
    assert wait_end(client, task_id)["state"] == "CANCELLED"
    parts = wait_for(lambda: (ps := children(ledger, task_id)) and all(p["state"] in FINAL for p in ps) and ps,
                     timeout=30, what="every segment to end")
    assert [p["state"] for p in parts] == ["CANCELLED"] * 5, [(p["state"], p["status"]) for p in parts]
    media = config.effective_media_root / "videos"
    leftovers = wait_for(lambda: not [p for p in media.iterdir() if task_id in p.name] or None, timeout=5,
                         what="segment files to go") and [p for p in media.iterdir() if task_id in p.name]
    assert leftovers == []


def test_a_failing_segment_fails_the_job_with_its_message(client, ledger, config, tmp_path):
    # The header promises 200 frames, the file holds about half: the last segments cannot seek.
    whole = make_video(tmp_path / "whole.mp4", frames=200, width=160, height=120)
    faststart = tmp_path / "faststart.mp4"
    subprocess.run([ffmpeg(), "-loglevel", "error", "-y", "-i", str(whole), "-c", "copy",
                    "-movflags", "+faststart", str(faststart)], check=True)
    truncated = tmp_path / "truncated.mp4"
    data = faststart.read_bytes()
    truncated.write_bytes(data[:len(data) // 2])
    video = upload(client, truncated)
    task_id = start(client, video["id"], {"regions": [FILL], "segments": 4})
    state = wait_end(client, task_id)
    assert state["state"] == "FAILURE"
    assert state["error"].startswith("Segment 4/4 (frames 150-199) failed: ") or \
        state["error"].startswith("Segment 3/4 (frames 100-149) failed: "), state["error"]
    assert "damaged or truncated" in state["error"]
    parts = wait_for(lambda: (ps := children(ledger, task_id)) and all(p["state"] in FINAL for p in ps) and ps,
                     timeout=30, what="every segment to end")
    assert parts[-1]["state"] == "CANCELLED"  # the join never ran
    media = config.effective_media_root / "videos"
    wait_for(lambda: not [p for p in media.iterdir() if task_id in p.name], timeout=5, what="no files left")
