"""A worker killed mid-job: the job comes back and completes, never stuck in PROGRESS."""
from __future__ import annotations

import signal
import time

import pytest

from actors.submit import submit
from tests.support import actors as test_actors
from tests.support.processes import start_worker, wait_for

pytestmark = pytest.mark.e2e


def test_job_of_a_sigkilled_worker_is_redelivered_and_completes(env, logs, ledger):
    fast_env = {**env, "WORKER_HEARTBEAT_TIMEOUT": "2", "BROKER_MAINTENANCE_CHANCE": "200000"}
    victim = start_worker(fast_env, logs, processes=1, threads=1, name="victim", queues=("crash-test",))
    try:
        task_id = submit(test_actors.slow_count, 40, 0.1)["task_id"]
        wait_for(lambda: ledger.get(task_id)["progress"] >= 10, timeout=30, what="the job to be under way")
        victim.stop(signal.SIGKILL)
        killed_at = time.monotonic()
        assert ledger.get(task_id)["state"] == "PROGRESS"
        rescuer = start_worker(fast_env, logs, processes=1, threads=1, name="rescuer", queues=("crash-test",))
        try:
            state = wait_for(lambda: (s := ledger.get(task_id))["state"] in ("SUCCESS", "FAILURE") and s,
                             timeout=60, interval=0.2, what="the job to be redelivered and finish")
        finally:
            rescuer.stop()
    finally:
        victim.stop()
    assert state["state"] == "SUCCESS" and state["result"] == {"counted": 40}
    assert time.monotonic() - killed_at < 30


def test_video_job_of_a_sigkilled_worker_completes_with_the_same_output(env, logs, ledger, client, tmp_path):
    import numpy as np

    import actors
    from actors import video as video_actors
    from motion.video import apply_mask
    from tests.motion.videogen import make_video, read_all

    clip = make_video(tmp_path / "long.mp4", frames=900, width=320, height=240)
    with open(clip, "rb") as f:
        video = client.post("/api/videos/", data={"file": (f, "long.mp4")}, content_type="multipart/form-data").json
    spec = {"regions": [{"shape": "rect", "x": 10, "y": 10, "width": 100, "height": 80}], "mode": "pixelate",
            "color": [0, 0, 0], "faces": False, "face_mode": "blur", "device": None}
    fast_env = {**env, "WORKER_HEARTBEAT_TIMEOUT": "2", "BROKER_MAINTENANCE_CHANCE": "200000"}
    victim = start_worker(fast_env, logs, processes=1, threads=1, name="video-victim", queues=("crash-test",))
    try:
        message = video_actors.apply_mask.message(video["id"], spec).copy(queue_name="crash-test")
        ledger.create(message.message_id, "apply_mask", {"video_id": video["id"]})
        actors.broker.enqueue(message)
        wait_for(lambda: ledger.get(message.message_id)["progress"] >= 20, timeout=60, what="the job to be under way")
        victim.stop(signal.SIGKILL)
    finally:
        victim.stop()
    rescuer = start_worker(fast_env, logs, processes=1, threads=1, name="video-rescuer", queues=("crash-test",))
    try:
        state = wait_for(lambda: (s := ledger.get(message.message_id))["state"] in ("SUCCESS", "FAILURE") and s,
                         timeout=90, interval=0.2, what="the video job to be redelivered and finish")
    finally:
        rescuer.stop()
    assert state["state"] == "SUCCESS", state
    redone = tmp_path / "redone.mp4"
    redone.write_bytes(client.get(state["result"]["output_file"]).data)
    direct = tmp_path / "direct.mp4"
    apply_mask(clip, direct, spec)
    a, b = read_all(redone), read_all(direct)
    assert len(a) == len(b) == 900
    assert max(np.abs(x.astype(int) - y.astype(int)).max() for x, y in zip(a[::50], b[::50])) <= 2
