"""Benchmark the video jobs on a 1080p clip; prints a table (not a test).

    .venv/bin/python bench/bench_video.py [--frames 150]

A 1080p clip is made by upscaling a shared exercise clip (with its audio) into
a temp folder. Each job's throughput (source frames per second) is compared
with two bare loops over the same clip in the same run:

* ``cv2 loop``: ``cv2.VideoCapture.read`` → ``cv2.VideoWriter`` (mp4v), the
  plain OpenCV read→write loop;
* ``h264 loop``: ``cv2.VideoCapture.read`` → our H.264 :class:`VideoWriter`
  with no processing (same encoder as the jobs: the like-for-like baseline).

Peak memory: each job runs again in a fresh subprocess on the clip and on a
clip twice as long; the table shows the Python process's peak RSS and the
ffmpeg child's.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402

from motion.video import VideoWriter, apply_mask, probe, read_frames, remove_frames  # noqa: E402
from motion.video.ffmpeg import ffmpeg_exe  # noqa: E402

SOURCE = ROOT.parent / "shared" / "data" / "videos" / "exercise" / "jumpingjack_front_11reps.mp4"

RECT = {"regions": [{"shape": "rect", "x": 0, "y": 0, "width": 480, "height": 120},
                    {"shape": "rect", "x": 1500, "y": 900, "width": 400, "height": 160}],
        "color": [0, 0, 0]}
POLY = {"mode": "blur", "regions": [{"shape": "polygon",
        "points": [[100, 700], [500, 600], [700, 1000], [200, 1050]]}]}
FACES = {"faces": True}


def jobs(frames: int) -> dict:
    """name → callable(src, dst) for every job in the table."""
    cut = {"ranges": [[frames // 4, frames // 4 + frames // 10 - 1]]}
    return {
        "rect fill": lambda s, d: apply_mask(s, d, RECT),
        "polygon blur": lambda s, d: apply_mask(s, d, POLY),
        "face blur": lambda s, d: apply_mask(s, d, FACES),
        "frame removal (10%)": lambda s, d: remove_frames(s, d, cut),
    }


def make_clip(dst: Path, frames: int) -> Path:
    """Upscale the first ``frames`` frames of the shared clip to 1920x1080."""
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(SOURCE),
                    "-vf", "scale=1920:1080:flags=bicubic", "-frames:v", str(frames),
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-shortest", str(dst)], check=True)
    return dst


def cv2_loop(src: Path, dst: Path) -> None:
    cap = cv2.VideoCapture(str(src))
    fps, w, h = cap.get(cv2.CAP_PROP_FPS), int(cap.get(3)), int(cap.get(4))
    out = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        out.write(frame)
    cap.release()
    out.release()


def h264_loop(src: Path, dst: Path) -> None:
    info = probe(src)
    with VideoWriter(dst, width=info.width, height=info.height, fps=info.fps) as writer:
        for frame in read_frames(src):
            writer.write(frame)


def timed(fn, src: Path, dst: Path, frames: int, repeat: int = 2) -> float:
    """Best frames/s of ``repeat`` runs (the machine is shared and noisy)."""
    best = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        fn(src, dst)
        best = max(best, frames / (time.perf_counter() - start))
    return best


def peak_memory(job: str, src: Path, dst: Path, frames: int) -> tuple[float, float]:
    """Run ``job`` in a fresh interpreter; return (python MB, ffmpeg MB) peak RSS."""
    code = (f"import sys, json, resource; sys.path.insert(0, {str(ROOT)!r});"
            f"from bench.bench_video import jobs;"
            f"jobs({frames})[{job!r}]({str(src)!r}, {str(dst)!r});"
            "print(json.dumps([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
            "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    me, child = json.loads(out.stdout.strip().splitlines()[-1])
    return me / 1024, child / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=150)
    args = parser.parse_args()
    if not SOURCE.is_file():
        sys.exit(f"shared clip {SOURCE} is absent; nothing to benchmark")
    n = args.frames
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clip, clip2 = make_clip(tmp / "clip.mp4", n), make_clip(tmp / "clip2.mp4", 2 * n)
        info = probe(clip)
        print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
              f"Python {platform.python_version()}, OpenCV {cv2.__version__}")
        print(f"clip: {info.width}x{info.height}, {info.frames} frames, {info.fps:.2f} fps, "
              f"audio={info.has_audio} (upscaled from {SOURCE.name})\n")
        cv2_fps = timed(cv2_loop, clip, tmp / "cv2.mp4", n)
        h264_fps = timed(h264_loop, clip, tmp / "h264.mp4", n)
        rows = [("bare cv2 loop (mp4v)", cv2_fps), ("bare h264 loop (ours, no work)", h264_fps)]
        rows += [(name, timed(fn, clip, tmp / "out.mp4", n)) for name, fn in jobs(n).items()]
        print(f"| {'job':32} | {'frames/s':>8} | {'vs cv2 loop':>11} | {'vs h264 loop':>12} |")
        print(f"|{'-' * 34}|{'-' * 10}|{'-' * 13}|{'-' * 14}|")
        for name, fps in rows:
            print(f"| {name:32} | {fps:8.1f} | {fps / cv2_fps:11.2f} | {fps / h264_fps:12.2f} |")
        print(f"\npeak RSS (MB), fresh process per run: {n} frames → {2 * n} frames")
        print(f"| {'job':32} | {'python ' + str(n):>11} | {'python ' + str(2 * n):>11} "
              f"| {'ffmpeg ' + str(n):>11} | {'ffmpeg ' + str(2 * n):>11} |")
        print(f"|{'-' * 34}|{'-' * 13}|{'-' * 13}|{'-' * 13}|{'-' * 13}|")
        for name in jobs(n):
            a_py, a_ff = peak_memory(name, clip, tmp / "m1.mp4", n)
            b_py, b_ff = peak_memory(name, clip2, tmp / "m2.mp4", 2 * n)
            print(f"| {name:32} | {a_py:11.0f} | {b_py:11.0f} | {a_ff:11.0f} | {b_ff:11.0f} |")


if __name__ == "__main__":
    main()
