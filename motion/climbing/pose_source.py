"""Pose messages from a video, a camera or a recording (what `flask stream-pose` publishes).

Every message is the DESIGN.md wire format: ``{"type": "pose", "timestamp":
<ms since the epoch>, "width", "height", "landmarks": [33 × {x, y, z,
visibility}]}`` (``landmarks: []`` when nobody is in view). Each item the
generators yield is a :class:`TimedMessage`: the message and ``at``, the
seconds after the first message at which it should be sent to keep the
source's own spacing.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional, Union

from motion import jsontext
from motion.errors import InvalidInput
from motion.workout.pose import landmarks_to_message

#: Timestamps above this are milliseconds (1e11 s is the year 5138).
_MS_THRESHOLD = 1e11


@dataclass(frozen=True)
class TimedMessage:
    """A pose message and when to send it (seconds after the first one)."""

    message: dict
    at: float
    index: int
    total: Optional[int] = None


def _pose_tracker():
    import mediapipe as mp  # heavy: imported on first use

    # Tracking mode: a video's frames follow one another (DESIGN.md: only model_complexity=1 runs offline).
    return mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1,
                                  min_detection_confidence=0.5, min_tracking_confidence=0.5)


def video_pose_messages(
    source: Union[str, os.PathLike, int],
    *,
    start_time: Optional[float] = None,
    max_side: int = 640,
    max_frames: Optional[int] = None,
    every: int = 1,
    start_frame: int = 0,
) -> Iterator[TimedMessage]:
    """Run MediaPipe Pose (tracking mode) on a video file or a camera index and yield its pose messages.

    A file's timestamps are ``start_time`` (default: now) plus the frame's
    time in the video, so the tracker sees the video's own pace however fast
    the frames are processed; a camera's are the capture time. ``width`` and
    ``height`` are the frame's original size in pixels. ``start_frame`` skips
    the start of a file; ``max_frames`` counts from there.

    Raises:
        InvalidInput: the file or camera cannot be opened.
    """
    import cv2

    camera = isinstance(source, int)
    cap = cv2.VideoCapture(source if camera else os.fspath(source))
    if not cap.isOpened():
        raise InvalidInput(f"Cannot open {'camera ' if camera else 'video '}{source!r}.")
    pose = _pose_tracker()
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS)) or 30.0
        total = None if camera else (int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None)
        if start_frame and not camera:
            cap.set(cv2.CAP_PROP_POS_FRAMES, start_frame)
            total = None if total is None else max(0, total - start_frame)
        if total is not None and max_frames is not None:
            total = min(total, max_frames)
        t0 = time.time() if start_time is None else start_time
        first_capture: Optional[float] = None
        index = 0
        while max_frames is None or index < max_frames:
            ok, bgr = cap.read()
            if not ok:
                break
            captured = time.time()
            if index % every:
                index += 1
                continue
            h, w = bgr.shape[:2]
            scale = max_side / max(h, w)
            small = cv2.resize(bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) \
                if scale < 1.0 else bgr
            result = pose.process(cv2.cvtColor(small, cv2.COLOR_BGR2RGB))
            landmarks = []
            if result.pose_landmarks is not None:
                landmarks = [{"x": round(p.x, 5), "y": round(p.y, 5), "z": round(p.z, 5),
                              "visibility": round(p.visibility, 5)} for p in result.pose_landmarks.landmark]
            if camera:
                first_capture = captured if first_capture is None else first_capture
                at, stamp = captured - first_capture, captured
            else:
                at = index / fps
                stamp = t0 + at
            message = {"type": "pose", "timestamp": int(round(stamp * 1000)), "width": w, "height": h,
                       "landmarks": landmarks}
            yield TimedMessage(message, at, index, total)
            index += 1
    finally:
        pose.close()
        cap.release()


def frames_pose_messages(poses: Iterable, size: tuple[int, int], fps: float,
                         start_time: float) -> Iterator[TimedMessage]:
    """Messages from landmark arrays ``(33, 4)`` (None: nobody), one per frame at ``fps``."""
    for index, arr in enumerate(poses):
        at = index / fps
        message = {"type": "pose", "timestamp": int(round((start_time + at) * 1000)), "width": size[0],
                   "height": size[1], "landmarks": [] if arr is None else landmarks_to_message(arr, 5)}
        yield TimedMessage(message, at, index)


def message_seconds(timestamp) -> Optional[float]:
    """A wire timestamp (ms or s since the epoch) in seconds; None when absent or unusable."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)) or not abs(timestamp) < 1e300:
        return None  # also NaN, inf, and integers too large for a float
    return timestamp / 1000.0 if timestamp > _MS_THRESHOLD else float(timestamp)


def jsonl_pose_messages(lines: Iterable[str], *, total: Optional[int] = None) -> Iterator[TimedMessage]:
    """Recorded pose messages, one JSON object a line, with their original spacing.

    ``at`` comes from each message's timestamp (ms or s, recognised by
    magnitude) relative to the first; a message without a usable timestamp
    keeps the previous one's time. Blank lines are skipped; a line that is
    not a JSON object raises.

    Raises:
        InvalidInput: a line is not a JSON object (its line number is given).
    """
    first: Optional[float] = None
    at = 0.0
    index = 0
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            message = jsontext.loads(line, allow_nan=True)
        except ValueError:
            raise InvalidInput(f"Line {number} of the recording is not JSON.") from None
        if not isinstance(message, dict):
            raise InvalidInput(f"Line {number} of the recording is not a JSON object.")
        seconds = message_seconds(message.get("timestamp"))
        if seconds is not None:
            first = seconds if first is None else first
            at = max(at, seconds - first)
        yield TimedMessage(message, at, index, total)
        index += 1


def restamp(message: dict, at: float, start_time: float, *, as_ms: bool = True) -> dict:
    """``message`` with its timestamp moved to ``start_time + at`` (a replayed or looped recording)."""
    stamp = start_time + at
    return {**message, "timestamp": int(round(stamp * 1000)) if as_ms else round(stamp, 3)}
