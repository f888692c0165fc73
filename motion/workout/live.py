"""Live frames: decode a browser frame, find the pose (tracking when possible), step the session.

The web process never runs this; analysis workers do, one frame of a
connection at a time, with the session state handed to them as JSON.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable, Optional

import numpy as np

from motion.errors import InvalidInput
from motion.workout.pose import _to_array, pose_from_image
from motion.workout.session import WorkoutSession

#: Frames are downscaled to this many pixels on their longer side before pose estimation.
MAX_SIDE = 640


def decode_image(data: bytes, max_side: int = MAX_SIDE) -> np.ndarray:
    """A JPEG/PNG/WebP as a BGR array, downscaled to ``max_side``.

    Raises:
        InvalidInput: the bytes are not an image OpenCV can decode.
    """
    import cv2

    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if bgr is None or bgr.size == 0:
        raise InvalidInput("Frame processing error: the payload is not a decodable JPEG or PNG image")
    h, w = bgr.shape[:2]
    scale = max_side / max(h, w)
    if scale < 1.0:
        bgr = cv2.resize(bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    return bgr


class _Tracker:
    def __init__(self) -> None:
        import mediapipe as mp

        self.pose = mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1,
                                           min_detection_confidence=0.5, min_tracking_confidence=0.5)
        self.last: Hashable = None
        self.lock = threading.Lock()


class PoseTrackers:
    """Tracking-mode MediaPipe Pose instances, one per stream, least recently used evicted.

    Tracking (using the previous frame's pose to find the next) is more
    accurate than detecting afresh, but only valid when the instance saw the
    stream's previous frame. Callers pass tokens: ``after`` (the stream's
    previous analysed frame) and ``now`` (this one); when the instance last saw
    something else (the frame went to another worker, the session was reset)
    it is reset and detects afresh; a frame where tracking finds nobody is
    detected afresh once more. When ``capacity`` streams are tracked, a new
    stream takes over the least recently used instance. ``capacity`` 0 always
    detects afresh.
    """

    def __init__(self, capacity: int = 8) -> None:
        self.capacity = capacity
        self._items: "OrderedDict[Hashable, _Tracker]" = OrderedDict()
        self._spare: list[_Tracker] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def warm(self, n: int) -> None:
        """Build up to ``n`` spare instances now (building one takes seconds), for the next new streams."""
        for _ in range(min(n, self.capacity) - len(self._spare) - len(self._items)):
            tracker = _Tracker()
            with self._lock:
                self._spare.append(tracker)

    def _get(self, key: Hashable) -> _Tracker:
        with self._lock:
            tracker = self._items.pop(key, None)
            if tracker is None and self._spare:
                tracker = self._spare.pop()
            elif tracker is None and len(self._items) >= self.capacity:
                # Reuse the least recently used stream's instance (reset on first use, see detect).
                tracker = self._items.popitem(last=False)[1]
            if tracker is not None:
                self._items[key] = tracker
                return tracker
        tracker = _Tracker()  # outside the lock: building takes seconds
        with self._lock:
            self._items[key] = tracker
        return tracker

    def detect(self, key: Hashable, bgr: np.ndarray, *, after: Hashable, now: Hashable) -> Optional[np.ndarray]:
        """Landmarks ``(33, 4)`` in ``bgr`` for stream ``key``, or None when nobody is seen."""
        if self.capacity <= 0:
            return pose_from_image(bgr)
        import cv2

        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        tracker = self._get(key)
        with tracker.lock:
            fresh = tracker.last != (key, after)  # the instance may have served another stream
            if fresh:
                tracker.pose.reset()
            tracker.last = (key, now)
            found = _to_array(tracker.pose.process(rgb))
            if found is None and not fresh:
                # A lost track (a big jump between analysed frames): detect afresh on this frame.
                tracker.pose.reset()
                found = _to_array(tracker.pose.process(rgb))
            return found

    def close(self) -> None:
        """Free every instance."""
        with self._lock:
            items, self._items = list(self._items.values()) + self._spare, OrderedDict()
            self._spare = []
        for tracker in items:
            with tracker.lock:
                tracker.pose.close()


def analyse_live_frame(
    state: Optional[dict],
    image: bytes,
    t: float,
    *,
    seq: int,
    dropped: int,
    detect: Callable[[np.ndarray], Optional[np.ndarray]],
    model: Any = None,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Analyse one received frame of a live stream.

    Parameters:
        state: ``{"session": WorkoutSession.to_dict(), "seq": n}`` from the previous frame, or None.
        image: the frame's JPEG/PNG bytes.
        t: when it was taken (seconds).
        seq: its number among the frames the client sent (1-based).
        dropped: frames dropped under load since the previous analysed one.
        detect: BGR image -> landmarks or None.

    Returns:
        ``(workout payload, new state, summary)``; ``frame_count`` counts frames
        received, ``analysed_frames`` those analysed.

    Raises:
        InvalidInput: the image cannot be decoded (the state is then unchanged).
    """
    bgr = decode_image(image)
    session = WorkoutSession.from_dict(state["session"], model=model) if state else WorkoutSession(model=model)
    if dropped:
        session.note_dropped(dropped)
    h, w = bgr.shape[:2]
    payload = session.step(detect(bgr), t, aspect=w / h)
    payload["analysed_frames"] = payload["frame_count"]
    payload["frame_count"] = seq
    summary = session.summary()
    summary["analysed_frames"] = summary["total_frames"]
    summary["total_frames"] = seq
    return payload, {"session": session.to_dict(), "seq": seq}, summary
