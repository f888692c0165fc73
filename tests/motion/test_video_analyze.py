"""Pose analysis: one JSONL record per analysed frame and a summary."""
import json
import os
import subprocess

import pytest

from motion.errors import InvalidInput
from motion.video import analyze_video
from tests.motion.video_fixtures import Cancel, Recorder, cancel_at
from tests.motion.videogen import ffmpeg, make_video, stamp_frame
from tests.motion.video_fixtures import clip, shared_video  # noqa: F401 (fixtures)



def _records(path):
    return [json.loads(line) for line in open(path, encoding="utf-8")]


def test_analysis_writes_a_record_for_every_nth_frame(clip, tmp_path):
    out = tmp_path / "pose.jsonl"
    progress = Recorder()
    result = analyze_video(clip, out, {"stride": 4}, progress)
    records = _records(out)
    assert [r["frame"] for r in records] == list(range(0, 64, 4))
    assert records[1]["time"] == pytest.approx(4 / 25)
    assert result["frames_analysed"] == 16 and result["frames_with_person"] == 0
    assert all(r["landmarks"] is None for r in records)
    assert progress.calls[-1][:2] == (64, 64)


def test_motion_energy_is_zero_for_a_still_video_and_positive_for_a_moving_one(tmp_path):
    still = tmp_path / "still.mp4"  # frame 0 eight times, lossless
    frame = stamp_frame(0).tobytes()
    subprocess.run([ffmpeg(), "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24",
                    "-s", "160x120", "-framerate", "25", "-i", "pipe:0", "-c:v", "libx264",
                    "-qp", "0", str(still)], input=frame * 8, check=True)
    moving = make_video(tmp_path / "moving.mp4", frames=8)
    e_still = analyze_video(still, tmp_path / "a.jsonl", {"faces": False})["motion_energy"]
    e_moving = analyze_video(moving, tmp_path / "b.jsonl", {"faces": False})["motion_energy"]
    assert e_still == 0.0 and e_moving > 0.001


def test_bad_stride_is_rejected(clip, tmp_path):
    for stride in (0, -2, 1.5, "3", True):
        with pytest.raises(InvalidInput, match="stride"):
            analyze_video(clip, tmp_path / "x.jsonl", {"stride": stride})


def test_cancelled_analysis_leaves_no_file(tmp_path):
    clip = make_video(tmp_path / "clip.mp4", frames=120)
    out = tmp_path / "out" / "pose.jsonl"
    out.parent.mkdir()
    with pytest.raises(Cancel):
        analyze_video(clip, out, {"stride": 2}, cancel_at(50))
    assert os.listdir(out.parent) == []


def test_analysis_finds_the_person_in_an_exercise_clip(shared_video, tmp_path):
    src = shared_video("exercise/squat_ucf101_g01c01_side_4reps.avi")  # 267 frames, 320x240
    out = tmp_path / "squat.jsonl"
    result = analyze_video(src, out, {"stride": 3})
    assert result["frames_analysed"] == 89
    assert result["frames_with_person"] / result["frames_analysed"] > 0.9
    assert 0.3 < result["mean_visibility"] <= 1.0
    assert result["motion_energy"] > 0
    record = next(r for r in _records(out) if r["landmarks"])
    assert len(record["landmarks"]) == 33
    assert set(record["landmarks"][0]) == {"x", "y", "z", "visibility"}
