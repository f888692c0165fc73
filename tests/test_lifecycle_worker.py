"""The task lifecycle on a real Dramatiq worker and a real Redis."""
from __future__ import annotations

import time

import pytest

from actors.submit import submit
from models.db import db
from models.tasks import TaskRecord
from tests.support import actors as test_actors
from tests.support.processes import wait_for

pytestmark = pytest.mark.usefixtures("worker")


def final_state(ledger, task_id: str, timeout: float = 30) -> dict:
    return wait_for(lambda: (s := ledger.get(task_id))["state"] in ("SUCCESS", "FAILURE", "CANCELLED") and s,
                    timeout=timeout, what=f"task {task_id} to end")


def record(task_id: str) -> TaskRecord:
    """The database row once it holds a final state (it is written just after Redis)."""
    def final():
        with db.connection_context():
            row = TaskRecord.get_by_id(task_id)
        return row if row.state in ("SUCCESS", "FAILURE", "CANCELLED") else None

    return wait_for(final, timeout=5, what=f"the database row of {task_id} to be final")


class Events:
    """Every state the events channel announces for one task, in order."""

    def __init__(self, redis_client) -> None:
        self.pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe("pq:task-events")

    def states(self, task_id: str, until=("SUCCESS", "FAILURE", "CANCELLED"), timeout: float = 20) -> list[dict]:
        import json

        out = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.pubsub.get_message(timeout=0.1)
            if message is None:
                continue
            flat = json.loads(message["data"])
            state = {k: int(v) if k == "version" else json.loads(v) for k, v in zip(flat[0::2], flat[1::2])}
            if state["task_id"] == task_id:
                out.append(state)
                if state["state"] in until:
                    break
        self.pubsub.close()
        return out


def test_successful_job_moves_through_states_and_keeps_its_result(ledger, redis_client):
    events = Events(redis_client)
    task_id = submit(test_actors.count_to, 5, 0.05)["task_id"]
    seen = [s["state"] for s in events.states(task_id)]
    assert seen[0] == "PENDING" and seen[1] == "STARTED" and seen[-1] == "SUCCESS"
    assert seen[2:-1] == ["PROGRESS"] * 5
    state = ledger.get(task_id)
    assert state["progress"] == 100.0
    assert state["result"] == {"counted": 5, "items": []}
    assert state["attempts"] == 1
    assert state["created_at"] <= state["started_at"] <= state["finished_at"]
    assert state["finished_at"].endswith("Z")
    assert record(task_id).state == "SUCCESS"
    assert record(task_id).result == {"counted": 5, "items": []}


def test_progress_reports_are_monotonic_with_intermediate_values(ledger, redis_client):
    events = Events(redis_client)
    task_id = submit(test_actors.count_to, 10, 0.02)["task_id"]
    progress = [s["progress"] for s in events.states(task_id) if s["state"] == "PROGRESS"]
    assert progress == sorted(progress)
    assert len(set(progress)) == 10
    assert progress[-1] == 100.0


def test_eta_comes_from_the_observed_rate(ledger):
    task_id = submit(test_actors.count_to, 20, 0.05)["task_id"]
    state = wait_for(lambda: (s := ledger.get(task_id))["progress"] >= 50 and s, what="half way")
    # 10 steps of 50 ms remain: about half a second.
    assert state["eta_seconds"] is not None
    assert 0.1 <= state["eta_seconds"] <= 1.5
    final_state(ledger, task_id)


def test_domain_error_fails_at_once_with_its_message(ledger):
    task_id = submit(test_actors.reject_input, "The region is outside the frame (x=5000).")["task_id"]
    state = final_state(ledger, task_id)
    assert state["state"] == "FAILURE"
    assert state["error"] == "The region is outside the frame (x=5000)."
    assert state["attempts"] == 1
    assert record(task_id).error == state["error"]


def test_unexpected_error_hides_its_details_from_clients(ledger):
    task_id = submit(test_actors.crash)["task_id"]
    state = final_state(ledger, task_id)
    assert state["state"] == "FAILURE"
    assert "KeyError" in state["error"]
    assert "secret" not in state["error"] and "Traceback" not in state["error"]
    assert state["attempts"] == 1


def test_network_errors_are_retried_then_succeed(ledger):
    task_id = submit(test_actors.flaky, f"ok-{time.time()}", 2)["task_id"]
    state = final_state(ledger, task_id)
    assert state["state"] == "SUCCESS"
    assert state["result"] == {"attempt": 3}
    assert state["attempts"] == 3


def test_network_errors_fail_after_three_retries(ledger):
    task_id = submit(test_actors.flaky, f"down-{time.time()}", 10)["task_id"]
    state = final_state(ledger, task_id)
    assert state["state"] == "FAILURE"
    assert state["attempts"] == 4  # the first try and three retries
    assert "unavailable" in state["error"]


def test_retry_state_is_visible_while_a_retry_waits(ledger, redis_client):
    events = Events(redis_client)
    task_id = submit(test_actors.flaky, f"seen-{time.time()}", 1)["task_id"]
    states = events.states(task_id)
    seen = [s["state"] for s in states]
    assert seen == ["PENDING", "STARTED", "RETRY", "STARTED", "SUCCESS"]
    retry = states[2]
    assert "Retrying after attempt 1" in retry["status"] and "unavailable" in retry["status"]


def test_time_limit_stops_the_job_with_a_clear_message(ledger):
    task_id = submit(test_actors.overrun, 5)["task_id"]
    state = final_state(ledger, task_id, timeout=15)
    assert state["state"] == "FAILURE"
    assert "time limit of 1 s" in state["error"]
    assert state["attempts"] == 1


def test_cancelling_a_running_task_stops_it_and_removes_partial_output(ledger, tmp_path):
    out = tmp_path / "partial.out"
    task_id = submit(test_actors.write_partial, str(out), 200, 0.05)["task_id"]
    wait_for(lambda: ledger.get(task_id)["state"] == "PROGRESS", what="the task to run")
    assert out.exists()
    cancelled_at = time.monotonic()
    ledger.cancel(task_id)
    state = final_state(ledger, task_id)
    assert state["state"] == "CANCELLED"
    assert time.monotonic() - cancelled_at < 1.0
    assert not out.exists()
    assert record(task_id).state == "CANCELLED"


def test_cancelling_a_queued_task_means_it_never_starts(ledger, tmp_path):
    # Fill the worker's four threads so the next job waits in the queue.
    blockers = [submit(test_actors.count_to, 20, 0.05)["task_id"] for _ in range(4)]
    out = tmp_path / "never.out"
    task_id = submit(test_actors.write_partial, str(out), 1, 0.0)["task_id"]
    state = ledger.cancel(task_id)
    assert state["state"] == "CANCELLED"
    for blocker in blockers:
        final_state(ledger, blocker)
    time.sleep(0.3)
    assert ledger.get(task_id)["state"] == "CANCELLED"
    assert ledger.get(task_id)["started_at"] is None
    assert not out.exists()


def test_history_survives_a_redis_flush(ledger, redis_client):
    task_id = submit(test_actors.count_to, 3)["task_id"]
    final_state(ledger, task_id)
    redis_client.delete(ledger.store.key(task_id))
    state = ledger.get(task_id)
    assert state["state"] == "SUCCESS"
    assert state["result"] == {"counted": 3, "items": []}
    assert state["finished_at"] is not None
