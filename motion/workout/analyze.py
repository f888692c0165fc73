"""Whole-video analysis: segments, reps with timestamps and form, and a plot."""
from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from motion.progress import Progress, no_progress
from motion.workout import exercises as ex
from motion.workout.session import WorkoutSession

MIN_SEGMENT = 1.0  # seconds: shorter runs of one label are not a segment


def analyze_workout(
    landmark_frames: Sequence[np.ndarray | None],
    fps: float,
    *,
    every: int = 2,
    aspect: float = 1.0,
    model: Any = None,
    progress: Progress = no_progress,
) -> dict[str, Any]:
    """Run a whole video's poses through a :class:`WorkoutSession`.

    Parameters:
        landmark_frames: one ``(33, 4)`` array (or None) per video frame.
        fps: the video's frame rate.
        every: analyse every N-th frame, as the live socket does (default 2).
        aspect: frame width / height.

    Returns:
        ``{"fps", "frames", "segments": [{exercise, start, end, reps}],
        "reps": [{exercise, rep, time, frame, form_score, feedback}],
        "series": {"time", "angle", "exercise"}, "summary"}``.
    """
    fps = float(fps) if fps and fps > 0 else 25.0
    session = WorkoutSession(model=model)
    times, angles, labels, reps = [], [], [], []
    total = len(landmark_frames)
    for i in range(0, total, max(1, every)):
        t = i / fps
        payload = session.step(landmark_frames[i], t, aspect=aspect)
        times.append(round(t, 3))
        angles.append(payload["angle"])
        labels.append(payload["exercise"])
        for event in session.rep_events:
            reps.append({**event, "frame": i})
        progress(i + 1, total, "workout analysis")
    return {"fps": fps, "frames": total, "segments": segments(times, labels, reps),
            "reps": reps, "series": {"time": times, "angle": angles, "exercise": labels},
            "summary": session.summary()}


def segments(times: list[float], labels: list[str], reps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs of one known exercise, at least :data:`MIN_SEGMENT` long, with their rep counts."""
    out: list[dict[str, Any]] = []
    start = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            name, t0, t1 = labels[start], times[start], times[i - 1]
            if name != ex.UNKNOWN and t1 - t0 >= MIN_SEGMENT:
                if out and out[-1]["exercise"] == name:
                    out[-1]["end"] = t1
                else:
                    out.append({"exercise": name, "start": t0, "end": t1})
            start = i
    for seg in out:
        seg["reps"] = sum(1 for r in reps if r["exercise"] == seg["exercise"] and seg["start"] <= r["time"] <= seg["end"] + 0.5)
    return out


def plot_angles(result: dict[str, Any], path: str | os.PathLike, title: str = "Workout") -> str:
    """Write a PNG of the tracked angle over time with reps marked; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = result["series"]
    t = np.array(s["time"], float)
    a = np.array([np.nan if x is None else x for x in s["angle"]], float)
    fig, ax = plt.subplots(figsize=(10, 4), dpi=100)
    try:
        ax.plot(t, a, color="#1f77b4", lw=1.5, label="tracked angle")
        for seg in result["segments"]:
            ax.axvspan(seg["start"], seg["end"], alpha=0.08, color="green")
            ax.text(seg["start"], 1.0, f" {seg['exercise']} ({seg['reps']})", transform=ax.get_xaxis_transform(),
                    va="top", fontsize=8)
        for r in result["reps"]:
            colour = "green" if r["form_score"] >= 80 else "orange" if r["form_score"] >= 60 else "red"
            ax.axvline(r["time"], color=colour, ls="--", lw=1)
            ax.text(r["time"], 0.02, str(r["rep"]), transform=ax.get_xaxis_transform(), color=colour, fontsize=8)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("angle (degrees)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(os.fspath(path), format="png")
    finally:
        plt.close(fig)
    return os.fspath(path)
