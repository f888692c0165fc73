"""Task-layer latency and throughput on real processes; prints tables.

    python bench/bench_tasks.py [--jobs 2000] [--sockets 100]

Measures, on this machine: enqueue latency (POST -> 202 through gunicorn+gevent),
pickup latency (enqueue -> STARTED on an idle worker), push latency (actor
progress call -> WebSocket client receives it, with N subscribed sockets), and
no-op throughput through our lifecycle layer vs bare Dramatiq on the same Redis.
Uses an embedded Redis and a SQLite file unless REDIS_URL / DATABASE_URL are set.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.env import bench_token, prepare, with_token  # noqa: E402

TMP, EMBEDDED = prepare("pqb-")

import requests  # noqa: E402

import actors  # noqa: E402
from actors.submit import submit  # noqa: E402
from bench import actors as bench_actors  # noqa: E402
from tests.support.processes import Process, free_port, start_web, wait_for  # noqa: E402

BIN = Path(sys.executable).parent
TOKEN = ""  # an admin's API token: requests are authenticated, as in production


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def note(text: str) -> None:
    """Progress on stderr, so the tables on stdout stay clean."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def row(name: str, values_ms: list[float], target: str = "") -> str:
    return (f"| {name} | {len(values_ms)} | {statistics.median(values_ms):.1f} | {pct(values_ms, 99):.1f} "
            f"| {max(values_ms):.1f} | {target} |")


def start_worker(module: str, name: str, threads: int = 4) -> Process:
    env = {**os.environ, "dramatiq_worker_timeout": os.environ.get("DRAMATIQ_POLL_MS", "50")}
    # --queues default: as the Procfile's `worker` (live workout frames have a process of their own).
    return Process([str(BIN / "dramatiq"), *module.split(), "--processes", "1", "--threads", str(threads),
                    "--queues", "default"],
                   env, TMP / f"{name}.log")


def bench_enqueue(base: str, n: int) -> list[float]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = session.post(f"{base}/api/tasks/prune/", json={"older_than_days": 3650})
        out.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 202, r.text
    return out


def bench_pickup(redis_client, n: int, gap: float) -> list[float]:
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe("pq:task-events")
    out = []
    for _ in range(n):
        time.sleep(gap)  # let the worker go idle, as a quiet spell would
        t0 = time.perf_counter()
        task_id = submit(bench_actors.bench_noop)["task_id"]
        deadline = time.monotonic() + 30
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError("the bench worker did not start the job; see its log in " + str(TMP))
            message = pubsub.get_message(timeout=5)
            if not message:
                continue
            flat = json.loads(message["data"])
            state = dict(zip(flat[0::2], flat[1::2]))
            if json.loads(state["task_id"]) == task_id and json.loads(state["state"]) == "STARTED":
                out.append((time.perf_counter() - t0) * 1000)
                break
    pubsub.close()
    return out


def bench_push(base: str, sockets: int, reports: int) -> list[float]:
    """Latency from the actor's progress() call to receipt on each of ``sockets`` clients."""
    # The job waits before its first report so every listener has subscribed.
    task_id = submit(bench_actors.bench_progress, reports, 0.05, 5.0)["task_id"]
    listeners = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "ws_listeners.py"), with_token(base.replace("http", "ws") + "/ws/tasks/", TOKEN),
         task_id, str(sockets)], stdout=subprocess.PIPE, text=True)
    assert listeners.stdout.readline().strip() == "ready", "listeners failed to subscribe"
    latencies = json.loads(listeners.stdout.readline())
    listeners.wait()
    return latencies


def bench_throughput(module: str, send, queue_key: str, jobs: int, redis_client, name: str) -> float:
    """Jobs per second: N queued jobs drained by one worker process of 4 threads."""
    import dramatiq

    send(jobs)
    assert redis_client.llen(queue_key) >= jobs, "jobs were not queued"
    worker = start_worker(module, name)
    try:
        wait_for(lambda: redis_client.llen(queue_key) < jobs, timeout=60, interval=0.002, what="first pickup")
        t0 = time.perf_counter()
        wait_for(lambda: redis_client.llen(queue_key) == 0 and not redis_client.exists(queue_key.replace(
            ":default", ":__acks__.") + "x"), timeout=600, interval=0.01, what="queue to drain")
        broker = dramatiq.get_broker()
        del broker
        t1 = time.perf_counter()
    finally:
        worker.stop()
    return jobs / (t1 - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000, help="no-op jobs for the throughput run")
    parser.add_argument("--sockets", type=int, default=100, help="subscribed sockets for the push run")
    parser.add_argument("--samples", type=int, default=200, help="samples for the latency runs")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the throughput comparison")
    parser.add_argument("--skip-latency", action="store_true", help="only the throughput comparison")
    parser.add_argument("--job-ms", type=float, nargs="*", default=[10.0, 100.0],
                        help="also compare jobs that sleep this many milliseconds (real jobs are not no-ops)")
    args = parser.parse_args()
    global TOKEN
    redis_client = actors.ledger.store.client
    redis_client.flushdb()
    TOKEN = bench_token()

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, Redis {redis_client.info('server')['redis_version']}, "
          f"database {os.environ['DATABASE_URL'].split(':')[0]}")
    results = []
    if not args.skip_latency:
        latency_tables(args, redis_client, results)
        print("\n| measure | samples | p50 ms | p99 ms | max ms | target |\n|---|---|---|---|---|---|")
        print("\n".join(results))
    throughput_table(args, redis_client)


def latency_tables(args, redis_client, results: list) -> None:
    port = free_port()
    web = start_web(dict(os.environ), TMP, port, workers=2)
    base = f"http://127.0.0.1:{port}"
    try:
        note("enqueue latency")
        bench_enqueue(base, 20)  # warm up
        results.append(row("enqueue: POST -> 202", bench_enqueue(base, args.samples), "p99 < 20 ms"))
        redis_client.delete("dramatiq:default", "dramatiq:default.DQ")
        worker = start_worker("actors bench.actors", "lifecycle-worker")
        try:
            wait_for(lambda: redis_client.keys("dramatiq:__heartbeats__*") or True, timeout=5)
            note("pickup latency")
            bench_pickup(redis_client, 5, 0.2)  # warm up
            results.append(row("pickup: enqueue -> STARTED (idle worker)",
                               bench_pickup(redis_client, args.samples, 0.3), "p99 < 100 ms"))
            note(f"push latency with {args.sockets} sockets")
            push = bench_push(base, args.sockets, 60)
            results.append(row(f"push: progress() -> socket, {args.sockets} sockets", push, "p99 < 50 ms"))
        finally:
            worker.stop()
    finally:
        web.stop()


def throughput_table(args, redis_client) -> None:
    """Jobs per second, ours vs bare, for no-op jobs and for jobs of ``--job-ms`` milliseconds."""
    from bench import bare_actors  # noqa: F401  (switches the current broker to the bare one)
    import dramatiq

    bare_broker = dramatiq.get_broker()
    rows = []
    for job_ms in [0, *args.job_ms]:
        jobs = args.jobs if job_ms == 0 else max(200, int(args.jobs * 0.002 / (job_ms / 1000 + 0.002)))

        def send_ours(n, ms=job_ms):
            for _ in range(n):
                submit(bench_actors.bench_noop) if ms == 0 else submit(bench_actors.bench_sleep, ms)

        def send_bare(n, ms=job_ms):
            for _ in range(n):
                bare_broker.enqueue(bare_actors.bare_noop.message() if ms == 0 else bare_actors.bare_sleep.message(ms))

        redis_client.delete("dramatiq:default", "bare:default")
        note(f"throughput: {jobs} jobs of {job_ms} ms, ours and bare alternately, {args.repeat} rounds")
        ours, bare = [], []
        for _ in range(args.repeat):
            ours.append(bench_throughput("actors bench.actors", send_ours, "dramatiq:default", jobs,
                                         redis_client, "ours"))
            bare.append(bench_throughput("bench.bare_actors", send_bare, "bare:default", jobs, redis_client, "bare"))
        rows.append((job_ms, statistics.median(bare), statistics.median(ours), bare, ours))
    print(f"\n| job length | bare Dramatiq jobs/s | posequeue jobs/s | ours / bare | overhead per job |"
          f"\n|---|---|---|---|---|")
    for job_ms, b, o, bare, ours in rows:
        # 4 worker threads: each job holds a thread for 4 / rate seconds.
        per_job = (4 / o - 4 / b) * 1000
        print(f"| {'no-op' if job_ms == 0 else f'{job_ms} ms'} | {b:.0f} ({', '.join(f'{x:.0f}' for x in bare)}) "
              f"| {o:.0f} ({', '.join(f'{x:.0f}' for x in ours)}) | {o / b:.2f} | {per_job:.2f} ms |")
    print(f"\n1 worker process x 4 threads, median of {args.repeat} alternating runs; "
          "overhead per job = extra thread time per job (4 / rate difference).")


if __name__ == "__main__":
    try:
        main()
    finally:
        if EMBEDDED:
            EMBEDDED.stop()
