"""The workout store: newest frame wins, one job per connection, resets discard in-flight work;
and the analysis actor, run here as a second worker process would run it."""
from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path

import pytest

from models.workout_store import WorkoutStore, decode_reply

IMAGES = Path("/work/shared/data/images")


@pytest.fixture
def store(redis_client):
    return WorkoutStore(redis_client, ttl=60, busy_ms=5000)


@pytest.fixture
def cid():
    return uuid.uuid4().hex


def test_first_frame_starts_a_job_and_later_ones_wait_in_the_slot(store, cid):
    assert store.offer(cid, 1, 10.0, "AAAA", "reply") == (True, False)
    assert store.offer(cid, 3, 10.2, "BBBB", "reply") == (False, True)   # job queued: frame 1 is overwritten
    assert store.offer(cid, 5, 10.4, "CCCC", "reply") == (False, True)
    job = store.take(cid)
    assert (job.seq, job.t, job.data, job.dropped, job.epoch, job.state) == (5, 10.4, "CCCC", 2, 0, None)
    assert store.take(cid) is None
    assert store.release(cid) is False            # nothing waiting: the busy flag is cleared
    assert store.offer(cid, 7, 10.6, "DDDD", "reply") == (True, False)


def test_release_asks_for_another_job_when_a_frame_came_in_meanwhile(store, cid):
    store.offer(cid, 1, 1.0, "AAAA", "reply")
    job = store.take(cid)
    assert store.offer(cid, 3, 1.2, "BBBB", "reply") == (False, False)  # busy, but nothing was dropped
    assert store.release(cid) is True
    assert store.take(cid).seq == 3 and job.dropped == 0


def test_finish_saves_state_and_publishes_to_the_web_process_in_order(store, cid, redis_client):
    pubsub = WorkoutStore.open_replies(redis_client, "reply-" + cid)
    store.offer(cid, 1, 1.0, "AAAA", "reply-" + cid)
    job = store.take(cid)
    assert store.finish(job, '{"type":"workout"}', state={"session": {"v": 1}, "seq": 1},
                        summary={"total_frames": 1})
    replies = []
    deadline = time.monotonic() + 5
    while not replies and time.monotonic() < deadline:
        item = pubsub.get_message(timeout=0.5)
        if item and item["type"] == "message":
            replies.append(decode_reply(item["data"]))
    pubsub.close()
    assert replies == [(cid, 0, 1, '{"type":"workout"}')]
    assert store.summary(cid) == {"total_frames": 1}
    store.offer(cid, 3, 1.2, "BBBB", "reply-" + cid)
    assert store.take(cid).state == {"session": {"v": 1}, "seq": 1}


def test_reset_discards_the_frame_in_flight_and_the_state(store, cid):
    store.offer(cid, 1, 1.0, "AAAA", "reply")
    first = store.take(cid)
    store.finish(first, "{}", state={"seq": 1}, summary={"total_frames": 1})
    store.offer(cid, 3, 1.2, "BBBB", "reply")
    in_flight = store.take(cid)
    assert store.reset(cid) == 1
    assert store.finish(in_flight, "{}", state={"seq": 3}, summary={"total_frames": 3}) is False
    assert store.summary(cid) is None
    store.release(cid)
    store.offer(cid, 1, 2.0, "CCCC", "reply")
    job = store.take(cid)
    assert (job.epoch, job.state, job.dropped) == (1, None, 0)


def test_a_closed_connection_keeps_nothing_from_a_late_job(store, cid):
    store.offer(cid, 1, 1.0, "AAAA", "reply")
    job = store.take(cid)
    store.forget(cid)
    assert store.finish(job, "{}", state={"seq": 1}, summary={}) is False
    assert store.summary(cid) is None


def test_a_job_lost_with_its_worker_stops_blocking_after_the_busy_timeout(redis_client, cid):
    store = WorkoutStore(redis_client, ttl=60, busy_ms=150)
    assert store.offer(cid, 1, 1.0, "AAAA", "reply")[0] is True   # its job dies with a worker
    assert store.offer(cid, 3, 1.2, "BBBB", "reply")[0] is False
    time.sleep(0.3)
    assert store.offer(cid, 5, 1.4, "CCCC", "reply")[0] is True


@pytest.mark.skipif(not IMAGES.exists(), reason=f"real images absent ({IMAGES}); ../shared/data not here")
def test_session_state_lives_in_redis_so_a_restarted_worker_carries_on(redis_client, cid, monkeypatch):
    from actors import workout
    from motion.workout.live import PoseTrackers

    stand = base64.b64encode((IMAGES / "person_fullbody_side_standing_squatvideo_f0.png").read_bytes()).decode()
    bottom = base64.b64encode((IMAGES / "person_fullbody_side_squat_bottom_f84.png").read_bytes()).decode()
    pubsub = WorkoutStore.open_replies(redis_client, "reply-" + cid)
    seq = 0
    for k in range(6):
        if k == 3:  # the worker process restarts: its trackers (memory) are gone, Redis is not
            monkeypatch.setattr(workout, "trackers", PoseTrackers(2))
        seq += 2
        workout.store.offer(cid, seq, 100.0 + k * 0.5, stand if k % 2 == 0 else bottom, "reply-" + cid)
        workout.analyse_workout_frame.fn(cid)
    payloads = []
    deadline = time.monotonic() + 5
    while len(payloads) < 6 and time.monotonic() < deadline:
        item = pubsub.get_message(timeout=0.5)
        if item and item["type"] == "message":
            payloads.append(json.loads(decode_reply(item["data"])[3])["payload"])
    pubsub.close()
    assert [p["frame_count"] for p in payloads] == [2, 4, 6, 8, 10, 12]
    assert [p["analysed_frames"] for p in payloads] == [1, 2, 3, 4, 5, 6]   # one session throughout
    assert payloads[-1]["session_time"] == 2.5
    assert all(p["landmarks_detected"] for p in payloads)
    assert workout.store.summary(cid)["analysed_frames"] == 6
