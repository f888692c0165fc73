"""Faults: Redis restarted mid-run, workers stopped with SIGTERM. Each with its own Redis."""
from __future__ import annotations

import signal
import time
from dataclasses import replace

import pytest
import requests

from actors.broker import build_broker
from config import Config
from models.redis_server import EmbeddedRedis
from tests.support import actors as test_actors
from tests.support.processes import free_port, start_web, start_worker, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def private_redis(tmp_path_factory):
    """A Redis of this test alone (snapshotting, so a restart keeps the queue)."""
    import tempfile

    server = EmbeddedRedis(tempfile.mkdtemp(prefix="pqf-"), persist=True).start()
    yield server
    server.stop()


@pytest.fixture
def stack(private_redis, env):
    """Environment, broker and ledger bound to the private Redis."""
    fault_env = {**env, "REDIS_URL": private_redis.url, "WORKER_HEARTBEAT_TIMEOUT": "2",
                 "BROKER_MAINTENANCE_CHANCE": "200000"}
    broker, ledger = build_broker(replace(Config.from_env(fault_env)))
    broker.declare_queue("crash-test")
    return fault_env, broker, ledger


def send(broker, ledger, actor, *args) -> str:
    message = actor.message(*args)
    ledger.create(message.message_id, actor.actor_name, {"args": list(args)})
    broker.enqueue(message)
    return message.message_id


def test_redis_restart_mid_run_loses_nothing_and_everything_recovers(stack, private_redis, logs):
    fault_env, broker, ledger = stack
    worker = start_worker(fault_env, logs, name="fault-worker", queues=("crash-test",))
    port = free_port()
    web = start_web(fault_env, logs, port, workers=1, name="fault-web")
    base = f"http://127.0.0.1:{port}"
    try:
        before = send(broker, ledger, test_actors.slow_count, 2, 0.01)
        wait_for(lambda: ledger.get(before)["state"] == "SUCCESS", timeout=30, what="a first job")
        running = send(broker, ledger, test_actors.slow_count, 60, 0.1)
        wait_for(lambda: ledger.get(running)["progress"] >= 10, timeout=30, what="the job to run")

        private_redis.stop()
        # (a 503 Response is falsy, so wait on its body)
        outage = wait_for(lambda: (r := requests.get(f"{base}/healthz", timeout=5)).status_code == 503 and r.json(),
                          timeout=10, what="healthz to report the outage")
        assert outage["redis"]["ok"] is False
        assert requests.get(f"{base}/api/task-status/{before}/", timeout=5).json()["state"] == "SUCCESS"
        assert requests.post(f"{base}/api/tasks/prune/", json={}, timeout=5).status_code == 503
        time.sleep(1.0)

        restarted = time.monotonic()
        private_redis.start()
        wait_for(lambda: requests.get(f"{base}/healthz", timeout=5).status_code == 200, timeout=15,
                 what="healthz to recover")
        recovered = time.monotonic() - restarted
        state = wait_for(lambda: (s := ledger.get(running))["state"] in ("SUCCESS", "FAILURE") and s,
                         timeout=60, interval=0.2, what="the running job to finish")
        assert state["state"] == "SUCCESS" and state["result"] == {"counted": 60}
        assert ledger.get(before)["state"] == "SUCCESS"
        after = requests.post(f"{base}/api/tasks/prune/", json={}, timeout=5)
        assert after.status_code == 202
        assert recovered < 5
    finally:
        web.stop()
        worker.stop()


def test_sigterm_lets_a_short_job_finish(stack, logs):
    fault_env, broker, ledger = stack
    worker = start_worker(fault_env, logs, name="term-worker", queues=("crash-test",))
    try:
        task_id = send(broker, ledger, test_actors.slow_count, 20, 0.1)
        wait_for(lambda: ledger.get(task_id)["progress"] >= 10, timeout=30, what="the job to run")
        worker.proc.send_signal(signal.SIGTERM)
        worker.proc.wait(timeout=20)
        assert ledger.get(task_id)["state"] == "SUCCESS"
    finally:
        worker.stop()


def test_sigterm_requeues_a_job_longer_than_the_shutdown_timeout(stack, logs):
    fault_env, broker, ledger = stack
    worker = start_worker(fault_env, logs, name="term-long", queues=("crash-test",))
    try:
        task_id = send(broker, ledger, test_actors.slow_count, 100, 0.1)  # 10 s; shutdown waits 5 s
        wait_for(lambda: ledger.get(task_id)["progress"] >= 5, timeout=30, what="the job to run")
        worker.proc.send_signal(signal.SIGTERM)
        worker.proc.wait(timeout=30)
        assert ledger.get(task_id)["state"] == "PROGRESS"
    finally:
        worker.stop()
    second = start_worker(fault_env, logs, name="term-rescuer", queues=("crash-test",))
    try:
        state = wait_for(lambda: (s := ledger.get(task_id))["state"] in ("SUCCESS", "FAILURE") and s,
                         timeout=60, interval=0.2, what="the requeued job to finish")
        assert state["state"] == "SUCCESS" and state["result"] == {"counted": 100}
    finally:
        second.stop()
