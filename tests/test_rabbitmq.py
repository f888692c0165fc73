"""BROKER_URL=amqp://…: jobs travel through RabbitMQ while their state stays in Redis."""
from __future__ import annotations

import json
import os
import socket
import time

import pytest
import requests
import websocket

from tests.support.processes import free_port, start_web, start_worker, wait_for

pytestmark = pytest.mark.e2e

AMQP_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def _rabbitmq_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=0.5):
            return True
    except OSError:
        return False


def _purge() -> None:
    """Empty the queues a previous run may have left messages in."""
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    for queue in ("default", "default.DQ", "default.XQ"):
        try:
            channel.queue_purge(queue)
        except pika.exceptions.ChannelClosedByBroker:
            channel = connection.channel()  # the queue does not exist yet
    connection.close()


@pytest.fixture(scope="module")
def amqp_stack(env, logs):
    if not _rabbitmq_up():
        pytest.skip("no RabbitMQ on 127.0.0.1:5672 (CI machines run one; set TEST_AMQP_URL to use another)")
    _purge()
    amqp_env = {**env, "BROKER_URL": AMQP_URL}
    worker = start_worker(amqp_env, logs, name="amqp-worker")
    port = free_port()
    web = start_web(amqp_env, logs, port, workers=1, name="amqp-web")
    yield f"http://127.0.0.1:{port}"
    web.stop()
    worker.stop()


def test_a_job_sent_through_rabbitmq_runs_and_its_progress_is_pushed(amqp_stack):
    base = amqp_stack
    accepted = requests.post(f"{base}/api/tasks/prune/", json={"older_than_days": 3}, timeout=10)
    assert accepted.status_code == 202, accepted.text
    task_id = accepted.json()["task_id"]
    ws = websocket.create_connection(base.replace("http", "ws") + "/ws/tasks/", timeout=30)
    ws.send(json.dumps({"action": "subscribe", "task_id": task_id}))
    deadline = time.monotonic() + 30
    final = None
    while time.monotonic() < deadline:
        message = json.loads(ws.recv())
        if message["type"] in ("task_complete", "task_error"):
            final = message
            break
    ws.close()
    assert final is not None and final["type"] == "task_complete"
    assert final["result"] == {"deleted": 0, "older_than_days": 3}
    state = wait_for(lambda: requests.get(f"{base}/api/task-status/{task_id}/").json(), what="status")
    assert state["state"] == "SUCCESS" and state["attempts"] == 1
