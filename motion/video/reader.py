"""Stream decoded frames from a video file, one at a time."""
from __future__ import annotations

import os
from typing import Callable, Iterator, Optional

import cv2
import numpy as np

from motion.errors import InvalidInput, MotionError


def read_frames(path: str | os.PathLike) -> Iterator[np.ndarray]:
    """Yield the BGR frames of ``path`` in order, never holding more than one.

    The capture is released when the generator is exhausted, closed or
    garbage-collected, so breaking out of a ``for`` loop is safe.
    """
    cap = cv2.VideoCapture(os.fspath(path))
    try:
        if not cap.isOpened():
            raise InvalidInput(f"{os.path.basename(path)!r} is not a video OpenCV can open.")
        while True:
            ok, frame = cap.read()
            if not ok:
                return
            yield frame
    finally:
        cap.release()


def iter_frames(
    path: str | os.PathLike, wanted: Optional[Callable[[int], bool]] = None
) -> Iterator[tuple[int, Optional[np.ndarray]]]:
    """Yield ``(index, frame)`` for every frame; ``frame`` is None when
    ``wanted(index)`` is false (the frame is grabbed but not converted to BGR,
    which is cheaper). One frame is held at a time.
    """
    cap = cv2.VideoCapture(os.fspath(path))
    try:
        if not cap.isOpened():
            raise InvalidInput(f"{os.path.basename(path)!r} is not a video OpenCV can open.")
        index = 0
        while cap.grab():
            if wanted is None or wanted(index):
                ok, frame = cap.retrieve()
                if not ok:
                    return
                yield index, frame
            else:
                yield index, None
            index += 1
    finally:
        cap.release()


def iter_frame_range(
    path: str | os.PathLike, start: int = 0, stop: Optional[int] = None
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(index, frame)`` for frames ``[start, stop)`` (``stop`` None: to the end).

    A ``start`` past 0 seeks there by frame index. OpenCV's FFmpeg backend
    seeks to the keyframe before and decodes forward to the exact frame, so
    the frames are the ones a read from the beginning would give; the
    position it lands on is checked, and a seek that misses raises
    (:class:`MotionError`) rather than shifting every frame.
    """
    cap = cv2.VideoCapture(os.fspath(path))
    try:
        if not cap.isOpened():
            raise InvalidInput(f"{os.path.basename(path)!r} is not a video OpenCV can open.")
        if start > 0:
            cap.set(cv2.CAP_PROP_POS_FRAMES, start)
            landed = int(cap.get(cv2.CAP_PROP_POS_FRAMES))
            if landed < start:
                raise MotionError(f"{os.path.basename(path)!r} ends at frame {landed}, before frame {start} "
                                  "that its header promises: the file is damaged or truncated.")
            if landed != start:
                raise MotionError(f"Could not seek {os.path.basename(path)!r} to frame {start} exactly "
                                  f"(landed on {landed}); process it in one segment.")
        index = start
        while stop is None or index < stop:
            ok, frame = cap.read()
            if not ok:
                return
            yield index, frame
            index += 1
    finally:
        cap.release()
