"""The scaled-out topology: 2 gunicorn gevent workers, 2 dramatiq processes, one Redis, the database.

100 concurrent submissions of mixed job kinds (real and synthetic videos):
every one ends, none is lost or duplicated, and sockets on either web process
see every task through to its end, in order. Queue depth and Redis memory are
sampled and printed.
"""
from __future__ import annotations

import json
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import websocket

from models.redis_client import make_redis
from models.redis_server import EmbeddedRedis
from tests.motion.videogen import make_video
from tests.support.processes import free_port, start_web, start_worker, wait_for

pytestmark = pytest.mark.e2e

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "videos" / "exercise" / "pushup_single_1rep.mp4"


@pytest.fixture(scope="module", params=["redis", "rabbitmq"])
def topology(request, env, logs):
    """(base URL, Redis client, queue-depth function) of a private stack on the given broker."""
    redis_server = EmbeddedRedis(tempfile.mkdtemp(prefix="pqt-")).start()
    redis_client = make_redis(redis_server.url)
    topo_env = {**env, "REDIS_URL": redis_server.url}
    if request.param == "rabbitmq":
        from tests.test_rabbitmq import AMQP_URL, _purge, _rabbitmq_up

        if not _rabbitmq_up():
            redis_server.stop()
            pytest.skip("no RabbitMQ on 127.0.0.1:5672 (CI machines run one)")
        _purge()
        topo_env["BROKER_URL"] = AMQP_URL
        depth = _rabbit_depth
    else:
        def depth():
            return redis_client.llen("dramatiq:default") + redis_client.zcard("dramatiq:default.DQ")
    worker = start_worker(topo_env, logs, processes=2, threads=2, name=f"topo-worker-{request.param}")
    port = free_port()
    web = start_web(topo_env, logs, port, workers=2, name=f"topo-web-{request.param}")
    yield f"http://127.0.0.1:{port}", redis_client, depth
    web.stop()
    worker.stop()
    redis_server.stop()


def _rabbit_depth() -> int:
    import pika

    from tests.test_rabbitmq import AMQP_URL

    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        return connection.channel().queue_declare("default", passive=True).method.message_count
    finally:
        connection.close()


def upload(base: str, path: Path) -> int:
    with open(path, "rb") as f:
        response = requests.post(f"{base}/api/videos/", files={"file": (path.name, f)}, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_hundred_concurrent_mixed_jobs_all_end_once_and_every_socket_sees_them(topology, tmp_path, capsys):
    base, redis_client, queue_depth = topology
    synthetic = upload(base, make_video(tmp_path / "synthetic.mp4", frames=60))
    real = upload(base, REAL) if REAL.is_file() else synthetic
    kinds = (
        [("/api/tasks/prune/", {"older_than_days": 3650})] * 50
        + [(f"/api/video-remove-frames/{synthetic}/", {"ranges": [[0, 9]]})] * 25
        + [(f"/api/video-apply-mask/{real}/", {"regions": [{"shape": "rect", "x": 0, "y": 0,
                                                            "width": 50, "height": 50}]})] * 20
        + [(f"/api/video-analyze/{real}/", {"stride": 10})] * 5
    )
    samples: list[tuple[float, int, int]] = []
    stop = threading.Event()

    def sample():
        t0 = time.monotonic()
        while not stop.is_set():
            depth = queue_depth()
            samples.append((time.monotonic() - t0, depth, int(redis_client.info("memory")["used_memory"])))
            stop.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        _run(base, kinds, queue_depth, redis_client, samples, capsys)
    finally:
        stop.set()
        sampler.join()


def _run(base, kinds, queue_depth, redis_client, samples, capsys):
    sockets = [websocket.create_connection(base.replace("http", "ws") + "/ws/tasks/", timeout=120) for _ in range(8)]

    def post(kind):
        path, body = kind
        return requests.post(base + path, json=body, timeout=30)

    with ThreadPoolExecutor(max_workers=25) as pool:
        responses = list(pool.map(post, kinds))
    assert [r.status_code for r in responses] == [202] * 100
    task_ids = [r.json()["task_id"] for r in responses]
    assert len(set(task_ids)) == 100

    for ws in sockets:
        for task_id in task_ids:
            ws.send(json.dumps({"action": "subscribe", "task_id": task_id}))

    def finals(ws) -> dict:
        ends, last_progress = {}, {}
        while len(ends) < 100:
            message = json.loads(ws.recv())
            task_id = message.get("task_id")
            if message["type"] == "task_update":
                assert task_id not in ends, "an update arrived after the task ended"
                assert message["progress"] >= last_progress.get(task_id, 0), "progress went backwards"
                last_progress[task_id] = message["progress"]
            elif message["type"] in ("task_complete", "task_error"):
                assert task_id not in ends, "a task ended twice"
                ends[task_id] = message
        return ends

    with ThreadPoolExecutor(max_workers=8) as pool:
        seen = list(pool.map(finals, sockets))
    for ws in sockets:
        ws.close()
    for ends in seen:
        assert set(ends) == set(task_ids)
        assert all(m["type"] == "task_complete" for m in ends.values()), \
            [m for m in ends.values() if m["type"] != "task_complete"][:3]

    states = [requests.get(f"{base}/api/task-status/{t}/", timeout=10).json() for t in task_ids]
    assert all(s["state"] == "SUCCESS" and s["attempts"] == 1 for s in states)
    derived = requests.get(f"{base}/api/videos/", timeout=10).json()["items"]
    made = [v for v in derived if v["task_id"] in set(task_ids)]
    assert len(made) == 45  # one output per video job, none duplicated
    assert wait_for(lambda: queue_depth() == 0, timeout=10, what="an empty queue")

    peak_depth = max(d for _, d, _ in samples)
    assert peak_depth <= 100
    with capsys.disabled():
        print("\n| t (s) | queue depth | Redis used_memory (KB) |\n|---|---|---|")
        for t, depth, memory in samples[:: max(1, len(samples) // 12)]:
            print(f"| {t:.1f} | {depth} | {memory // 1024} |")
