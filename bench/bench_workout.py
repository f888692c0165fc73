"""Live workout latency on real processes: frame -> ``workout`` message, and /healthz while streaming.

    python bench/bench_workout.py [--seconds 15] [--clients 1 4 8]

Starts the Procfile's processes with their defaults (gunicorn+gevent with 2
workers; ``dramatiq actors`` with 2 processes x 2 threads), then N clients each
stream 640x480 JPEG frames of a real squat video at 10 fps over /ws/workout/
(every 2nd frame analysed, the default) while another client polls
``GET /healthz`` every 100 ms. Latency is measured per analysed frame from
the client's send to its ``workout`` message; frames skipped under overload
(newest frame wins) are counted as dropped. Uses an embedded Redis and a
SQLite file unless REDIS_URL / DATABASE_URL are set.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.env import prepare  # noqa: E402

TMP, EMBEDDED = prepare("pqbw-")
os.environ["INSTANCE_PATH"] = str(TMP / "instance")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import requests  # noqa: E402
import websocket  # noqa: E402

from bench.env import bench_token, with_token  # noqa: E402
from tests.support.processes import Process, free_port, start_web  # noqa: E402

BIN = Path(sys.executable).parent
TOKEN = bench_token()
VIDEO = Path(os.environ.get("WORKOUT_BENCH_VIDEO", "/work/shared/data/videos/exercise/squat_side_3reps.mp4"))
FPS = 10.0


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def note(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def frames_640x480(path: Path, n: int = 110) -> list[str]:
    """The video at 10 fps, letterboxed to 640x480, as JPEG data URLs (a grey frame if it is absent)."""
    out = []
    cap = cv2.VideoCapture(str(path))
    src_fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    i, next_t = 0, 0.0
    while len(out) < n:
        ok, bgr = cap.read()
        if not ok:
            break
        if i / src_fps >= next_t:
            h, w = bgr.shape[:2]
            scale = min(640 / w, 480 / h)
            small = cv2.resize(bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
            canvas = np.zeros((480, 640, 3), np.uint8)
            y, x = (480 - small.shape[0]) // 2, (640 - small.shape[1]) // 2
            canvas[y:y + small.shape[0], x:x + small.shape[1]] = small
            ok, buf = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, 80])
            out.append("data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode())
            next_t += 1 / FPS
        i += 1
    cap.release()
    if not out:
        note(f"{path} absent: streaming a grey frame")
        ok, buf = cv2.imencode(".jpg", np.full((480, 640, 3), 128, np.uint8))
        out = ["data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode()]
    return out


class Client:
    """One streaming client: a sender at 10 fps and a receiver timing each ``workout`` message."""

    def __init__(self, base: str, frames: list[str], seconds: float) -> None:
        self.ws = websocket.create_connection(with_token(base.replace("http://", "ws://") + "/ws/workout/", TOKEN),
                                             timeout=30)
        assert json.loads(self.ws.recv())["type"] == "system"
        self.frames, self.seconds = frames, seconds
        self.sent: dict[int, float] = {}
        self.latencies: list[float] = []
        self.dropped = 0
        self.analysed = 0
        self.done = threading.Event()
        self.lost_last = False
        n = int(seconds * FPS)
        self.last_seq = n if n % 2 else n - 1  # the last analysed frame (every 2nd, from the first)
        self.errors: list[str] = []
        self.sent_seen: list[int] = []

    def send_loop(self) -> None:
        start = time.perf_counter()
        n = int(self.seconds * FPS)
        for k in range(n):
            time.sleep(max(0.0, start + k / FPS - time.perf_counter()))
            self.sent[k + 1] = time.perf_counter()
            self.ws.send(json.dumps({"type": "frame", "payload": self.frames[k % len(self.frames)]}))
        self.done.set()

    def receive_loop(self) -> None:
        self.ws.settimeout(1.0)  # server pings would keep a longer recv() waiting for ever
        deadline = None
        while True:
            now = time.perf_counter()
            if self.done.is_set():
                deadline = deadline or now + 15
                if now > deadline:
                    self.lost_last = True  # the last frame's result never came
                    note(f"lost: got up to {max(self.sent_seen or [0])} of {self.last_seq}; errors {self.errors[:3]}")
                    return
            try:
                message = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                continue
            now = time.perf_counter()
            if message["type"] == "error":
                self.errors.append(message["payload"]["message"])
            if message["type"] != "workout":
                continue
            p = message["payload"]
            self.latencies.append((now - self.sent[p["frame_count"]]) * 1000)
            self.analysed += 1
            self.sent_seen.append(p["frame_count"])
            self.dropped = p["dropped_frames"]
            if p["frame_count"] >= self.last_seq:
                return


def run(base: str, frames: list[str], clients: int, seconds: float) -> dict:
    conns = [Client(base, frames, seconds) for _ in range(clients)]
    health: list[float] = []
    stop = threading.Event()

    def poll_health():
        session = requests.Session()
        while not stop.is_set():
            t0 = time.perf_counter()
            session.get(f"{base}/healthz", timeout=10).raise_for_status()
            health.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.1)

    threads = [threading.Thread(target=poll_health)]
    for c in conns:
        threads += [threading.Thread(target=c.send_loop), threading.Thread(target=c.receive_loop)]
    for i, t in enumerate(threads):
        t.start()
        if i and i % 2 == 0:
            time.sleep(0.1 / clients)  # spread the clients over one frame interval
    for t in threads[1:]:
        t.join()
    stop.set()
    threads[0].join()
    for c in conns:
        c.ws.close()
    lat = [x for c in conns for x in c.latencies]
    offered = sum((int(seconds * FPS) + 1) // 2 for _ in conns)
    return {"clients": clients, "analysed": len(lat), "offered": offered,
            "dropped": sum(c.dropped for c in conns), "lost": sum(c.lost_last for c in conns), "p50": statistics.median(lat), "p99": pct(lat, 99),
            "max": max(lat), "health_n": len(health), "health_p50": statistics.median(health),
            "health_p99": pct(health, 99), "health_max": max(health)}


def main() -> None:
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so the finally below stops the processes
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="streaming time per run")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 8])
    args = parser.parse_args()
    frames = frames_640x480(VIDEO)
    port = free_port()
    env = dict(os.environ)
    web = start_web(env, TMP, port, workers=2)
    worker = Process([str(BIN / "dramatiq"), "actors", "--processes", "2", "--threads", "2",
                      "--worker-shutdown-timeout", "5000"], {**env, "dramatiq_worker_timeout": "50"},
                     TMP / "worker.log")
    base = f"http://127.0.0.1:{port}"
    try:
        idle = []
        for _ in range(50):
            t0 = time.perf_counter()
            requests.get(f"{base}/healthz", timeout=10)
            idle.append((time.perf_counter() - t0) * 1000)
        note("warming up the workers (MediaPipe start-up)")
        run(base, frames, 2, 3.0)
        results = []
        for n in args.clients:
            note(f"{n} client(s) streaming for {args.seconds:.0f} s")
            results.append(run(base, frames, n, args.seconds))
    finally:
        worker.stop()
        web.stop()
        if os.environ.get("BENCH_KEEP_LOGS"):
            note(f"logs in {TMP}")
        if EMBEDDED:
            EMBEDDED.stop()
    print(f"\nMachine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}; web = gunicorn+gevent x2, worker = dramatiq 2 processes x 2 threads; "
          f"frames 640x480 JPEG q80 at {FPS:.0f} fps per client, every 2nd analysed.\n")
    print("| clients | analysed / offered | dropped (newest wins) | frame→workout p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['clients']} | {r['analysed']} / {r['offered']} | {r['dropped']} | {r['p50']:.0f} "
              f"| {r['p99']:.0f} | {r['max']:.0f} |" + (f" {r['lost']} client(s) missed their last result" if r["lost"] else ""))
    print("\n| GET /healthz | requests | p50 ms | p99 ms | max ms | target |")
    print("|---|---|---|---|---|---|")
    print(f"| idle | {len(idle)} | {statistics.median(idle):.1f} | {pct(idle, 99):.1f} | {max(idle):.1f} | |")
    for r in results:
        print(f"| while {r['clients']} client(s) stream | {r['health_n']} | {r['health_p50']:.1f} "
              f"| {r['health_p99']:.1f} | {r['health_max']:.1f} | p99 < 50 ms |")


if __name__ == "__main__":
    main()
