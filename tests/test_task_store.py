"""The Redis live store: merge, versions, sticky final states, events, cancel flags."""
import json
import uuid

import pytest

from models.task_store import EVENTS_CHANNEL, MemoryTaskStore, RedisTaskStore


@pytest.fixture(params=["redis", "memory"])
def store(request, redis_client):
    return RedisTaskStore(redis_client, ttl=60) if request.param == "redis" else MemoryTaskStore()


def test_put_merges_and_bumps_the_version(store):
    task_id = uuid.uuid4().hex
    _, _, first = store.put(task_id, {"state": "PENDING", "progress": 0.0, "result": None}, force=True,
                             with_state=True)
    applied, cancel, second = store.put(task_id, {"state": "PROGRESS", "progress": 12.5}, with_state=True)
    assert applied and not cancel
    assert second["version"] == first["version"] + 1
    assert store.get(task_id) == second
    assert second["result"] is None and second["progress"] == 12.5


def test_nested_and_empty_json_values_survive(store):
    task_id = uuid.uuid4().hex
    result = {"items": [], "nested": {"a": [1, 2.5, None, "x"]}, "empty": {}}
    store.put(task_id, {"state": "SUCCESS", "result": result}, force=True)
    assert store.get(task_id)["result"] == result


def test_final_state_is_sticky_unless_forced(store):
    task_id = uuid.uuid4().hex
    store.put(task_id, {"state": "CANCELLED"}, force=True)
    applied, _, state = store.put(task_id, {"state": "PROGRESS", "progress": 50}, with_state=True)
    assert not applied and state["state"] == "CANCELLED"
    applied, _, state = store.put(task_id, {"state": "FAILURE"}, force=True, with_state=True)
    assert applied and state["state"] == "FAILURE"


def test_cancel_flag_is_reported_by_the_next_write(store):
    task_id = uuid.uuid4().hex
    store.put(task_id, {"state": "PROGRESS"}, force=True)
    assert not store.cancel_requested(task_id)
    store.request_cancel(task_id)
    assert store.cancel_requested(task_id)
    assert store.put(task_id, {"progress": 3})[1] is True


def test_every_write_is_announced_with_the_whole_state(redis_client):
    store = RedisTaskStore(redis_client, ttl=60)
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(EVENTS_CHANNEL)
    task_id = uuid.uuid4().hex
    store.put(task_id, {"state": "STARTED", "actor": "a"}, force=True)
    store.put(task_id, {"state": "PROGRESS", "progress": 1.0})
    got = []
    for _ in range(50):
        message = pubsub.get_message(timeout=0.1)
        if message:
            flat = json.loads(message["data"])
            state = dict(zip(flat[0::2], flat[1::2]))
            if json.loads(state["task_id"]) == task_id:
                got.append(state)
        if len(got) == 2:
            break
    pubsub.close()
    assert [json.loads(s["state"]) for s in got] == ["STARTED", "PROGRESS"]
    assert json.loads(got[1]["actor"]) == "a"  # the whole state, not the patch


def test_live_state_expires(redis_client):
    store = RedisTaskStore(redis_client, ttl=60)
    task_id = uuid.uuid4().hex
    store.put(task_id, {"state": "PENDING"}, force=True)
    assert 0 < redis_client.ttl(store.key(task_id)) <= 60
