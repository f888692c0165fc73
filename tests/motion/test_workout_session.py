"""WorkoutSession payloads, summary, reset and the JSON state round trip."""
import json
import math
from pathlib import Path

import numpy as np
import pytest

from motion.errors import InvalidInput
from motion.workout import WorkoutSession, analyze_workout, load_model, plot_angles

CLIP = Path(__file__).resolve().parents[3] / "shared" / "data" / "videos" / "exercise" / "squat_side_3reps.mp4"
WORKOUT_FIELDS = {"exercise", "confidence", "feedback", "angle", "reps", "landmarks_detected", "form_color",
                  "session_time", "frame_count", "landmarks"}
SUMMARY_FIELDS = {"session_duration", "total_frames", "exercises_performed", "exercise_details"}


def squat_pose(depth: float) -> np.ndarray:
    """A side-view stick figure squatting: depth 0 standing, 1 at the bottom."""
    p = np.zeros((33, 4), np.float32)
    p[:, 3] = 0.95
    ankle, knee_h = np.array([0.5, 0.9]), 0.22
    knee = ankle + [0.12 * depth, -knee_h * (1 - 0.15 * depth)]
    hip = knee + [-0.22 * math.sin(math.radians(10 + 80 * depth)), -0.22 * math.cos(math.radians(10 + 80 * depth))]
    shoulder = hip + [0.12 * depth, -0.25]
    wrist = shoulder + [0.2, 0.02]
    for left, right, pt in ((27, 28, ankle), (25, 26, knee), (23, 24, hip), (11, 12, shoulder),
                            (13, 14, (shoulder + wrist) / 2), (15, 16, wrist), (31, 32, ankle + [0.08, 0.0]),
                            (29, 30, ankle - [0.03, 0])):
        p[left, :2] = pt
        p[right, :2] = pt + [0.005, 0.0]
    p[0, :2] = shoulder - [0.0, 0.08]
    return p


def squat_stream(reps: int, fps: float = 12.5, period: float = 2.4):
    t = np.arange(int((reps + 0.5) * period * fps)) / fps
    depth = (1 - np.cos(2 * np.pi * t / period)) / 2
    depth[t > reps * period] = 0.0
    return [(squat_pose(d), ti) for d, ti in zip(depth, t)]


def test_payload_has_the_seed_fields():
    s = WorkoutSession()
    payload = s.step(squat_pose(0.0), 0.0)
    assert WORKOUT_FIELDS <= payload.keys()
    assert len(payload["landmarks"]) == 33 and payload["landmarks_detected"] is True
    assert 0.0 <= payload["confidence"] <= 1.0
    json.dumps(payload)


def test_no_person_is_reported_without_losing_count():
    s = WorkoutSession()
    payload = s.step(None, 0.0)
    assert payload["landmarks_detected"] is False and payload["reps"] == 0 and payload["landmarks"] == []


def test_bad_landmarks_raise_invalid_input():
    with pytest.raises(InvalidInput):
        WorkoutSession().step([{"x": 0.1, "y": 0.2}] * 5, 0.0)
    bad = squat_pose(0).copy()
    bad[3, 0] = np.nan
    with pytest.raises(InvalidInput):
        WorkoutSession().step(bad, 0.0)


def test_synthetic_squats_are_classified_and_counted():
    s = WorkoutSession()
    for pose, t in squat_stream(5):
        payload = s.step(pose, t)
    assert payload["exercise"] == "squat" and payload["reps"] == 5
    summary = s.summary()
    assert SUMMARY_FIELDS <= summary.keys()
    assert summary["exercise_details"]["squat"]["total_reps"] == 5
    assert 0 <= summary["exercise_details"]["squat"]["best_form_score"] <= 100


def test_state_round_trip_through_json_mid_set_gives_the_same_counts():
    stream = squat_stream(6)
    whole = WorkoutSession()
    expected = [whole.step(p, t) for p, t in stream]
    state, got = None, []
    for p, t in stream:  # every frame on a "different worker": state only via JSON
        s = WorkoutSession() if state is None else WorkoutSession.from_dict(json.loads(state))
        got.append(s.step(p, t))
        state = json.dumps(s.to_dict(), allow_nan=False)
    assert [g["reps"] for g in got] == [e["reps"] for e in expected]
    assert [g["exercise"] for g in got] == [e["exercise"] for e in expected]
    assert len(state) < 20_000


def test_reset_starts_over():
    s = WorkoutSession()
    for p, t in squat_stream(3):
        s.step(p, t)
    s.reset()
    assert s.summary()["total_frames"] == 0 and s.step(squat_pose(0), 100.0)["reps"] == 0


def test_damaged_state_is_rejected():
    with pytest.raises(InvalidInput):
        WorkoutSession.from_dict({"v": 1})


def test_whole_video_analysis_gives_segments_reps_and_a_plot(tmp_path):
    frames = [p for p, _ in squat_stream(4, fps=25.0)]
    result = analyze_workout(frames, 25.0, every=2)
    assert result["segments"][0]["exercise"] == "squat"
    assert sum(r["exercise"] == "squat" for r in result["reps"]) >= 3
    assert all(0 <= r["form_score"] <= 100 for r in result["reps"])
    out = plot_angles(result, tmp_path / "angles.png")
    assert Path(out).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_missing_or_broken_model_falls_back_with_a_clear_message(tmp_path):
    assert not load_model(None).loaded
    missing = load_model(tmp_path / "nope.onnx")
    assert not missing.loaded and "not found" in missing.message
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    status = load_model(broken)
    assert not status.loaded and status.model is None and "built-in" in status.message


@pytest.mark.skipif(not CLIP.exists(), reason=f"real clip {CLIP} not available (shared data folder absent)")
def test_pose_from_image_finds_a_person_in_a_real_frame():
    import cv2

    from motion.workout import pose_from_image

    img = cv2.imread(str(CLIP.parents[2] / "images" / "person_fullbody_side_standing_squatvideo_f0.png"))
    lm = pose_from_image(img)
    assert lm is not None and lm.shape == (33, 4)
