"""Pose messages: validation, hand points, and landmarks mapped onto the wall."""
import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from motion.climbing import compute_calibration, hand_points, parse_pose_message, parse_wall_svg, pose_on_wall
from motion.errors import InvalidInput

PROJECTCLIMB = Path(__file__).resolve().parents[3] / "shared" / "data" / "walls" / "projectclimb"
needs_real_data = pytest.mark.skipif(
    not PROJECTCLIMB.exists(), reason=f"real wall data not found at {PROJECTCLIMB} (not part of the repository)"
)


def message(**changes):
    """A valid message: everyone at the frame centre, fully visible."""
    base = {"type": "pose", "timestamp": 1763062977059, "width": 400, "height": 200,
            "landmarks": [{"x": 0.5, "y": 0.5, "z": 0.0, "visibility": 1.0} for _ in range(33)]}
    base.update(changes)
    return base


def with_landmarks(msg, **points):
    """Set landmarks by index: ``lm15=(x, y, visibility)``."""
    msg = copy.deepcopy(msg)
    for key, (x, y, v) in points.items():
        msg["landmarks"][int(key[2:])] = {"x": x, "y": y, "z": 0.0, "visibility": v}
    return msg


@needs_real_data
def test_the_recorded_message_parses_as_is():
    frame = parse_pose_message((PROJECTCLIMB / "pose_message_in.json").read_text())
    assert frame.timestamp == pytest.approx(1763062977.059)
    assert (frame.width, frame.height) == (480, 640) and frame.landmarks.shape == (33, 4)
    assert frame.landmarks[0].tolist() == pytest.approx([0.5062769651412964, 0.3540618419647217,
                                                         0.09309239685535431, 0.999888002872467])


@pytest.mark.parametrize("stamp, seconds", [(1763062977059, 1763062977.059), (1763062977.5, 1763062977.5),
                                            (1763062977059123, 1763062977.059123), (12.5, 12.5), (0, 0.0)])
def test_timestamps_in_ms_or_s_are_recognised_by_magnitude(stamp, seconds):
    assert parse_pose_message(message(timestamp=stamp)).timestamp == pytest.approx(seconds)


def test_missing_size_and_timestamp_fall_back_to_what_the_caller_gives():
    msg = message()
    del msg["width"], msg["height"], msg["timestamp"]
    frame = parse_pose_message(msg, fallback_size=(1005, 1384), arrival_time=1700000000.25)
    assert (frame.width, frame.height, frame.timestamp) == (1005, 1384, 1700000000.25)
    with pytest.raises(InvalidInput, match="no width/height"):
        parse_pose_message(msg, arrival_time=1.0)
    with pytest.raises(InvalidInput, match="no timestamp"):
        parse_pose_message(msg, fallback_size=(1, 1))


def test_empty_landmarks_mean_no_person_rather_than_an_error():
    for empty in ([], None):
        frame = parse_pose_message(message(landmarks=empty))
        assert not frame.has_person and frame.landmarks.shape == (0, 4)


def test_landmarks_as_lists_and_without_z_or_visibility_are_accepted():
    msg = message(landmarks=[[0.1, 0.2, 0.3, 0.4]] * 32 + [{"x": 0.5, "y": 0.5}])
    frame = parse_pose_message(msg)
    assert frame.landmarks[0].tolist() == [0.1, 0.2, 0.3, 0.4] and frame.landmarks[32].tolist() == [0.5, 0.5, 0, 1]


@pytest.mark.parametrize(
    "msg, reason",
    [
        ("{oops", "not valid JSON"),
        ([1, 2], "must be a JSON object"),
        (message(type="control"), "Not a pose message"),
        (message(landmarks=[{"x": 0.5, "y": 0.5, "z": 0, "visibility": 1}] * 32), "33 landmarks; this message has 32"),
        (message(landmarks={"x": 1}), "must be a list"),
        (with_landmarks(message(), lm5=("0.5", 0.5, 1.0)), "Landmark 5 has a value that is not a number"),
        (with_landmarks(message(), lm7=(True, 0.5, 1.0)), "Landmark 7 has a value that is not a number"),
        (with_landmarks(message(), lm9=(float("nan"), 0.5, 1.0)), "Landmark 9 has a value that is NaN"),
        (with_landmarks(message(), lm3=(0.5, float("inf"), 1.0)), "Landmark 3 .* infinite"),
        (message(timestamp="1763062977059"), "timestamp must be a non-negative number"),
        (message(timestamp=-5), "timestamp must be a non-negative number"),
        (message(width=0), "width and height must be positive"),
        (message(height="640"), "width and height must be positive"),
    ],
)
def test_malformed_messages_are_rejected_with_a_reason(msg, reason):
    with pytest.raises(InvalidInput, match=reason):
        parse_pose_message(msg)


@settings(deadline=None, database=None)
@given(st.dictionaries(st.sampled_from(["type", "timestamp", "width", "height", "landmarks"]),
                       st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=4)
                       | st.lists(st.dictionaries(st.sampled_from(["x", "y", "z", "visibility"]), st.floats()),
                                  max_size=34)))
def test_any_object_is_a_frame_or_invalid_input_never_another_error(msg):
    try:
        frame = parse_pose_message(msg, fallback_size=(10, 10), arrival_time=1.0)
    except InvalidInput:
        return
    assert np.isfinite(frame.landmarks).all() and frame.width > 0


# -- hands -----------------------------------------------------------------------------

def test_palm_centre_is_the_visibility_weighted_mean_of_wrist_pinky_index_thumb():
    # left hand (15, 17, 19, 21) in px of a 400×200 frame: wrist (100,100) w1, pinky (120,100) w1,
    # index (120,120) w0.5, thumb (100,120) w0.5 → weighted centre (110, 106.667)
    msg = with_landmarks(message(), lm15=(0.25, 0.5, 1.0), lm17=(0.3, 0.5, 1.0),
                         lm19=(0.3, 0.6, 0.5), lm21=(0.25, 0.6, 0.5))
    hands = hand_points(parse_pose_message(msg), extension_percent=0)
    assert hands.points[0] == pytest.approx([110, 100 + 20 / 3])
    assert hands.visibility[0] == pytest.approx(0.75) and hands.visible[0]


def test_the_hand_point_is_pushed_beyond_the_palm_along_the_forearm_by_a_share_of_the_palm_width():
    # elbow straight below the palm; palm width (index↔pinky) = 40 px; 25 % → 10 px further up
    msg = with_landmarks(message(), lm13=(0.5, 0.9, 1.0), lm15=(0.5, 0.5, 1.0), lm17=(0.45, 0.4, 1.0),
                         lm19=(0.55, 0.4, 1.0), lm21=(0.5, 0.5, 1.0))
    frame = parse_pose_message(msg)
    centre = np.array([200, 90])  # mean of (200,100), (180,80), (220,80), (200,100)
    assert hand_points(frame, extension_percent=0).points[0] == pytest.approx(centre)
    assert hand_points(frame, extension_percent=25).points[0] == pytest.approx(centre + [0, -10])
    # with the elbow hidden the wrist gives the direction instead
    hidden_elbow = with_landmarks(msg, lm13=(0.5, 0.9, 0.1), lm15=(0.4, 0.5, 1.0))
    hp = hand_points(parse_pose_message(hidden_elbow), extension_percent=25).points[0]
    start = np.array([190, 90])  # mean of (160,100), (180,80), (220,80), (200,100)
    direction = (start - [160, 100]) / np.linalg.norm(start - [160, 100])
    assert hp == pytest.approx(start + direction * 10)


def test_a_hand_below_the_visibility_threshold_is_ignored_and_the_other_still_counts():
    msg = message()
    for i in (15, 17, 19, 21):
        msg["landmarks"][i]["visibility"] = 0.3
    hands = hand_points(parse_pose_message(msg), visibility_threshold=0.5)
    assert hands.visible.tolist() == [False, True]
    assert hand_points(parse_pose_message(msg), visibility_threshold=0.2).visible.tolist() == [True, True]


# -- onto the wall -------------------------------------------------------------------------

def test_landmarks_map_to_wall_units_and_normalised_wall_coordinates_with_35_points():
    wall = parse_wall_svg('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 800 400">'
                          '<path id="a" d="M0 0 h10 v10 h-10 z"/></svg>')
    # image 400×200 px → wall 800×400 units: a pure scale by 2
    cal = compute_calibration([[0, 0], [400, 0], [400, 200], [0, 200]], [[0, 0], [800, 0], [800, 400], [0, 400]],
                              (400, 200), hand_extension_percent=0)
    msg = with_landmarks(message(), lm0=(0.25, 0.75, 0.9))
    pose = pose_on_wall(parse_pose_message(msg), cal, wall)
    assert pose.wall.shape == (35, 2) and pose.normalised.shape == (35, 2)
    assert pose.wall[0] == pytest.approx([200, 300]) and pose.normalised[0] == pytest.approx([0.25, 0.75])
    assert pose.hand(0) == pytest.approx((400, 200))
    out = pose.landmarks_json()
    assert len(out) == 35 and list(out[0]) == ["x", "y", "z", "visibility"] and out[0]["visibility"] == 0.9
    # a frame at half the resolution lands on the same wall points
    half = pose_on_wall(parse_pose_message(dict(msg, width=200, height=100)), cal, wall)
    assert half.wall[0] == pytest.approx([200, 300])


@needs_real_data
def test_our_pose_output_has_the_shape_of_the_earlier_systems_output():
    earlier = json.loads((PROJECTCLIMB / "session_message_out.json").read_text())
    wall = parse_wall_svg((PROJECTCLIMB / "wall_2025-11-16.svg").read_bytes())
    cal = compute_calibration([[0, 0], [480, 0], [480, 640], [0, 640]],
                              [[0, 0], [2500, 0], [2500, 3330], [0, 3330]], (480, 640))
    ours = pose_on_wall(parse_pose_message((PROJECTCLIMB / "pose_message_in.json").read_text()), cal, wall)
    assert len(ours.landmarks_json()) == len(earlier["pose"]) == 35
    assert [list(p) for p in ours.landmarks_json()] == [list(p) for p in earlier["pose"]]
    # z and visibility of the 33 body landmarks pass through unchanged, as in the earlier output
    assert [p["z"] for p in ours.landmarks_json()[:33]] == [p["z"] for p in earlier["pose"][:33]]
    assert math.isclose(ours.landmarks_json()[0]["visibility"], earlier["pose"][0]["visibility"])
