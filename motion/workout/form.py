"""Form feedback: per-frame checks from joint angles, a 0-100 score per rep.

Each exercise has a few checks; a check that fails costs points in
proportion to how far past its limit the pose is. The frame with the lowest
score in a rep sets the rep's feedback; the rep's score is the mean of its
frames, less a depth penalty when the rep did not reach its range.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from motion.workout import exercises as ex
from motion.workout.features import INDEX

GREEN, YELLOW, RED = [0, 255, 0], [255, 200, 0], [255, 0, 0]
GOOD = "Good form, keep going"

# (feature, limit, above: True if values above the limit are faults, points per unit past it, message)
Check = tuple[str, float, bool, float, str]
CHECKS: dict[str, list[Check]] = {
    ex.PUSH_UP: [("hip_sag", 0.15, True, 150.0, "Hips sagging: brace your core and keep a straight line"),
                 ("hip_sag", -0.25, False, 120.0, "Hips too high: lower them in line with shoulders and heels"),
                 ("elbow_flare", 0.75, True, 60.0, "Elbows flaring out: tuck them closer to your body")],
    ex.PLANK: [("hip_sag", 0.15, True, 150.0, "Hips sagging: squeeze glutes and brace your core"),
               ("hip_sag", -0.3, False, 120.0, "Hips too high: lower them into a straight line")],
    ex.SQUAT: [("trunk", 50.0, True, 1.5, "Chest falling forward: keep your chest up"),
               ("knee_travel", 0.45, True, 100.0, "Knees travelling far past your toes: sit back more")],
    ex.LUNGE: [("trunk", 25.0, True, 2.0, "Keep your torso upright")],
    ex.BICEP_CURL: [("shoulder", 35.0, True, 1.5, "Keep your elbows pinned to your sides: no swinging"),
                    ("trunk", 15.0, True, 2.0, "Don't lean back: use your arms, not your body")],
    ex.SHOULDER_PRESS: [("trunk", 15.0, True, 2.0, "Don't arch your back: brace your core")],
    ex.JUMPING_JACK: [],
    ex.SIT_UP: [],
    ex.CRUNCH: [],
}

# Depth: (feature, the value a full rep reaches, low values are deeper, points per unit short, message)
DEPTH: dict[str, tuple[str, float, bool, float, str]] = {
    ex.PUSH_UP: ("elbow", 100.0, True, 1.0, "Go lower: bring your chest close to the floor"),
    ex.SQUAT: ("hip", 100.0, True, 0.8, "Squat deeper: hips down to knee height"),
    ex.LUNGE: ("knee_min", 110.0, True, 0.8, "Lunge deeper: back knee towards the floor"),
    ex.JUMPING_JACK: ("wrist_up", 0.3, False, 60.0, "Raise your arms fully overhead"),
    ex.BICEP_CURL: ("elbow", 70.0, True, 0.8, "Curl all the way up"),
    ex.SHOULDER_PRESS: ("elbow", 155.0, False, 0.8, "Press all the way up: lock out your arms"),
}


def frame_form(exercise: str, features: np.ndarray) -> tuple[float, str]:
    """Score (0-100) and the main fault's message for one frame of an exercise."""
    score, worst, message = 100.0, 0.0, GOOD
    for name, limit, above, points, text in CHECKS.get(exercise, []):
        value = float(features[INDEX[name]])
        if math.isnan(value):
            continue
        past = value - limit if above else limit - value
        if past > 0:
            cost = min(60.0, past * points)
            score -= cost
            if cost > worst:
                worst, message = cost, text
    return max(0.0, score), message


def depth_penalty(exercise: str, extreme: float) -> tuple[float, str | None]:
    """Points lost when a rep's deepest value fell short of a full rep."""
    spec = DEPTH.get(exercise)
    if spec is None or math.isnan(extreme):
        return 0.0, None
    _, target, low_deeper, points, text = spec
    short = extreme - target if low_deeper else target - extreme
    return (min(40.0, short * points), text) if short > 0 else (0.0, None)


def depth_extreme(exercise: str) -> tuple[str | None, Callable[[float, float], float]]:
    """The feature whose extreme over a rep measures depth, and how to keep it."""
    spec = DEPTH.get(exercise)
    if spec is None:
        return None, min
    return spec[0], (min if spec[2] else max)


def form_color(score: float | None) -> list[int]:
    """RGB for a form score: green from 80, yellow from 60, red below."""
    if score is None or score >= 80:
        return GREEN
    return YELLOW if score >= 60 else RED
