"""Redis unreachable: no request hangs, enqueue says 503 (or runs inline), reads use the database."""
from __future__ import annotations

import time

import pytest
import requests

from actors.submit import submit
from tests.support import actors as test_actors
from tests.support.processes import free_port, start_web, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def dead_redis_env(env, tmp_path_factory):
    """The test environment, but with REDIS_URL at a socket nobody listens on."""
    return {**env, "REDIS_URL": f"unix://{tmp_path_factory.mktemp('dead')}/nothing.sock"}


@pytest.fixture(scope="module")
def web_without_redis(dead_redis_env, logs):
    port = free_port()
    proc = start_web(dead_redis_env, logs, port, workers=1, name="web-no-redis")
    yield f"http://127.0.0.1:{port}"
    proc.stop()


@pytest.fixture(scope="module")
def web_with_fallback(dead_redis_env, logs):
    port = free_port()
    proc = start_web({**dead_redis_env, "SYNC_FALLBACK": "1"}, logs, port, workers=1, name="web-fallback")
    yield f"http://127.0.0.1:{port}"
    proc.stop()


def test_enqueue_answers_503_within_a_second(web_without_redis):
    started = time.monotonic()
    response = requests.post(f"{web_without_redis}/api/tasks/prune/", json={}, timeout=10)
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "queue_unavailable"
    assert "Redis" in response.json()["error"]["message"]
    assert elapsed < 1.5


def test_nothing_is_recorded_for_a_job_that_was_not_enqueued(web_without_redis):
    before = requests.get(f"{web_without_redis}/api/tasks/?actor=prune_tasks").json()["total"]
    requests.post(f"{web_without_redis}/api/tasks/prune/", json={}, timeout=10)
    after = requests.get(f"{web_without_redis}/api/tasks/?actor=prune_tasks").json()["total"]
    assert after == before


def test_status_reads_fall_back_to_the_database(web_without_redis, ledger, worker):
    task_id = submit(test_actors.count_to, 2)["task_id"]
    wait_for(lambda: ledger.get(task_id)["state"] == "SUCCESS", what="the task to finish")
    from tests.test_lifecycle_worker import record

    record(task_id)
    body = requests.get(f"{web_without_redis}/api/task-status/{task_id}/", timeout=10).json()
    assert body["state"] == "SUCCESS" and body["result"] == {"counted": 2, "items": []}


def test_healthz_is_503_and_names_redis(web_without_redis):
    response = requests.get(f"{web_without_redis}/healthz", timeout=10)
    assert response.status_code == 503
    assert response.json()["redis"]["ok"] is False and response.json()["database"]["ok"] is True


def test_cancel_of_a_finished_task_is_known_from_the_database(web_without_redis, ledger, worker):
    task_id = submit(test_actors.count_to, 2)["task_id"]
    wait_for(lambda: ledger.get(task_id)["state"] == "SUCCESS", what="the task to finish")
    from tests.test_lifecycle_worker import record

    record(task_id)
    response = requests.post(f"{web_without_redis}/api/tasks/{task_id}/cancel/", timeout=10)
    assert response.status_code == 409  # known from the database: already finished


def test_sync_fallback_runs_the_job_in_the_request(web_with_fallback):
    response = requests.post(f"{web_with_fallback}/api/tasks/prune/", json={"older_than_days": 7}, timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["task_id"] is None and body["result"] == {"deleted": 0, "older_than_days": 7}


def test_cancel_of_a_queued_task_answers_503_when_redis_is_down(web_without_redis):
    from models.db import db
    from models.tasks import TaskRecord

    with db.connection_context():
        TaskRecord.write_state({"task_id": "queued-during-outage", "actor": "count_to", "state": "PENDING"})
    response = requests.post(f"{web_without_redis}/api/tasks/queued-during-outage/cancel/", timeout=10)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "queue_unavailable"
