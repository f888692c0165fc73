"""Messages per second through ClimbTracker.step on generated walls (target ≥ 2,000/s on one core).

Run: ``.venv/bin/python bench/bench_tracker.py [--messages N]``. Prints a table;
never part of the pass/fail suite.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from motion.climbing import (  # noqa: E402
    ClimbTracker,
    TrackerParameters,
    build_session_message,
    compute_calibration,
    parse_wall_svg,
)

WALL_W, WALL_H = 2500.0, 3330.0
CAMERA = (640, 480)


def wall_svg(n_holds: int) -> str:
    """A wall of ``n_holds`` blob-shaped cubic holds on a jittered grid, inside nested transformed groups."""
    cols = max(1, int(round(math.sqrt(n_holds * WALL_W / WALL_H))))
    rows = math.ceil(n_holds / cols)
    rng = np.random.default_rng(7)
    paths = []
    for n in range(n_holds):
        cx = (n % cols + 0.5) * WALL_W / cols + rng.uniform(-20, 20)
        cy = (n // cols + 0.5) * WALL_H / rows + rng.uniform(-20, 20)
        r = rng.uniform(25, 60)
        k = 0.5523 * r
        d = (f"M {cx + r} {cy} C {cx + r} {cy + k} {cx + k} {cy + r} {cx} {cy + r} "
             f"C {cx - k} {cy + r} {cx - r} {cy + k} {cx - r} {cy} "
             f"C {cx - r} {cy - k} {cx - k} {cy - r} {cx} {cy - r} "
             f"C {cx + k} {cy - r} {cx + r} {cy - k} {cx + r} {cy} Z")
        paths.append(f'<path class="hold" id="hold_{n}" d="{d}"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WALL_W} {WALL_H}">'
            f'<g transform="translate(10,0)"><g transform="translate(-10,0)">{"".join(paths)}</g></g></svg>')


def messages(count: int, cal) -> list[dict]:
    """A climber's hands sweeping over the wall at 30 fps, as MediaPipe messages."""
    out = []
    rng = np.random.default_rng(1)
    for i in range(count):
        t = i / 30.0
        lw = (WALL_W * (0.3 + 0.2 * math.sin(t * 0.7)), WALL_H * (0.5 + 0.4 * math.sin(t * 0.3)))
        rw = (WALL_W * (0.7 + 0.2 * math.cos(t * 0.5)), WALL_H * (0.5 + 0.4 * math.cos(t * 0.4)))
        body = cal.wall_to_image([(lw[0] + rw[0]) / 2, (lw[1] + rw[1]) / 2 + 400]) / CAMERA
        lms = [{"x": float(body[0] + rng.normal(0, 0.01)), "y": float(body[1] + rng.normal(0, 0.01)),
                "z": 0.0, "visibility": 0.98} for _ in range(33)]
        for hand, idx in ((lw, (15, 17, 19, 21)), (rw, (16, 18, 20, 22))):
            x, y = cal.wall_to_image(hand) / CAMERA
            for j, k in enumerate(idx):
                lms[k] = {"x": float(x + 0.004 * (j % 2)), "y": float(y + 0.004 * (j // 2)),
                          "z": 0.0, "visibility": 0.95}
        out.append({"type": "pose", "timestamp": 1_763_000_000_000 + round(t * 1000),
                    "width": CAMERA[0], "height": CAMERA[1], "landmarks": lms})
    return out


def rate(fn, items) -> float:
    start = time.perf_counter()
    for item in items:
        fn(item)
    return len(items) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    args = parser.parse_args()
    cal = compute_calibration([[0, 0], [640, 0], [640, 480], [0, 480]],
                              [[100, 150], [2400, 100], [2450, 3250], [60, 3300]], CAMERA)
    print(f"ClimbTracker.step, {args.messages} messages per row, one process, "
          f"proximity_threshold=40, touch_duration=0.5, a 30-hold route\n")
    header = f"{'holds':>6} | {'step(dict) msg/s':>17} | {'step(JSON text) msg/s':>22} | " \
             f"{'step + output JSON msg/s':>25} | {'µs/step':>8} | {'touches':>7}"
    print(header)
    print("-" * len(header))
    for n_holds in (20, 200, 2000):
        wall = parse_wall_svg(wall_svg(n_holds))
        msgs = messages(args.messages, cal)
        texts = [json.dumps(m) for m in msgs]
        params = TrackerParameters(proximity_threshold=40.0, touch_duration=0.5)
        # a 30-hold route without finish holds, so the session never ends mid-run
        route = {"grade": "6a", "author": "bench", "problem": {"holds": [
            {"id": str(i * n_holds // 30), "type": "start" if i < 2 else "normal"} for i in range(30)]}}

        tracker = ClimbTracker(wall, cal, route, params)
        r_dict = rate(tracker.step, msgs)
        touches = tracker.get_status()["touches"]
        tracker = ClimbTracker(wall, cal, route, params)
        r_text = rate(tracker.step, texts)
        tracker = ClimbTracker(wall, cal, route, params)
        r_out = rate(lambda t: json.dumps(build_session_message(tracker, tracker.step(t))), texts)
        print(f"{n_holds:>6} | {r_dict:>17,.0f} | {r_text:>22,.0f} | {r_out:>25,.0f} | "
              f"{1e6 / r_dict:>8.0f} | {touches:>7}")


if __name__ == "__main__":
    main()
