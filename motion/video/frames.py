"""Frame-removal specs: which frame indices go, and which audio time stays.

A spec (every key optional, at least one non-empty)::

    {"frames": [3, 7],            # single 0-based indices
     "ranges": [[10, 19]],        # 0-based, end inclusive
     "times":  [[1.5, 2.0]]}      # seconds, half-open [t0, t1)

Frame ``i`` is shown during ``[i / fps, (i + 1) / fps)``. A time range
removes every frame whose display interval overlaps ``[t0, t1)``, so
``[1.0, 2.0)`` at 30 fps removes frames 30..59 and a range shorter than a
frame still removes the frame it falls in.
"""
from __future__ import annotations

import math
from numbers import Real
from typing import Any, Iterable

from motion.errors import InvalidInput, as_float, shown

_EPS = 1e-6


def _index(value: Any, what: str, frames: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{what} must be an integer frame index, got {shown(value)}.")
    if not 0 <= value < frames:
        raise InvalidInput(f"{what} = {shown(value)} is out of range: the video has frames 0..{frames - 1}.")
    return value



def _seconds(value: Any, what: str) -> float:
    number = as_float(value)
    if number is None or not math.isfinite(number):
        raise InvalidInput(f"{what} must be a number of seconds, got {shown(value)}.")
    return number


def _pairs(spec: dict, key: str) -> list:
    value = spec.get(key) or []
    if not isinstance(value, (list, tuple)):
        raise InvalidInput(f"{key} must be a list.")
    for i, pair in enumerate(value):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise InvalidInput(f"{key}[{i}] must be a pair [start, end], got {shown(pair)}.")
    return list(value)


def removed_indices(spec: Any, frames: int, fps: float) -> set[int]:
    """Resolve a removal spec into the set of frame indices to drop.

    Raises:
        InvalidInput: malformed spec, an index or time outside the video (the
            message names the value), nothing to remove, or every frame removed.
    """
    if not isinstance(spec, dict):
        raise InvalidInput("The removal spec must be an object with frames, ranges or times.")
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
        raise InvalidInput(f"The video must have at least one frame, not {shown(frames)}.")
    if isinstance(fps, bool) or not isinstance(fps, Real) or not 0 < fps < math.inf:
        raise InvalidInput(f"The video's frame rate must be a positive number, not {shown(fps)}.")
    duration = frames / fps
    out: set[int] = set()
    singles = spec.get("frames") or []
    if not isinstance(singles, (list, tuple)):
        raise InvalidInput("frames must be a list of frame indices.")
    for i, value in enumerate(singles):
        out.add(_index(value, f"frames[{i}]", frames))
    for i, (start, end) in enumerate(_pairs(spec, "ranges")):
        s = _index(start, f"ranges[{i}][0]", frames)
        e = _index(end, f"ranges[{i}][1]", frames)
        if e < s:
            raise InvalidInput(f"ranges[{i}] = [{s}, {e}] ends before it starts.")
        out.update(range(s, e + 1))
    for i, (start, end) in enumerate(_pairs(spec, "times")):
        t0, t1 = _seconds(start, f"times[{i}][0]"), _seconds(end, f"times[{i}][1]")
        if t0 < 0 or t0 >= duration:
            raise InvalidInput(f"times[{i}][0] = {t0:g} s is outside the video (0 to {duration:.3f} s).")
        if t1 <= t0:
            raise InvalidInput(f"times[{i}] = [{t0:g}, {t1:g}] must end after it starts.")
        if t1 > duration + 1 / fps:
            raise InvalidInput(f"times[{i}][1] = {t1:g} s is past the end of the video ({duration:.3f} s).")
        first = math.floor(t0 * fps + _EPS)
        last = min(frames, math.ceil(t1 * fps - _EPS)) - 1
        out.update(range(first, last + 1))
    if not out:
        raise InvalidInput("Nothing to remove: give frames, ranges or times.")
    if len(out) >= frames:
        raise InvalidInput(f"The spec removes all {frames} frames; at least one must remain.")
    return out


def kept_segments(removed: Iterable[int], frames: int, fps: float) -> list[tuple[float, float]]:
    """The (start, end) times in seconds of the runs of frames that are kept.

    Used to cut the audio by time so that it stays in sync with the video.
    When the last frame is kept, its segment runs on to the end of the audio
    (its end is a huge number), so audio a little longer than the video stays.
    """
    gone = set(removed)
    segments, start = [], None
    for i in range(frames):
        if i not in gone and start is None:
            start = i
        elif i in gone and start is not None:
            segments.append((start / fps, i / fps))
            start = None
    if start is not None:
        segments.append((start / fps, 1e9))
    return segments
