"""Pose features that the repetition counters follow."""
import math

import numpy as np

from motion.workout.features import (INDEX, L_ELBOW, L_HIP, L_KNEE, L_SHOULDER, R_ELBOW, R_HIP, R_KNEE,
                                    R_SHOULDER, frame_features)


def lying(left_elbow, right_elbow, left_knee, right_knee, far_visibility=0.3) -> np.ndarray:
    """Someone on their back seen from their right side: the left limbs are hidden (low visibility)."""
    p = np.zeros((33, 4), np.float32)
    p[:, 3] = 0.95
    for i, xy in ((L_SHOULDER, (0.30, 0.70)), (R_SHOULDER, (0.30, 0.70)), (L_HIP, (0.55, 0.72)),
                  (R_HIP, (0.55, 0.72)), (L_ELBOW, left_elbow), (R_ELBOW, right_elbow),
                  (L_KNEE, left_knee), (R_KNEE, right_knee)):
        p[i, :2] = xy
    for i in (L_ELBOW, L_KNEE, L_SHOULDER, L_HIP):
        p[i, 3] = far_visibility
    return p


def test_elbow_to_knee_follows_the_elbow_the_camera_sees_in_a_cross_crunch():
    # right elbow to left knee (the crunch on the near side) vs left elbow to right knee (far side)
    near_side = lying(left_elbow=(0.35, 0.60), right_elbow=(0.55, 0.55),
                      left_knee=(0.62, 0.55), right_knee=(0.70, 0.50))
    far_side = lying(left_elbow=(0.64, 0.52), right_elbow=(0.30, 0.62),
                     left_knee=(0.72, 0.50), right_knee=(0.66, 0.52))
    a = frame_features(near_side)[INDEX["elbow_knee"]]
    b = frame_features(far_side)[INDEX["elbow_knee"]]
    # the far-side crunch brings the hidden pair together; the followed (near) pair is then far apart,
    # so one near-side crunch and one far-side crunch make one cycle of the signal, not two dips
    assert a < 0.5 < b


def test_shoulder_height_and_torso_are_measured_in_frame_heights():
    p = lying((0.4, 0.6), (0.4, 0.6), (0.7, 0.5), (0.7, 0.5), far_visibility=0.95)
    f = frame_features(p, aspect=2.0)
    assert math.isclose(f[INDEX["shoulder_y"]], 0.70, abs_tol=1e-6)
    assert math.isclose(f[INDEX["torso"]], math.hypot(0.25 * 2.0, 0.02), rel_tol=1e-5)


def test_torso_is_unknown_when_the_hips_are_out_of_frame_but_shoulder_height_is_not():
    p = lying((0.4, 0.6), (0.4, 0.6), (0.7, 0.5), (0.7, 0.5), far_visibility=0.95)
    p[[L_HIP, R_HIP], 1] = 1.2
    f = frame_features(p)
    assert math.isnan(f[INDEX["torso"]]) and not math.isnan(f[INDEX["shoulder_y"]])
