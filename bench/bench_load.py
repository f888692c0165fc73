"""Many sockets on one web worker: push latency and memory per socket; prints a table.

    python bench/bench_load.py [--sockets 500] [--reports 100]

One gunicorn gevent worker, one dramatiq worker; N WebSocket clients (one gevent
process) subscribe to a live task whose actor reports progress every 50 ms
with the wall-clock time in each status text.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_tasks import EMBEDDED, TMP, note, pct, start_worker  # noqa: E402  (sets up Redis/DB env)

import requests  # noqa: E402

from actors.submit import submit  # noqa: E402
from bench import actors as bench_actors  # noqa: E402
from bench.env import bench_token, with_token  # noqa: E402
from tests.support.processes import free_port, start_web  # noqa: E402


def rss_kb(pid: int) -> int:
    """Resident memory of a process, in KB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def gunicorn_worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=500)
    parser.add_argument("--reports", type=int, default=40)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between progress reports")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    port = free_port()
    web = start_web(dict(os.environ), TMP, port, workers=1)
    worker = start_worker("actors bench.actors", "load-worker")
    base = f"http://127.0.0.1:{port}"
    try:
        requests.get(f"{base}/healthz")
        pid = gunicorn_worker_pid(web.proc.pid)
        idle = rss_kb(pid)
        task_id = submit(bench_actors.bench_progress, args.reports, args.interval, 15.0)["task_id"]
        note(f"opening {args.sockets} sockets")
        listeners = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "ws_listeners.py"),
             with_token(base.replace("http", "ws") + "/ws/tasks/", bench_token()),
             task_id, str(args.sockets)], stdout=subprocess.PIPE, text=True)
        assert listeners.stdout.readline().strip() == "ready", "listeners failed to subscribe"
        time.sleep(1.0)
        loaded = rss_kb(pid)
        note("streaming")
        latencies = json.loads(listeners.stdout.readline())
        listeners.wait()
    finally:
        worker.stop()
        web.stop()
    print(f"\nprogress every {args.interval} s: {args.sockets / args.interval:.0f} pushes/s")
    print(f"\n| sockets on one gevent worker | pushes | p50 ms | p99 ms | max ms | RSS idle MB | RSS with sockets MB "
          f"| KB per socket |\n|---|---|---|---|---|---|---|---|")
    print(f"| {args.sockets} | {len(latencies)} | {pct(latencies, 50):.1f} | {pct(latencies, 99):.1f} | "
          f"{max(latencies):.1f} | {idle / 1024:.0f} | {loaded / 1024:.0f} | {(loaded - idle) / args.sockets:.0f} |")


if __name__ == "__main__":
    try:
        main()
    finally:
        if EMBEDDED:
            EMBEDDED.stop()
