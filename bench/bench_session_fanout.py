"""Live session fan-out: one session, N watchers on one gunicorn+gevent web worker.

    python bench/bench_session_fanout.py [--watchers 200] [--updates 200] [--poses 1000]

Prints a markdown table: ``climb_update`` sent → received by *all* watchers
(p50/p99, paced at 20 per second; every update is validated, written to Redis
and SQL and published) and pose messages per second through the worker
(``pose_update`` sent as fast as the sender can, relayed, not stored; counted
as deliveries = messages × watchers). The watchers run in a gevent subprocess
(this file with ``--child``) so the client side stays cheap, as in
``bench/ws_listeners.py``. Uses REDIS_URL/DATABASE_URL when set, else an
embedded Redis and a SQLite file.
"""
import sys

if "--child" in sys.argv:
    from gevent import monkey

    monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


# -- child: the watchers ------------------------------------------------------------

def child(url: str, n: int, updates: int, poses: int) -> None:
    import gevent
    import websocket

    stamps: list = [None] * n
    ready: list = []

    def watch(k: int) -> None:
        ws = websocket.create_connection(url, timeout=120)
        ws.recv(), ws.recv()  # session, climb: the current state
        ready.append(k)
        climbs, pose_times = [], []
        ws.settimeout(20)
        while len(climbs) < updates or len(pose_times) < poses:
            try:
                message = json.loads(ws.recv())
            except Exception:  # closed as a slow reader, or nothing more came: report what arrived
                break
            now = time.time()
            if message["type"] == "climb_updated":
                climbs.append((int(message["climb"]["holds"][0]["time"]), now))
            elif message["type"] == "pose_updated":
                pose_times.append(now)
        ws.close()
        stamps[k] = {"climbs": climbs, "poses": [pose_times[0], pose_times[-1]] if pose_times else []}

    jobs = [gevent.spawn(watch, k) for k in range(n)]
    while len(ready) < n:
        gevent.sleep(0.01)
    print("ready", flush=True)
    gevent.joinall(jobs)
    print(json.dumps(stamps), flush=True)


# -- parent ---------------------------------------------------------------------------

def setup_env() -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="pq-fanout-"))
    if not os.environ.get("REDIS_URL"):
        from models.redis_server import EmbeddedRedis

        os.environ["REDIS_URL"] = EmbeddedRedis(tmp / "redis").start().url
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["INSTANCE_PATH"] = str(tmp / "instance")
    return tmp


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--watchers", type=int, default=200)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--poses", type=int, default=300)
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.child:
        return child(args.url, args.watchers, args.updates, args.poses)

    tmp = setup_env()
    import requests
    import websocket

    from models.climbing import Session
    from models.db import connected, init_db
    from tests.support.processes import BIN, Process, free_port

    init_db(os.environ["DATABASE_URL"])
    holds = [{"id": f"hold_{n}", "type": "normal", "status": "untouched", "time": None} for n in range(10)]
    climb = {"holds": holds, "startTime": None, "endTime": None, "status": "started"}
    with connected():
        session = Session.create(climb_data={"climb": climb, "pose": []})
    port = free_port()
    (tmp / "logs").mkdir()
    web = Process([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "app:create_app()"],
                  {**os.environ, "PORT": str(port), "WEB_CONCURRENCY": "1"}, tmp / "logs" / "web.log")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        from bench.env import bench_token, with_token

        url = with_token(f"ws://127.0.0.1:{port}/ws/session-live/{session.id}/", bench_token())
        watchers = subprocess.Popen([sys.executable, __file__, "--child", "--url", url, "--watchers",
                                     str(args.watchers), "--updates", str(args.updates), "--poses", str(args.poses)],
                                    stdout=subprocess.PIPE, text=True)
        assert watchers.stdout.readline().strip() == "ready", "watchers failed to connect"
        sender = websocket.create_connection(url, timeout=120)
        threading.Thread(target=lambda: [sender.recv() for _ in iter(int, 1)], daemon=True).start()
        sent = {}
        for n in range(args.updates):
            holds[0]["time"] = str(n)
            sent[n] = time.time()
            sender.send(json.dumps({"type": "climb_update", "climb": climb}))
            time.sleep(0.05)
        pose = [{"x": 0.5, "y": 0.5, "z": 0.0, "visibility": 1.0}] * 35
        text = json.dumps({"type": "pose_update", "pose": pose})
        pose_start = time.time()
        for _ in range(args.poses):
            sender.send(text)
        stamps = json.loads(watchers.stdout.readline())
        watchers.wait()
    finally:
        web.stop()
    all_received = {}
    for s in stamps:
        for n, t in s["climbs"]:
            all_received[n] = max(all_received.get(n, 0), t)
    latencies = sorted((all_received[n] - sent[n]) * 1000 for n in all_received)
    pose_end = max(s["poses"][1] for s in stamps if s["poses"])
    complete = sum(1 for s in stamps if len(s["climbs"]) == args.updates)
    rate = args.poses / (pose_end - pose_start)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    print(f"| watchers | climb_update → all received p50 | p99 | max | pose messages/s in | deliveries/s out |")
    print("|---|---|---|---|---|---|")
    print(f"| {args.watchers} | {statistics.median(latencies):.1f} ms | {p99:.1f} ms | {latencies[-1]:.1f} ms "
          f"| {rate:.0f} | {rate * args.watchers:.0f} |")
    print(f"\n({len(latencies)} climb updates at 20/s, {args.poses} poses of 35 landmarks; one gevent worker; "
          f"database {os.environ['DATABASE_URL'].split(':')[0]}; {complete}/{args.watchers} watchers got every update)")


if __name__ == "__main__":
    main()
