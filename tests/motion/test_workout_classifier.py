"""Exercise classification from window statistics, and its stability."""
import numpy as np

from motion.workout import exercises as ex
from motion.workout.classifier import WINDOW_FEATURES, Stabiliser, classify_window


def window(seconds=3.0, fps=12.5, **columns):
    """Window rows: time, then WINDOW_FEATURES; each column a constant or a callable of t."""
    t = np.arange(int(seconds * fps)) / fps
    rows = [t]
    for name in WINDOW_FEATURES:
        v = columns.get(name, np.nan)
        rows.append(v(t) if callable(v) else np.full(len(t), v, float))
    return np.column_stack(rows)


def wave(lo, hi, period=2.0):
    return lambda t: (lo + hi) / 2 + (hi - lo) / 2 * np.cos(2 * np.pi * t / period)


HORIZONTAL = dict(trunk=85.0, legs=80.0, knee=175.0, hip=172.0, thigh=0.1, wrist_up=-0.8)
STANDING = dict(trunk=3.0, legs=2.0, knee=176.0, hip=175.0, thigh=0.75, wrist_up=-0.9, shoulder=15.0, elbow=165.0)


def test_horizontal_with_moving_arms_is_a_push_up():
    label, conf = classify_window(window(**HORIZONTAL, shoulder=wave(10, 75), elbow=wave(70, 165)))
    assert label == ex.PUSH_UP and 0.5 < conf <= 1.0


def test_horizontal_and_still_is_a_plank():
    assert classify_window(window(**HORIZONTAL, shoulder=70.0, elbow=70.0))[0] == ex.PLANK


def test_standing_with_bending_legs_is_a_squat():
    cols = {**STANDING, "hip": wave(60, 178), "knee": wave(65, 178), "thigh": wave(0.05, 0.8), "thigh_asym": 0.1}
    assert classify_window(window(**cols))[0] == ex.SQUAT


def test_one_thigh_dropping_is_a_lunge():
    cols = {**STANDING, "thigh": wave(0.15, 0.75), "thigh_asym": wave(0.0, 0.6), "hip": wave(160, 175)}
    assert classify_window(window(**cols))[0] == ex.LUNGE


def test_arms_overhead_is_a_jumping_jack():
    cols = {**STANDING, "shoulder": wave(15, 165, 1.0), "wrist_up": wave(-1.0, 0.9, 1.0)}
    assert classify_window(window(**cols))[0] == ex.JUMPING_JACK


def test_elbows_bending_below_the_shoulders_is_a_curl_and_above_a_press():
    assert classify_window(window(**{**STANDING, "elbow": wave(45, 165)}))[0] == ex.BICEP_CURL
    press = {**STANDING, "elbow": wave(75, 170), "wrist_up": wave(0.0, 1.2), "shoulder": wave(80, 120)}
    assert classify_window(window(**press))[0] == ex.SHOULDER_PRESS


def test_lying_with_bent_knees_is_a_crunch_or_with_the_trunk_rising_a_sit_up():
    base = dict(legs=80.0, knee=70.0, hip=wave(110, 130), thigh=-0.6)
    assert classify_window(window(**base, trunk=wave(78, 90)))[0] == ex.CRUNCH
    assert classify_window(window(**base, trunk=wave(30, 90)))[0] == ex.SIT_UP


def test_standing_still_is_unknown():
    assert classify_window(window(**STANDING))[0] == ex.UNKNOWN


def test_a_short_window_is_unknown():
    assert classify_window(window(seconds=0.5, **HORIZONTAL))[0] == ex.UNKNOWN


def test_stabiliser_does_not_flicker_on_isolated_wrong_votes():
    s = Stabiliser()
    shown = [s.update(ex.SQUAT, 0.9)[0] for _ in range(12)]
    for i in range(40):
        shown.append(s.update(ex.LUNGE if i % 3 == 0 else ex.SQUAT, 0.8)[0])
    assert shown[-40:] == [ex.SQUAT] * 40


def test_stabiliser_switches_on_a_sustained_change_and_confidence_stays_in_range():
    s = Stabiliser()
    for _ in range(12):
        s.update(ex.SQUAT, 0.9)
    labels = [s.update(ex.PUSH_UP, 0.9) for _ in range(12)]
    assert labels[-1][0] == ex.PUSH_UP
    assert all(0.0 <= c <= 1.0 for _, c in labels)
    # it changed once, not back and forth
    names = [l for l, _ in labels]
    assert sum(a != b for a, b in zip(names, names[1:])) == 1


def test_stabiliser_round_trips():
    s = Stabiliser()
    for _ in range(7):
        s.update(ex.PLANK, 0.7)
    r = Stabiliser.from_dict(s.to_dict())
    assert r.update(ex.PLANK, 0.7) == s.update(ex.PLANK, 0.7)
