"""Pose messages: parse and validate them, find the hands, map everything onto the wall.

The wire format (DESIGN.md) is MediaPipe Pose's 33 landmarks in normalised
image coordinates, the frame size and a timestamp::

    {"type": "pose", "timestamp": 1763062977059, "width": 480, "height": 640,
     "landmarks": [{"x": 0.506, "y": 0.354, "z": 0.093, "visibility": 0.9999}, …]}

Two hand points are added as landmarks 33 (the person's left) and 34 (right):
the palm centre pushed beyond the palm along the forearm, where a hand grips.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Union

import numpy as np

from motion.climbing.calibration import DEFAULT_HAND_EXTENSION_PERCENT, Calibration
from motion.climbing.holds import Wall
from motion import jsontext
from motion.errors import InvalidInput, shown

LANDMARK_COUNT = 33
OUTPUT_LANDMARK_COUNT = 35
LEFT, RIGHT = 0, 1
HAND_NAMES = ("left", "right")
# (wrist, pinky, index, thumb, elbow) of the person's left and right side
HAND_LANDMARKS = ((15, 17, 19, 21, 13), (16, 18, 20, 22, 14))
DEFAULT_VISIBILITY_THRESHOLD = 0.5
_MS_THRESHOLD = 1e11   # timestamps above this are milliseconds (1e11 s is year 5138)
_US_THRESHOLD = 1e14   # … and above this microseconds
_NUMBER = (int, float, np.integer, np.floating)
#: Latest time in seconds (9999-12-31T23:59:59Z): later ones cannot be written as dates. Inputs are
#: at most this many µs, so every unit reading of an accepted timestamp lands before it.
MAX_TIMESTAMP_S = 253_402_300_799.0
#: Largest frame side in pixels (as for calibration images).
MAX_FRAME_SIDE = 100_000.0
#: Largest landmark value: normalised coordinates this far out are not a person in the frame.
MAX_LANDMARK_VALUE = 1e4


def _is_number(v: Any) -> bool:
    return isinstance(v, _NUMBER) and not isinstance(v, bool)


def _finite(v: Any, limit: float) -> Optional[float]:
    """``v`` as a float when it is a number within ``±limit`` (NaN and inf are not), else None."""
    if not _is_number(v) or not abs(v) <= limit:  # also False for NaN; huge ints compare exactly
        return None
    return float(v)


@dataclass(frozen=True)
class PoseFrame:
    """One validated pose message.

    ``landmarks`` is (33, 4): x, y (normalised image coordinates), z,
    visibility; it is (0, 4) when the message carried no person.
    """

    timestamp: float
    width: float
    height: float
    landmarks: np.ndarray

    @property
    def has_person(self) -> bool:
        """True when the message carries landmarks."""
        return len(self.landmarks) == LANDMARK_COUNT


@dataclass(frozen=True)
class HandPoints:
    """Both hand points in pixels of the frame: (2, 2) points, z, visibility and which are usable."""

    points: np.ndarray
    z: np.ndarray
    visibility: np.ndarray
    visible: np.ndarray


@dataclass(frozen=True)
class WallPose:
    """A pose on the wall: 35 landmarks in wall units and in ``[0, 1]`` of the viewBox."""

    timestamp: float
    wall: np.ndarray        # (35, 2) wall units
    normalised: np.ndarray  # (35, 2) [0, 1] of the viewBox
    z: np.ndarray           # (35,)
    visibility: np.ndarray  # (35,)
    hands_visible: np.ndarray  # (2,) bool: left, right

    def hand(self, side: int) -> Optional[tuple[float, float]]:
        """The hand point of one side (LEFT or RIGHT) in wall units, or None when hidden."""
        if not self.hands_visible[side]:
            return None
        x, y = self.wall[LANDMARK_COUNT + side]
        return (float(x), float(y))

    def landmarks_json(self) -> list[dict]:
        """The 35 landmarks as ``{x, y, z, visibility}`` in normalised wall coordinates."""
        rows = np.column_stack([self.normalised, self.z, self.visibility]).tolist()
        return [{"x": x, "y": y, "z": z, "visibility": v} for x, y, z, v in rows]


def parse_pose_message(
    message: Union[str, bytes, Mapping[str, Any]],
    *,
    fallback_size: Optional[tuple[float, float]] = None,
    arrival_time: Optional[float] = None,
) -> PoseFrame:
    """Validate one pose message (a dict or its JSON text).

    Parameters:
        fallback_size: ``(width, height)`` used when the message has none
            (the calibration's image size).
        arrival_time: seconds since the epoch, used when the message has no
            timestamp.

    Timestamps are seconds since the epoch, or milliseconds (recognised by
    magnitude). ``landmarks`` empty or null means no person in view.

    Raises:
        InvalidInput: not JSON or not an object, a type other than "pose",
            a landmark count other than 33 (or 0), non-numbers or NaN.
    """
    if isinstance(message, (str, bytes, bytearray)):
        try:
            message = jsontext.loads(message)
        except ValueError:
            raise InvalidInput("The pose message is not valid JSON.") from None
    if not isinstance(message, Mapping):
        raise InvalidInput("The pose message must be a JSON object.")
    kind = message.get("type", "pose")
    if kind != "pose":
        raise InvalidInput(f"Not a pose message (type {shown(kind)}).")

    timestamp = _timestamp(message.get("timestamp"), arrival_time)
    width, height = _size(message, fallback_size)
    landmarks = _landmarks(message.get("landmarks"))
    return PoseFrame(timestamp=timestamp, width=width, height=height, landmarks=landmarks)


def _timestamp(value: Any, arrival_time: Optional[float]) -> float:
    if value is None:
        if arrival_time is None:
            raise InvalidInput("The pose message has no timestamp.")
        return float(arrival_time)
    number = _finite(value, MAX_TIMESTAMP_S * 1e6)
    if number is None or number < 0:
        raise InvalidInput("The pose message's timestamp must be a non-negative number (ms or s since the epoch).")
    if number > _US_THRESHOLD:
        return number / 1e6
    if number > _MS_THRESHOLD:
        return number / 1000.0
    return number


def _size(message: Mapping[str, Any], fallback: Optional[tuple[float, float]]) -> tuple[float, float]:
    w, h = message.get("width"), message.get("height")
    if w is None or h is None:
        if fallback is None:
            raise InvalidInput("The pose message has no width/height and no calibration image size stands in.")
        return float(fallback[0]), float(fallback[1])
    w, h = _finite(w, MAX_FRAME_SIDE), _finite(h, MAX_FRAME_SIDE)
    if w is None or h is None or not (w > 0 and h > 0):
        raise InvalidInput("The pose message's width and height must be positive numbers of pixels "
                           f"(at most {MAX_FRAME_SIDE:.0f}).")
    return w, h


def _landmarks(value: Any) -> np.ndarray:
    if value is None or (isinstance(value, list) and not value):
        return np.zeros((0, 4))
    if not isinstance(value, list):
        raise InvalidInput("The pose message's landmarks must be a list.")
    if len(value) != LANDMARK_COUNT:
        raise InvalidInput(f"A pose has {LANDMARK_COUNT} landmarks; this message has {len(value)}.")
    rows = []
    for i, lm in enumerate(value):
        if isinstance(lm, dict):
            row = (lm.get("x"), lm.get("y"), lm.get("z", 0.0), lm.get("visibility", 1.0))
        elif isinstance(lm, (list, tuple)) and len(lm) in (3, 4):
            row = (lm[0], lm[1], lm[2], lm[3] if len(lm) == 4 else 1.0)
        else:
            raise InvalidInput(f"Landmark {i} must be an object with x, y, z, visibility.")
        for v in row:
            if not _is_number(v):
                raise InvalidInput(f"Landmark {i} has a value that is not a number: {shown(v)}.")
            if _finite(v, MAX_LANDMARK_VALUE) is None:
                what = "NaN or infinite" if not abs(v) < math.inf else f"out of range (beyond ±{MAX_LANDMARK_VALUE:g})"
                raise InvalidInput(f"Landmark {i} has a value that is {what}.")
        rows.append(row)
    return np.array(rows, dtype=np.float64)


def hand_points(
    frame: PoseFrame,
    *,
    extension_percent: float = DEFAULT_HAND_EXTENSION_PERCENT,
    visibility_threshold: float = DEFAULT_VISIBILITY_THRESHOLD,
) -> HandPoints:
    """Where each hand grips, in pixels of the frame.

    The palm centre is the visibility-weighted mean of wrist, pinky, index and
    thumb; it is pushed ``extension_percent`` of a palm width (index to pinky)
    further along the forearm (elbow → palm; wrist → palm when the elbow is
    hidden). A hand whose four landmarks' mean visibility is below
    ``visibility_threshold`` is not visible.
    """
    points = np.zeros((2, 2))
    z = np.zeros(2)
    vis = np.zeros(2)
    visible = np.zeros(2, dtype=bool)
    if not frame.has_person:
        return HandPoints(points, z, vis, visible)
    scale = np.array([frame.width, frame.height])
    lm = frame.landmarks
    for side, (wrist, pinky, index, thumb, elbow) in enumerate(HAND_LANDMARKS):
        idx = [wrist, pinky, index, thumb]
        px = lm[idx, :2] * scale
        weights = lm[idx, 3].clip(0.0, 1.0)
        total = weights.sum()
        vis[side] = total / 4.0
        if total <= 1e-9:
            points[side] = px.mean(axis=0)
            z[side] = lm[idx, 2].mean()
            continue
        centre = (px * weights[:, None]).sum(axis=0) / total
        z[side] = float((lm[idx, 2] * weights).sum() / total)
        visible[side] = vis[side] >= visibility_threshold
        anchor = lm[elbow] if lm[elbow, 3] >= visibility_threshold else lm[wrist]
        direction = centre - anchor[:2] * scale
        length = math.hypot(direction[0], direction[1])
        palm_width = math.hypot(*(px[1] - px[2]))
        if length > 1e-9 and extension_percent:
            centre = centre + direction / length * palm_width * extension_percent / 100.0
        points[side] = centre
    return HandPoints(points, z, vis, visible)


def pose_on_wall(
    frame: PoseFrame,
    calibration: Calibration,
    wall: Wall,
    *,
    extension_percent: Optional[float] = None,
    visibility_threshold: float = DEFAULT_VISIBILITY_THRESHOLD,
) -> WallPose:
    """Map a frame's 33 landmarks plus both hand points onto the wall.

    Normalised landmarks become pixels of the frame (its own size), which the
    calibration rescales to its image size and maps to wall units.
    ``extension_percent`` defaults to the calibration's.
    """
    ext = calibration.hand_extension_percent if extension_percent is None else extension_percent
    hands = hand_points(frame, extension_percent=ext, visibility_threshold=visibility_threshold)
    size = (frame.width, frame.height)
    if frame.has_person:
        px = np.vstack([frame.landmarks[:, :2] * size, hands.points])
        z = np.concatenate([frame.landmarks[:, 2], hands.z])
        vis = np.concatenate([frame.landmarks[:, 3], hands.visibility])
    else:
        px = np.zeros((OUTPUT_LANDMARK_COUNT, 2))
        z = np.zeros(OUTPUT_LANDMARK_COUNT)
        vis = np.zeros(OUTPUT_LANDMARK_COUNT)
    wall_pts = calibration.image_to_wall(px, image_size=size)
    # Points on or beyond the calibration's horizon map to infinity: they are not on the wall.
    off_wall = ~np.isfinite(wall_pts).all(axis=1)
    if off_wall.any():
        wall_pts = np.where(off_wall[:, None], 0.0, wall_pts)
        vis = np.where(off_wall, 0.0, vis)
        hands = HandPoints(hands.points, hands.z, hands.visibility, hands.visible & ~off_wall[LANDMARK_COUNT:])
    return WallPose(
        timestamp=frame.timestamp,
        wall=wall_pts,
        normalised=wall.to_normalised(wall_pts),
        z=z,
        visibility=vis,
        hands_visible=hands.visible,
    )
