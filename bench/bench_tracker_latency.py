"""Input-to-output latency of the tracker through the real sockets (target p99 < 20 ms).

A publisher sends pose messages at 30 fps to ``/ws/pose/`` of a real gunicorn
(gevent, two workers); a :class:`TrackerRuntime` reads them, steps a tracker on
a generated 200-hold wall and writes to ``/ws/holds/``; a reader there stamps
each output message's arrival. Latency = arrival − send time of the input frame
the output was made from (all on one clock). The relay alone (publisher →
another ``/ws/pose/`` reader) is measured too, for reference.

Run: ``.venv/bin/python bench/bench_tracker_latency.py [--messages N] [--fps F]``.
Uses REDIS_URL, or starts an embedded Redis. Prints a table; never part of the suite.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import websocket  # noqa: E402

from bench.bench_tracker import CAMERA, WALL_H, WALL_W, messages, wall_svg  # noqa: E402
from motion.climbing import ClimbTracker, TrackerParameters, compute_calibration, parse_wall_svg  # noqa: E402


def collect(url: str, out: dict, key, ready: threading.Event, stop: threading.Event) -> websocket.WebSocket:
    ws = websocket.create_connection(url, timeout=10)
    ws.settimeout(0.5)

    def run():
        ready.set()
        while not stop.is_set():
            try:
                text = ws.recv()
            except websocket.WebSocketTimeoutException:
                continue
            except Exception:
                return
            now = time.perf_counter()
            message = json.loads(text)
            stamp = key(message)
            if stamp is not None:
                out.setdefault(stamp, now)
    threading.Thread(target=run, daemon=True).start()
    return ws


def table(rows) -> str:
    lines = ["| path | messages | p50 ms | p90 ms | p99 ms | max ms |", "|---|---:|---:|---:|---:|---:|"]
    for name, lat in rows:
        a = np.array(lat) * 1000
        lines.append(f"| {name} | {len(a)} | {np.percentile(a, 50):.2f} | {np.percentile(a, 90):.2f} | "
                     f"{np.percentile(a, 99):.2f} | {a.max():.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--holds", type=int, default=200)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="pq-bench-"))
    embedded = None
    if not os.environ.get("REDIS_URL"):
        from models.redis_server import EmbeddedRedis
        embedded = EmbeddedRedis(tmp / "redis").start()
        os.environ["REDIS_URL"] = embedded.url
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ["INSTANCE_PATH"] = str(tmp / "instance")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from actors.tracker_runtime import TrackerRuntime
    from tests.support.processes import free_port, start_web

    port = free_port()
    web = start_web(dict(os.environ), tmp, port, workers=2, name="bench-web")
    base = f"ws://127.0.0.1:{port}"
    wall = parse_wall_svg(wall_svg(args.holds))
    cal = compute_calibration([[0, 0], [640, 0], [640, 480], [0, 480]],
                              [[100, 80], [WALL_W - 60, 120], [WALL_W - 90, WALL_H - 40], [70, WALL_H - 100]], CAMERA)
    tracker = ClimbTracker(wall, cal, None, TrackerParameters(proximity_threshold=40.0, abandon_after=3600))
    runtime = TrackerRuntime(tracker, base + "/ws/pose/", base + "/ws/holds/", reconnect_delay=0.1).start(wait=10)
    stop = threading.Event()
    tracked, relayed = {}, {}
    ready = [threading.Event(), threading.Event()]
    holds_ws = collect(base + "/ws/holds/", tracked, lambda m: m.get("timestamp"), ready[0], stop)
    pose_ws = collect(base + "/ws/pose/", relayed, lambda m: m.get("timestamp"), ready[1], stop)
    runner = threading.Thread(target=runtime.run, kwargs={"poll": 0.05}, daemon=True)
    runner.start()
    pub = websocket.create_connection(base + "/ws/pose/", timeout=10)
    msgs = messages(args.messages + 60, cal)
    sent = {}
    interval = 1.0 / args.fps
    start = time.perf_counter()
    try:
        for i, m in enumerate(msgs):
            delay = start + i * interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            text = json.dumps(m)
            sent[m["timestamp"]] = time.perf_counter()
            pub.send(text)
        time.sleep(0.5)
    finally:
        stop.set()
        runtime.request_stop()
        runner.join(5)
        for ws in (pub, holds_ws, pose_ws):
            ws.close()
        web.stop()
        if embedded:
            embedded.stop()
    warm = sorted(sent)[60:]  # the first two seconds warm up sockets and the hold index
    tracker_lat = [tracked[t] - sent[t] for t in warm if t in tracked]
    relay_lat = [relayed[t] - sent[t] for t in warm if t in relayed]
    print(f"{args.messages} pose messages at {args.fps:g} fps, {args.holds}-hold wall, gunicorn+gevent ×2, "
          f"{os.cpu_count()} cores")
    print(table([("relay only: /ws/pose/ → /ws/pose/ reader", relay_lat),
                 ("tracker: /ws/pose/ → runtime → /ws/holds/ reader", tracker_lat)]))
    print(f"output messages for {len(tracker_lat)}/{len(warm)} frames "
          f"(the rest were superseded by a newer frame in the same read: stale_dropped={runtime.stale_dropped})")


if __name__ == "__main__":
    main()
