"""Input-to-output latency of the tracker through the real sockets (target p99 < 20 ms).

Every part runs in its own process, as in production:

* ``web``: gunicorn with two gevent workers (the ``/ws/pose/`` and ``/ws/holds/``
  relays, ``/ws/session-live/<id>/``);
* ``runtime``: the tracker as the actor builds it (:func:`actors.tracker.build_runtime`:
  a generated 200-hold wall, a 30-hold route, a real session, the live store
  on Redis and the ``Session`` row in SQL);
* ``publisher``: sends pose messages at 30 fps to ``/ws/pose/``;
* ``readers``: one ``/ws/pose/`` reader (the relay hop alone), one
  ``/ws/holds/`` reader and one ``/ws/session-live/<id>/`` client;
* ``floor``: a bare TCP receiver the publisher also pings with every frame:
  the cost of one wake-up of another process on this machine right now.

Latency = arrival at a reader − the publisher's time just before it sent the
frame the message was made from (``timestamp`` in the message; CLOCK_MONOTONIC,
shared by all processes; ``pose_updated`` has no timestamp and is matched to
its frame by its first landmark). The runtime also stamps each frame's arrival
(its input reader thread), the frame loop picking it up and the end of its
output send, so the tracker path splits into its hops. During the run the
conductor samples ``/proc/stat`` (CPU busy, runnable tasks): the load average
alone does not say how busy these 20–30 seconds were.

Run: ``.venv/bin/python bench/bench_tracker_latency.py [--messages N] [--fps F] [--profile FILE]``.
Uses REDIS_URL, or starts an embedded Redis. Prints a table; never part of the suite.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from bench.bench_tracker import CAMERA, WALL_H, WALL_W, messages, wall_svg  # noqa: E402

WARMUP = 60  # frames (2 s) that warm up sockets, the hold index and the listeners
_STAMP = re.compile(r'"timestamp":\s*(\d+)')


def clock() -> float:
    """CLOCK_MONOTONIC: one clock for every process on this machine."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def stamp_of(text: str) -> int | None:
    """The frame timestamp (ms) in a message: the last ``"timestamp"`` field (the output's is at its end)."""
    at = text.rfind('"timestamp"')
    if at < 0:
        return None
    match = _STAMP.match(text, at)
    return int(match.group(1)) if match else None


def first_landmark(text: str) -> str:
    """The text of the first landmark of a message's ``"pose"`` list (matches a frame across sockets)."""
    at = text.find('"pose":[')
    return text[at + 8:text.find("}", at) + 1] if at >= 0 else ""


def calibration():
    from motion.climbing import compute_calibration

    return compute_calibration([[0, 0], [640, 0], [640, 480], [0, 480]],
                               [[100, 80], [WALL_W - 60, 120], [WALL_W - 90, WALL_H - 40], [70, WALL_H - 100]],
                               CAMERA)


def dump_on_term(path: Path, data: dict) -> None:
    """Write ``data`` to ``path`` and exit when SIGTERM comes."""
    def handler(signum, frame):
        path.write_text(json.dumps(data))
        os._exit(0)
    signal.signal(signal.SIGTERM, handler)


# -- roles (each a process) ----------------------------------------------------

def role_readers(args) -> None:
    import websocket

    out: dict[str, dict] = {"relay": {}, "holds": {}, "live": {}, "live_climb": {}}
    # pose_updated carries no frame timestamp: it is matched to the frame by its first landmark's text,
    # which the /ws/holds/ message of the same frame carries too.
    pose_of_stamp: dict[str, int] = {}
    live_by_pose: dict[str, float] = {}
    base = f"ws://127.0.0.1:{args.port}"
    token = "?token=" + os.environ["BENCH_TOKEN"]
    urls = {"relay": base + "/ws/pose/" + token, "holds": base + "/ws/holds/" + token,
            "live": f"{base}/ws/session-live/{args.session}/" + token}
    # skip_utf8_validation: websocket-client's UTF-8 check is pure Python (~3 ms for a 17 KB output
    # message): a cost of this reader, not of the path measured (a browser checks in native code).
    sockets = {name: websocket.create_connection(url, timeout=10, skip_utf8_validation=True)
               for name, url in urls.items()}

    def finish(signum, frame):
        for pose, arrival in live_by_pose.items():
            if pose in pose_of_stamp:
                out["live"].setdefault(pose_of_stamp[pose], arrival)
        Path(args.out).write_text(json.dumps(out))
        os._exit(0)
    signal.signal(signal.SIGTERM, finish)

    def read(name: str, ws) -> None:
        ws.settimeout(None)
        while True:
            text = ws.recv()
            now = clock()
            if name == "live":
                if text.startswith('{"type":"climb_updated"'):
                    out["live_climb"][len(out["live_climb"])] = now
                elif text.startswith('{"type":"pose_updated"'):
                    live_by_pose.setdefault(first_landmark(text), now)
                continue
            stamp = stamp_of(text)
            if stamp is not None:
                out[name].setdefault(stamp, now)
                if name == "holds":
                    pose_of_stamp.setdefault(first_landmark(text), stamp)
    for name, ws in sockets.items():
        threading.Thread(target=read, args=(name, ws), daemon=True).start()
    Path(args.ready).write_text("ok")
    while True:
        time.sleep(3600)


def role_floor(args) -> None:
    """Stamp the arrival of the publisher's bare TCP pings (8-byte frame timestamps)."""
    out: dict[int, float] = {}
    server = socket.create_server(("127.0.0.1", args.floor_port))
    dump_on_term(Path(args.out), out)
    Path(args.ready).write_text("ok")
    conn, _ = server.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    while True:
        data = conn.recv(4096)
        now = clock()
        if not data:
            break
        buf += data
        while len(buf) >= 8:
            out.setdefault(int.from_bytes(buf[:8], "big"), now)
            buf = buf[8:]
    while True:
        time.sleep(3600)


def role_publisher(args) -> None:
    import websocket

    pub = websocket.create_connection(f"ws://127.0.0.1:{args.port}/ws/pose/?token={os.environ['BENCH_TOKEN']}",
                                      timeout=10, enable_multithread=True,
                                      skip_utf8_validation=True)

    def drain() -> None:
        # websocket-client answers the server's pings (WS_PING_INTERVAL) only inside recv(); a publisher that
        # never reads is closed after two intervals (runs longer than ~50 s).
        pub.settimeout(None)
        try:
            while True:
                pub.recv()
        except Exception:
            return
    threading.Thread(target=drain, daemon=True).start()
    floor = socket.create_connection(("127.0.0.1", args.floor_port))
    floor.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    texts = [(m["timestamp"], json.dumps(m)) for m in messages(args.messages + WARMUP, calibration())]
    sent: dict[int, float] = {}
    interval = 1.0 / args.fps
    start = clock()
    for i, (stamp, text) in enumerate(texts):
        delay = start + i * interval - clock()
        if delay > 0:
            time.sleep(delay)
        sent[stamp] = clock()
        pub.send(text)
        floor.sendall(stamp.to_bytes(8, "big"))
    time.sleep(0.5)
    Path(args.out).write_text(json.dumps(sent))


def role_runtime(args) -> None:
    """The tracker as the actor runs it, with per-frame stamps: input arrival and output sent."""
    from actors.tracker import build_runtime

    route = {"grade": "6a", "author": "bench", "problem": {"holds": [
        {"id": str(i * args.holds // 30), "type": "start" if i < 2 else "normal"} for i in range(30)]}}
    base = f"ws://127.0.0.1:{args.port}"
    runtime = build_runtime(wall_id=args.wall, input_websocket_url=base + "/ws/pose/",
                            output_websocket_url=base + "/ws/holds/", proximity_threshold=40.0,
                            reconnect_delay=0.1, route_data=json.dumps(route), session_id=args.session,
                            max_duration=3600)
    # Stamps per frame: reader thread got it, frame loop picked it up, output send returned.
    arrived: dict[int, float] = {}
    picked: dict[int, float] = {}
    emitted: dict[int, float] = {}
    put, step, send = runtime.input.on_message, runtime.tracker.step, runtime.output.send

    def on_message(text: str, arrival: float) -> None:
        stamp = stamp_of(text)
        if stamp is not None:
            arrived.setdefault(stamp, clock())
        put(text, arrival)

    def timed_step(text, arrival=None):
        stamp = stamp_of(text) if isinstance(text, str) else None
        if stamp is not None:
            picked.setdefault(stamp, clock())
        return step(text, arrival)

    def timed_send(text: str) -> bool:
        ok = send(text)
        stamp = stamp_of(text)
        if stamp is not None:
            emitted.setdefault(stamp, clock())
        return ok
    runtime.input.on_message, runtime.tracker.step, runtime.output.send = on_message, timed_step, timed_send
    signal.signal(signal.SIGTERM, lambda *a: runtime.request_stop())
    runtime.start(wait=10)
    Path(args.ready).write_text("ok")
    if args.profile:
        import yappi

        yappi.set_clock_type("cpu")
        yappi.start()
    runtime.run()
    if args.profile:
        yappi.stop()
        with open(args.profile, "w") as f:
            for thread in yappi.get_thread_stats():
                f.write(f"thread {thread.name} cpu {thread.ttot:.3f} s\n")
            stats = yappi.get_func_stats()
            stats.sort("ttot").print_all(out=f, columns={0: ("name", 70), 1: ("ncall", 8), 3: ("ttot", 8),
                                                         4: ("tavg", 8)})
    status = runtime.status()
    Path(args.out).write_text(json.dumps({"arrived": arrived, "picked": picked, "emitted": emitted,
                                          "status": status}, default=str))


# -- the conductor -------------------------------------------------------------

def table(rows) -> str:
    lines = ["| path | messages | p50 ms | p90 ms | p99 ms | max ms |", "|---|---:|---:|---:|---:|---:|"]
    for name, lat in rows:
        if not lat:
            lines.append(f"| {name} | 0 | | | | |")
            continue
        a = np.array(lat) * 1000
        lines.append(f"| {name} | {len(a)} | {np.percentile(a, 50):.2f} | {np.percentile(a, 90):.2f} | "
                     f"{np.percentile(a, 99):.2f} | {a.max():.2f} |")
    return "\n".join(lines)


def spawn(role: str, tmp: Path, args, extra: list[str]) -> tuple[subprocess.Popen, Path, Path]:
    out, ready = tmp / f"{role}.json", tmp / f"{role}.ready"
    cmd = [sys.executable, os.path.abspath(__file__), "--role", role, "--port", str(args.port),
           "--messages", str(args.messages), "--fps", str(args.fps), "--holds", str(args.holds),
           "--floor-port", str(args.floor_port), "--out", str(out), "--ready", str(ready),
           "--profile", args.profile, *extra]
    return subprocess.Popen(cmd, env=dict(os.environ)), out, ready


def wait_file(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise RuntimeError(f"{path.stem} exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path.stem} did not get ready")
        time.sleep(0.05)


def stop(proc: subprocess.Popen, out: Path) -> dict:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    proc.wait(20)
    return json.loads(out.read_text()) if out.exists() else {}


class MachineLoad:
    """CPU busy share and runnable tasks (``/proc/stat``) sampled while the bench runs: what the
    load average (a 1-minute mean) cannot say about these 20 seconds."""

    def __init__(self, every: float = 0.1) -> None:
        self.every, self.running, self._stop = every, [], threading.Event()
        self._start = self._cpu()
        self.busy = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def _cpu() -> tuple[int, int]:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        return sum(values) - idle, sum(values)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            with open("/proc/stat") as f:
                for line in f:
                    if line.startswith("procs_running"):
                        self.running.append(int(line.split()[1]))

    def stop(self) -> str:
        self._stop.set()
        end = self._cpu()
        busy = (end[0] - self._start[0]) / max(1, end[1] - self._start[1])
        runnable = np.array(self.running or [0])
        return (f"CPU busy {100 * busy:.0f} % of {os.cpu_count()} cores during the run (every process), "
                f"runnable tasks mean {runnable.mean():.1f}, p90 {np.percentile(runnable, 90):.0f}, "
                f"max {runnable.max()}")


def conduct(args) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="pq-bench-"))
    embedded = None
    if not os.environ.get("REDIS_URL"):
        from models.redis_server import EmbeddedRedis
        embedded = EmbeddedRedis(tmp / "redis").start()
        os.environ["REDIS_URL"] = embedded.url
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ["INSTANCE_PATH"] = str(tmp / "instance")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import actors  # noqa: F401  (opens the database and applies migrations)
    from models.climbing import Calibration, Session, Wall
    from models.db import connected
    from motion.climbing import parse_wall_svg
    from tests.support.processes import free_port, start_web

    svg = wall_svg(args.holds)
    with connected():
        wall = Wall.create(name="bench", svg=svg, width=WALL_W, height=WALL_H,
                           hold_count=len(parse_wall_svg(svg).holds))
        cal = Calibration.create(wall=wall, method="points", data=calibration().to_dict())
        Wall.update(active_calibration_id=cal.id).where(Wall.id == wall.id).execute()
        # Owned by the bench's admin: the tracker then reaches the relays with a token of theirs,
        # as a deployment with authentication does; readers and publisher use BENCH_TOKEN.
        from bench.env import bench_token
        from models.users import User

        os.environ["BENCH_TOKEN"] = bench_token()
        session = Session.create(owner=User.get(User.name == "bench").id)
    args.port, args.floor_port = free_port(), free_port()
    web = start_web(dict(os.environ), tmp, args.port, workers=2, name="bench-web")
    procs = {}
    try:
        ids = ["--wall", str(wall.id), "--session", str(session.id)]
        for role in ("floor", "readers", "runtime"):
            procs[role] = spawn(role, tmp, args, ids)
            wait_file(procs[role][2], procs[role][0])
        time.sleep(0.5)  # the listeners of both web workers subscribe
        load = os.getloadavg()
        machine = MachineLoad()
        procs["publisher"] = spawn("publisher", tmp, args, ids)
        procs["publisher"][0].wait(args.messages / args.fps + 120)
        machine_load = machine.stop()
        sent = {int(k): v for k, v in json.loads(procs["publisher"][1].read_text()).items()}
        time.sleep(0.3)
        results = {role: stop(procs[role][0], procs[role][1]) for role in ("runtime", "readers", "floor")}
    finally:
        for proc, _, _ in procs.values():
            if proc.poll() is None:
                proc.kill()
        web.stop()
        if embedded:
            embedded.stop()
        shutil.rmtree(tmp, ignore_errors=True)  # the database, Redis files and logs of this run
    warm = sorted(sent)[WARMUP:]

    def lat(got: dict, start: dict | None = None) -> list[float]:
        got = {int(k): v for k, v in got.items()}
        start = sent if start is None else {int(k): v for k, v in start.items()}
        return [got[t] - start[t] for t in warm if t in got and t in start]
    readers, runtime = results["readers"], results["runtime"]
    status = runtime.get("status", {})
    print(f"{args.messages} pose messages at {args.fps:g} fps, {args.holds}-hold wall, 30-hold route, "
          f"gunicorn+gevent ×2, runtime / publisher / readers in separate processes, {os.cpu_count()} cores, "
          f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(machine_load)
    print(table([
        ("floor: bare TCP ping, publisher → another process", lat(results["floor"])),
        ("relay only: /ws/pose/ → /ws/pose/ reader", lat(readers.get("relay", {}))),
        ("tracker: /ws/pose/ → runtime → /ws/holds/ reader", lat(readers.get("holds", {}))),
        ("tracker: /ws/pose/ → runtime → /ws/session-live/ pose_updated", lat(readers.get("live", {}))),
        ("  hop 1: publisher → runtime's input socket", lat(runtime.get("arrived", {}))),
        ("  hop 2: runtime arrival → output sent", lat(runtime.get("emitted", {}), runtime.get("arrived", {}))),
        ("    2a: reader thread → frame loop picks it up", lat(runtime.get("picked", {}), runtime.get("arrived", {}))),
        ("    2b: frame loop: step, encode, send", lat(runtime.get("emitted", {}), runtime.get("picked", {}))),
        ("  hop 3: output sent → /ws/holds/ reader", lat(readers.get("holds", {}), runtime.get("emitted", {}))),
    ]))
    print(f"output messages for {len(lat(readers.get('holds', {})))}/{len(warm)} frames "
          f"(stale_dropped={status.get('stale_dropped')}: superseded by a newer frame in the same read); "
          f"climb_updated seen on the live socket: {len(readers.get('live_climb', {}))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--holds", type=int, default=200)
    parser.add_argument("--profile", default="", help="write yappi CPU profile of the runtime process here")
    parser.add_argument("--role", default="conduct", help=argparse.SUPPRESS)
    for name in ("--port", "--floor-port", "--wall"):
        parser.add_argument(name, type=int, default=0, help=argparse.SUPPRESS)
    for name in ("--out", "--ready", "--session"):
        parser.add_argument(name, default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    {"conduct": conduct, "readers": role_readers, "floor": role_floor, "publisher": role_publisher,
     "runtime": role_runtime}[args.role](args)


if __name__ == "__main__":
    main()
