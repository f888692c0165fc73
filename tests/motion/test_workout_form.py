"""Form feedback and scores from joint features."""
import math

import numpy as np

from motion.workout import exercises as ex
from motion.workout.features import FEATURES, INDEX, angle
from motion.workout.form import GOOD, GREEN, RED, YELLOW, depth_penalty, form_color, frame_form


def feats(**values):
    f = np.full(len(FEATURES), math.nan)
    for k, v in values.items():
        f[INDEX[k]] = v
    return f


def test_straight_push_up_scores_full_marks():
    assert frame_form(ex.PUSH_UP, feats(hip_sag=0.0, elbow_flare=0.3)) == (100.0, GOOD)


def test_sagging_hips_in_a_push_up_are_called_out():
    score, msg = frame_form(ex.PUSH_UP, feats(hip_sag=0.4, elbow_flare=0.3))
    assert score < 80 and "sagging" in msg.lower()


def test_piked_hips_in_a_plank_are_called_out():
    score, msg = frame_form(ex.PLANK, feats(hip_sag=-0.6))
    assert score < 80 and "too high" in msg.lower()


def test_flared_elbows_in_a_push_up_are_called_out():
    assert "flaring" in frame_form(ex.PUSH_UP, feats(hip_sag=0.0, elbow_flare=1.1))[1].lower()


def test_shallow_squat_loses_points_and_says_go_deeper():
    penalty, msg = depth_penalty(ex.SQUAT, 140.0)
    assert penalty > 20 and "deeper" in msg.lower()
    assert depth_penalty(ex.SQUAT, 85.0) == (0.0, None)


def test_knees_far_past_toes_in_a_squat_are_called_out():
    assert "knees" in frame_form(ex.SQUAT, feats(trunk=20.0, knee_travel=0.8))[1].lower()


def test_swinging_curl_is_called_out():
    assert "elbows" in frame_form(ex.BICEP_CURL, feats(shoulder=60.0, trunk=3.0))[1].lower()


def test_scores_stay_in_range_and_map_to_colours():
    score, _ = frame_form(ex.PUSH_UP, feats(hip_sag=5.0, elbow_flare=5.0))
    assert 0.0 <= score <= 100.0
    assert form_color(95) == GREEN and form_color(70) == YELLOW and form_color(20) == RED


def test_angle_is_measured_in_degrees():
    assert round(angle(np.array([1.0, 0]), np.array([0.0, 0]), np.array([0.0, 1]))) == 90
