"""Speed-up of a masking job split into parallel segments, with 1, 2 and 4 worker processes.

    python bench/bench_segments.py [--frames 720] [--segments 4]

A long 1080p clip is made by upscaling the shared exercise clip (looped, with
its audio; keyframes every 2 s like a phone's). For each worker count N a real
``dramatiq actors --processes N --threads 1`` worker is started on an
embedded Redis (or REDIS_URL) and a SQLite file, and the job runs twice
through the API's own path (``submit(apply_mask, ...)``): once as one task
(``segments: 1``) and once in ``--segments`` segments. Wall time is enqueue →
SUCCESS as the user sees it.

The projection is Amdahl's law with the serial part measured here: the
parent's probe + keyframe scan + fan-out (before the first segment starts)
and the join (after the last segment ends); everything between is the part
that divides among workers. Not a test; prints a table.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.env import prepare  # noqa: E402

TMP, EMBEDDED = prepare("pqseg-")
os.environ["MEDIA_ROOT"] = str(TMP / "media")
os.environ["INSTANCE_PATH"] = str(TMP / "instance")

import actors  # noqa: E402
from actors import video as video_actors  # noqa: E402
from actors.submit import submit  # noqa: E402
from models.db import connected  # noqa: E402
from models.tasks import parse_iso  # noqa: E402
from models.videos import Video  # noqa: E402
from motion.video import probe  # noqa: E402
from motion.video.ffmpeg import ffmpeg_exe  # noqa: E402
from tests.support.processes import Process, wait_for  # noqa: E402

BIN = Path(sys.executable).parent
SOURCE = ROOT.parent / "shared" / "data" / "videos" / "exercise" / "jumpingjack_front_11reps.mp4"
SPEC = {"regions": [{"shape": "rect", "x": 0, "y": 0, "width": 480, "height": 120},
                    {"shape": "polygon", "points": [[100, 700], [500, 600], [700, 1000], [200, 1050]]}],
        "mode": "fill", "color": [0, 0, 0], "faces": False, "face_mode": "blur", "device": None}


def note(text: str) -> None:
    """Progress on stderr, so the table on stdout stays clean."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def make_clip(dst: Path, frames: int) -> Path:
    """Loop and upscale the shared clip to ``frames`` frames of 1920x1080 (GOP 2 s)."""
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-stream_loop", "-1",
                    "-i", str(SOURCE), "-vf", "scale=1920:1080:flags=bicubic", "-frames:v", str(frames),
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-g", "60", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-shortest", str(dst)], check=True)
    return dst


def register(path: Path) -> int:
    """A Video record for ``path`` under MEDIA_ROOT (what an upload makes)."""
    media = video_actors.media_root()
    dst = media / "videos" / path.name
    if not dst.exists():
        os.link(path, dst)
    info = probe(dst)
    with connected():
        return Video.create(filename=path.name, path=str(dst.relative_to(media)), frames=info.frames,
                            fps=info.fps, width=info.width, height=info.height, duration=info.duration,
                            size_bytes=dst.stat().st_size, has_audio=info.has_audio, codec=info.codec,
                            steps=[]).id


def run(video_id: int, segments: int) -> dict:
    """Run one masking job; return wall time and, when split, its serial parts."""
    started = time.monotonic()
    state = submit(video_actors.apply_mask, video_id, {**SPEC, "segments": segments})
    task_id = state["task_id"]
    final = wait_for(lambda: (s := actors.ledger.get(task_id))["state"] in ("SUCCESS", "FAILURE") and s,
                     timeout=900, interval=0.05, what="the job")
    wall = time.monotonic() - started
    if final["state"] != "SUCCESS":
        raise RuntimeError(final["error"])
    out = {"wall": wall}
    children = [actors.ledger.get(c) for c in actors.ledger.store.children(task_id)]
    if children:
        t = lambda s, k: parse_iso(s[k]).timestamp()  # noqa: E731
        parts, join = children[:-1], children[-1]
        created = parse_iso(final["created_at"]).timestamp()
        out["before"] = min(t(p, "started_at") for p in parts) - created
        out["segments"] = max(t(p, "finished_at") for p in parts) - min(t(p, "started_at") for p in parts)
        out["join"] = t(join, "finished_at") - max(t(p, "finished_at") for p in parts)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=720)
    parser.add_argument("--segments", type=int, default=4)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    if not SOURCE.is_file():
        sys.exit(f"needs {SOURCE}")
    note(f"making a {args.frames}-frame 1080p clip")
    clip = make_clip(TMP / "long1080.mp4", args.frames)
    video_id = register(clip)
    env = {**os.environ, "dramatiq_worker_timeout": "50"}
    rows = []
    for n in [int(x) for x in args.workers.split(",")]:
        note(f"{n} worker process(es)")
        worker = Process([str(BIN / "dramatiq"), "actors", "--processes", str(n), "--threads", "1"],
                         env, TMP / f"worker{n}.log")
        try:
            run(video_id, 1)  # warm-up: imports and first encode in every process
            single = run(video_id, 1)
            split = run(video_id, args.segments)
        finally:
            worker.stop()
        rows.append((n, single, split))
    base = rows[0][1]["wall"]
    info = probe(clip)
    print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; clip {info.width}x{info.height}, {info.frames} frames, "
          f"{args.segments} segments; mask = 2 regions (rect fill + polygon fill)\n")
    print("| worker processes | one task s | segmented s | speed-up vs one task on 1 process "
          "| before segments s | segments s | join s |")
    print("|---|---|---|---|---|---|---|")
    for n, single, split in rows:
        print(f"| {n} | {single['wall']:.1f} | {split['wall']:.1f} | {base / split['wall']:.2f}x "
              f"| {split['before']:.2f} | {split['segments']:.1f} | {split['join']:.2f} |")
    one = rows[0][2]
    serial = one["before"] + one["join"]
    s = serial / one["wall"]
    print(f"\nAmdahl projection from the 1-process segmented run: serial part {serial:.2f} s "
          f"of {one['wall']:.1f} s (s = {s:.3f}); speed-up(n) = 1 / (s + (1 - s) / n), "
          f"with segments = n:")
    print("| cores = processes = segments | 2 | 4 | 8 | 16 |")
    print("|---|---|---|---|---|")
    print("| projected speed-up | " + " | ".join(f"{1 / (s + (1 - s) / n):.2f}x" for n in (2, 4, 8, 16)) + " |")


if __name__ == "__main__":
    try:
        main()
    finally:
        if EMBEDDED:
            EMBEDDED.stop()
