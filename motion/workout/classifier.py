"""Exercise classification from pose features over a sliding window.

The built-in classifier is a small decision list over window statistics
(posture from the torso and thighs, which joints move and by how much), so it
needs no training data and reads the same in side and front views. Its raw
decision each step goes through a vote (:class:`Stabiliser`): the shown label
changes only when a new label wins a clear majority of recent decisions, so it
does not flicker between classes frame to frame.
"""
from __future__ import annotations

import math
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from motion.workout import exercises as ex
from motion.workout.features import INDEX

#: The features the window keeps (a subset of FEATURES, to keep state small).
WINDOW_FEATURES = ("trunk", "legs", "knee", "hip", "elbow", "shoulder", "wrist_up", "thigh", "thigh_asym")
_W = {n: i for i, n in enumerate(WINDOW_FEATURES)}
MIN_SPAN = 1.0   # seconds of window before any label
HOLD_SPAN = 1.5  # seconds of stillness before "plank"


def _stats(rows: np.ndarray, name: str) -> tuple[float, float, float]:
    """p10, median, p90 of one window feature (NaN when never seen)."""
    col = rows[:, _W[name]]
    col = col[~np.isnan(col)]
    if len(col) < max(3, len(rows) // 3):
        return math.nan, math.nan, math.nan
    p10, med, p90 = np.percentile(col, [10, 50, 90])
    return float(p10), float(med), float(p90)


def _clear(value: float, threshold: float, scale: float) -> float:
    """How clearly a value sits on its side of a threshold: 0.5 (on it) to 1."""
    if math.isnan(value):
        return 0.5
    return min(1.0, 0.5 + abs(value - threshold) / (2 * scale))


def classify_window(rows: np.ndarray) -> tuple[str, float]:
    """The exercise a window of feature rows shows, and a confidence in [0, 1].

    ``rows`` has one row per analysed frame: its time in seconds, then the
    columns of :data:`WINDOW_FEATURES` (NaN where a feature was not measurable).
    """
    span = float(rows[-1, 0] - rows[0, 0]) if len(rows) else 0.0
    if len(rows) < 6 or span < MIN_SPAN:
        return ex.UNKNOWN, 0.0
    rows = rows[:, 1:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        s = {n: _stats(rows, n) for n in WINDOW_FEATURES}
    rng = {n: v[2] - v[0] for n, v in s.items()}
    med = {n: v[1] for n, v in s.items()}
    if math.isnan(med["trunk"]):
        return ex.UNKNOWN, 0.0
    conf = [_clear(med["trunk"], 50.0, 20.0)]
    if med["trunk"] > 50.0:  # lying or horizontal
        bent = (med["knee"] < 120.0) or (med["hip"] < 145.0)
        if bent:
            conf.append(_clear(rng["trunk"], 30.0, 15.0))
            label = ex.SIT_UP if rng["trunk"] > 30.0 else ex.CRUNCH
        else:
            moving = max(rng["shoulder"] / 20.0, rng["elbow"] / 35.0)
            conf.append(_clear(moving, 1.0, 0.5))
            label = ex.PUSH_UP if moving > 1.0 else ex.PLANK
            if label == ex.PLANK and span < HOLD_SPAN:  # stillness needs time to be a hold
                return ex.UNKNOWN, 0.5
    elif not math.isnan(med["thigh"]) and med["thigh"] < 0.35:  # seated / reclined
        moving = max(rng["trunk"] / 20.0, rng["hip"] / 30.0)
        conf.append(_clear(moving, 1.0, 0.5))
        label = ex.SIT_UP if moving > 1.0 else ex.UNKNOWN
    else:  # standing
        arms_up = rng["shoulder"] > 60.0 and s["wrist_up"][2] > 0.2
        legs = max(rng["hip"] / 35.0, rng["thigh"] / 0.35, rng["knee"] / 40.0)
        if arms_up:
            conf.append(_clear(rng["shoulder"], 60.0, 30.0))
            label = ex.JUMPING_JACK
        elif legs > 1.0:
            conf.append(_clear(legs, 1.0, 0.5))
            lunge = s["thigh_asym"][2] > 0.45 or (rng["hip"] < 30.0 and rng["thigh"] > 0.35)
            label = ex.LUNGE if lunge else ex.SQUAT
        elif rng["elbow"] > 40.0:
            conf.append(_clear(rng["elbow"], 40.0, 30.0))
            press = s["wrist_up"][2] > 0.3 and med["wrist_up"] > -0.3
            label = ex.SHOULDER_PRESS if press else ex.BICEP_CURL
        else:
            return ex.UNKNOWN, 0.5
    return label, float(np.prod(conf) ** (1.0 / len(conf)))


@dataclass
class Stabiliser:
    """Hysteresis over raw labels: switch only on a clear, recent majority.

    The shown label changes when another label holds at least ``switch`` of the
    last ``size`` raw decisions; ``unknown`` is left on a smaller majority
    (``first``) so the first label appears quickly.
    """

    size: int = 10
    switch: float = 0.7
    first: float = 0.5
    label: str = ex.UNKNOWN
    history: list[str] = field(default_factory=list)
    confidences: list[float] = field(default_factory=list)

    def update(self, label: str, confidence: float) -> tuple[str, float]:
        """Feed one raw decision; returns the stable label and its confidence."""
        self.history = (self.history + [label])[-self.size:]
        self.confidences = (self.confidences + [round(confidence, 3)])[-self.size:]
        top, n = Counter(self.history).most_common(1)[0]
        need = self.first if self.label == ex.UNKNOWN else self.switch
        if top != self.label and n >= math.ceil(need * self.size) and top != ex.UNKNOWN:
            self.label = top
        elif top == ex.UNKNOWN and n >= math.ceil(self.switch * self.size):
            self.label = ex.UNKNOWN
        agree = [c for l, c in zip(self.history, self.confidences) if l == self.label]
        share = len(agree) / len(self.history)
        conf = share * (sum(agree) / len(agree)) if agree else 0.0
        return self.label, round(conf, 3)

    def to_dict(self) -> dict[str, Any]:
        """Compact JSON-able state."""
        return {"l": self.label, "h": self.history, "c": self.confidences}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Stabiliser":
        """Rebuild from :meth:`to_dict`."""
        return cls(label=d["l"], history=list(d["h"]), confidences=list(d["c"]))


def window_row(features: np.ndarray) -> list[float]:
    """The :data:`WINDOW_FEATURES` of one frame's feature vector, rounded, None for NaN (JSON-safe)."""
    out = []
    for n in WINDOW_FEATURES:
        x = float(features[INDEX[n]])
        out.append(None if math.isnan(x) else round(x, 2))
    return out
