"""The workout analysis of a whole video, from the landmarks file a video analysis wrote."""
from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from motion.errors import InvalidInput
from motion.progress import Progress, no_progress
from motion.workout.analyze import analyze_workout, plot_angles
from motion.workout.pose import landmarks_from_message

#: Analyse every N-th frame, as the live socket does by default.
EVERY = 2


def workout_report(
    landmarks_jsonl: str | os.PathLike,
    plot_path: str | os.PathLike,
    *,
    fps: float,
    width: int,
    height: int,
    title: str = "Workout",
    progress: Progress = no_progress,
) -> dict[str, Any]:
    """Exercise segments, reps with timestamps and form scores, and a PNG of the tracked angle.

    ``landmarks_jsonl`` is what :func:`motion.video.ops.analyze_video` writes:
    one ``{"frame", "landmarks"}`` record per analysed frame (tracking mode).
    Frames are analysed with the live socket's stride (every 2nd), or the
    file's own stride when that is coarser.

    Returns:
        ``{"segments": [{exercise, start, end, reps}], "reps": [{exercise, rep,
        time, frame, form_score, feedback}], "summary": {...}, "every": n}``;
        the plot is written to ``plot_path``.

    Raises:
        InvalidInput: the landmarks file is unreadable.
    """
    frames: dict[int, np.ndarray | None] = {}
    try:
        with open(landmarks_jsonl, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    record = json.loads(line)
                    lm = record.get("landmarks")
                    frames[int(record["frame"])] = None if lm is None else landmarks_from_message(lm)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"The landmarks file cannot be read ({exc.__class__.__name__}).") from None
    if not frames:
        raise InvalidInput("The video has no analysed frames.")
    indexes = sorted(frames)
    stride = min((b - a for a, b in zip(indexes, indexes[1:])), default=1)
    every = max(EVERY, stride)
    series = [frames.get(i) for i in range(indexes[-1] + 1)]
    aspect = width / height if width and height else 1.0
    result = analyze_workout(series, fps, every=every, aspect=aspect, progress=progress)
    plot_angles(result, plot_path, title=title)
    return {"segments": result["segments"], "reps": result["reps"], "summary": result["summary"], "every": every}
