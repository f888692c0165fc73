"""Metrics, readiness and structured logs."""
from __future__ import annotations

import json
import logging

import pytest
import requests

from actors.submit import submit
from logsetup import ContextFilter, configure_logging, log_context
from tests.support import actors as test_actors
from tests.support.processes import free_port, start_worker, wait_for


def test_readyz_is_200_when_redis_database_and_schema_are_current(client):
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json == {"ready": True, "redis": True, "schema": True}


def test_metrics_count_tasks_by_state_and_actor(client, worker, ledger):
    task_id = submit(test_actors.count_to, 1)["task_id"]
    wait_for(lambda: ledger.get(task_id)["state"] == "SUCCESS", what="the task")
    from tests.test_lifecycle_worker import record

    record(task_id)
    text = client.get("/metrics").get_data(as_text=True)
    line = next(line for line in text.splitlines()
                if line.startswith('posequeue_tasks{') and 'actor="count_to"' in line and 'state="SUCCESS"' in line)
    assert float(line.rsplit(" ", 1)[1]) >= 1


@pytest.mark.e2e
def test_web_metrics_show_open_sockets_and_push_latency(web):
    import websocket

    task_id = submit(test_actors.count_to, 5, 0.05)["task_id"]
    ws = websocket.create_connection(web.replace("http", "ws") + "/ws/tasks/", timeout=10)
    ws.send(json.dumps({"action": "subscribe", "task_id": task_id}))
    while json.loads(ws.recv())["type"] == "task_update":
        pass
    text = requests.get(f"{web}/metrics").text
    ws.close()
    sockets = [line for line in text.splitlines() if line.startswith('posequeue_open_sockets{path="/ws/tasks/"}')]
    assert sockets and float(sockets[0].rsplit(" ", 1)[1]) >= 1
    count = [line for line in text.splitlines() if line.startswith("posequeue_push_latency_seconds_count")]
    assert count and float(count[0].rsplit(" ", 1)[1]) >= 1


@pytest.mark.e2e
def test_worker_exposes_dramatiq_and_job_duration_metrics(env, logs, ledger, tmp_path):
    port = free_port()
    worker = start_worker({**env, "WORKER_METRICS_PORT": str(port), "INSTANCE_PATH": str(tmp_path)}, logs,
                          name="metrics-worker", queues=("crash-test",))
    try:
        task_id = submit(test_actors.slow_count, 2, 0.01)["task_id"]
        wait_for(lambda: ledger.get(task_id)["state"] == "SUCCESS", timeout=30, what="the job")
        try:
            text = wait_for(lambda: _get(f"http://127.0.0.1:{port}/"), timeout=20, what="worker metrics")
        except TimeoutError:
            raise AssertionError(f"port {port}\n" + worker.output()[-4000:])
    finally:
        worker.stop()
    assert 'dramatiq_messages_total{actor_name="slow_count"' in text
    assert 'posequeue_job_duration_seconds_count{actor="slow_count",state="SUCCESS"}' in text


def _get(url: str) -> str | None:
    try:
        text = requests.get(url, timeout=2).text
        return text if "posequeue_job_duration_seconds_count" in text else None
    except requests.RequestException:
        return None


def test_json_logs_carry_the_request_or_task_they_belong_to(capsys):
    root = logging.getLogger()
    saved = [(h, h.formatter, list(h.filters)) for h in root.handlers]
    handler = logging.StreamHandler()
    root.addHandler(handler)
    try:
        configure_logging("INFO", "json")
        token = log_context.set({"task_id": "abc", "actor": "apply_mask"})
        logging.getLogger("posequeue.test").warning("frame %d done", 7)
        log_context.reset(token)
    finally:
        root.removeHandler(handler)
        for h, formatter, filters in saved:
            h.setFormatter(formatter)
            h.filters = filters
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["message"] == "frame 7 done" and record["task_id"] == "abc" and record["actor"] == "apply_mask"
    assert record["level"] == "WARNING" and record["logger"] == "posequeue.test"
    assert any(isinstance(f, ContextFilter) for f in handler.filters)
