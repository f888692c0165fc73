"""Accuracy of the workout analysis on the real clips in ../shared/data.

Every clip goes through what the ``/ws/workout/`` socket does: every 2nd frame
is analysed (MediaPipe Pose in tracking mode, model_complexity=1) and handed
to :class:`motion.workout.session.WorkoutSession.step`. Prints true vs counted
reps and true vs classified exercise per clip, and the totals.

    python -m bench.accuracy [--every N] [--data DIR]

Landmarks are extracted once per clip and cached (see
:func:`motion.workout.pose.cached_video_landmarks`).
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from motion.workout.pose import cached_video_landmarks  # noqa: E402
from motion.workout.session import WorkoutSession  # noqa: E402

DATA = Path(os.environ.get("POSEQUEUE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
EVERY = 2  # the socket's default cadence

#: Ground truth from ../shared/data/SOURCES.md: file -> (exercise, reps, labels also accepted).
TRUTH: dict[str, tuple[str, int, tuple[str, ...]]] = {
    "pushup_side_4reps.mp4": ("push-up", 4, ()),
    "pushup_ucf101_g22c02_4reps.avi": ("push-up", 4, ()),
    "pushup_ucf101_g24c01_2reps.avi": ("push-up", 2, ()),
    "pushup_single_1rep.mp4": ("push-up", 1, ()),
    "squat_ucf101_g01c01_side_4reps.avi": ("squat", 4, ()),
    "squat_ucf101_g18c01_5reps.avi": ("squat", 5, ()),
    "squat_side_3reps.mp4": ("squat", 3, ()),
    "jumpingjack_front_11reps.mp4": ("jumping-jack", 11, ()),
    "jumpingjack_front_18reps.mp4": ("jumping-jack", 18, ()),
    "lunge_walking_quva020_5reps.mp4": ("lunge", 5, ()),
    "crunch_cross_quva093_5reps.mp4": ("crunch", 5, ("sit-up",)),  # "crunch / sit-up family"
    "bicep_curl_side_4reps_plus_partial.mp4": ("bicep-curl", 4, ()),
    "situp_decline_bench_7reps.mp4": ("sit-up", 7, ()),
    "plank_hold_side.mp4": ("plank", 0, ()),
}


@dataclass
class Result:
    """One clip's outcome."""

    clip: str
    true_exercise: str
    exercise: str
    true_reps: int
    reps: int
    confidence: float
    accepted: tuple[str, ...] = ()

    @property
    def exercise_ok(self) -> bool:
        return self.exercise == self.true_exercise or self.exercise in self.accepted


def run_clip(path: Path, every: int = EVERY) -> Result:
    """Analyse one clip as the socket would and compare with the truth."""
    true_ex, true_reps, accepted = TRUTH[path.name]
    frames, fps = cached_video_landmarks(path, static=False, every=every)
    cap = cv2.VideoCapture(str(path))
    aspect = cap.get(cv2.CAP_PROP_FRAME_WIDTH) / max(1.0, cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    cap.release()
    session = WorkoutSession()
    payload: dict = {}
    for i in range(0, len(frames), every):
        payload = session.step(frames[i], i / fps, aspect=aspect)
    summary = session.summary()
    # The clip's answer: the exercise the session spent most time on, and its reps.
    details = summary["exercise_details"]
    if details:
        name = max(details, key=lambda k: details[k]["duration"])
        reps = details[name]["total_reps"]
    else:
        name, reps = payload.get("exercise", "unknown"), payload.get("reps", 0)
    return Result(path.name, true_ex, name, true_reps, reps, payload.get("confidence", 0.0), accepted)


def run_all(data: Path = DATA, every: int = EVERY) -> list[Result]:
    """Every clip in TRUTH found under ``data/videos/exercise``."""
    folder = data / "videos" / "exercise"
    return [run_clip(folder / name, every) for name in TRUTH if (folder / name).exists()]


def totals(results: list[Result]) -> dict[str, float]:
    """Exact-count rate, off-by-at-most-one rate, MAE and exercise accuracy."""
    n = max(1, len(results))
    errors = [abs(r.reps - r.true_reps) for r in results]
    return {
        "clips": len(results),
        "exact": sum(e == 0 for e in errors) / n,
        "within_one": sum(e <= 1 for e in errors) / n,
        "mae": sum(errors) / n,
        "exercise": sum(r.exercise_ok for r in results) / n,
    }


def table(results: list[Result]) -> str:
    """The results as a Markdown table with totals."""
    lines = ["| clip | true exercise | classified | true reps | counted | error |",
             "|---|---|---|---|---|---|"]
    for r in results:
        ok = "" if r.exercise_ok else " ✗"
        lines.append(f"| {r.clip} | {r.true_exercise} | {r.exercise}{ok} | {r.true_reps} | {r.reps} | "
                     f"{r.reps - r.true_reps:+d} |")
    t = totals(results)
    lines.append("")
    lines.append(f"clips {t['clips']}: exact count {t['exact']:.0%}, off by at most one {t['within_one']:.0%}, "
                 f"MAE {t['mae']:.2f} reps, exercise correct {t['exercise']:.0%}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=EVERY, help="analyse every N-th frame (socket default 2)")
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    args = parser.parse_args()
    if not (args.data / "videos" / "exercise").is_dir():
        sys.exit(f"no clips: {args.data / 'videos' / 'exercise'} does not exist")
    print(table(run_all(args.data, args.every)))


if __name__ == "__main__":
    main()
