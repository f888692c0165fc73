"""Segment plans, segment encoding and the lossless join (motion.video.segments)."""
from __future__ import annotations

import numpy as np
import pytest

from motion.errors import InvalidInput, MotionError
from motion.video import apply_mask, probe
from motion.video.segments import Segment, join_segments, keyframe_indices, mask_segment, plan_segments
from tests.motion.video_fixtures import Recorder, shared_video  # noqa: F401 (fixture)
from tests.motion.videogen import frame_indices, has_audio, make_video, media_duration, read_all

SPEC = {"regions": [{"shape": "rect", "x": 20, "y": 10, "width": 60, "height": 40},
                    {"shape": "polygon", "points": [[100, 100], [220, 120], [160, 200]], "mode": "blur"}],
        "color": [0, 0, 255]}


def test_plan_cuts_equal_consecutive_ranges():
    assert plan_segments(1000, 4) == [Segment(0, 250), Segment(250, 500), Segment(500, 750), Segment(750, 1000)]
    assert plan_segments(10, 3) == [Segment(0, 3), Segment(3, 7), Segment(7, 10)]
    assert plan_segments(5, 1) == [Segment(0, 5)]


def test_plan_moves_boundaries_onto_nearby_keyframes_only():
    # Within a quarter segment (62.5 frames) of 250, 500, 750: 240 and 690; 400 is too far.
    plan = plan_segments(1000, 4, keyframes=[0, 240, 400, 690, 990])
    assert [s.start for s in plan] == [0, 240, 500, 690]
    assert sum(s.frames for s in plan) == 1000


def test_plan_never_makes_segments_shorter_than_min_frames():
    assert plan_segments(100, 8, min_frames=30) == [Segment(0, 33), Segment(33, 67), Segment(67, 100)]
    assert plan_segments(20, 4, min_frames=30) == [Segment(0, 20)]
    with pytest.raises(InvalidInput):
        plan_segments(0, 2)


def test_keyframes_are_frame_indices_starting_at_zero(tmp_path):
    clip = make_video(tmp_path / "k.mp4", frames=120)
    keys = keyframe_indices(clip, 25.0)
    assert keys[0] == 0 and all(0 <= k < 120 for k in keys)


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("seg") / "long.mp4", frames=300, width=320, height=240, audio=True)


def _segmented(src, spec, plan, folder, **kwargs):
    parts = []
    for k, s in enumerate(plan):
        parts.append(folder / f"part{k}.mp4")
        mask_segment(src, parts[-1], spec, s.start, s.stop, **kwargs)
    return parts


def test_lossless_segments_join_to_exactly_the_one_run_frames(long_clip, tmp_path):
    # Encoded losslessly (CRF 0) both ways, every decoded frame is bit-identical: the
    # seeks, ranges, masking and join add nothing and lose nothing.
    apply_mask(long_clip, tmp_path / "one.mp4", SPEC, crf=0)
    info = probe(long_clip)
    plan = plan_segments(info.frames, 4, keyframes=keyframe_indices(long_clip, info.fps))
    parts = _segmented(long_clip, SPEC, plan, tmp_path, crf=0)
    result = join_segments(parts, tmp_path / "joined.mp4", audio_from=long_clip)
    assert result["frames_written"] == 300 and result["audio_kept"] and result["segments"] == 4
    one, joined = read_all(tmp_path / "one.mp4"), read_all(tmp_path / "joined.mp4")
    assert len(one) == len(joined) == 300
    assert all(np.array_equal(a, b) for a, b in zip(one, joined))
    assert frame_indices(tmp_path / "joined.mp4") == list(range(300))
    assert media_duration(tmp_path / "joined.mp4") == pytest.approx(media_duration(tmp_path / "one.mp4"), abs=0.05)


def test_face_blurring_is_the_same_across_a_segment_boundary(shared_video, tmp_path):
    # The face tracker holds boxes for a few frames; a segment warms it up on the
    # frames before its start, so frames after a boundary are blurred the same.
    src = shared_video("exercise/jumpingjack_front_11reps.mp4")
    spec = {"faces": True}
    whole = mask_segment(src, tmp_path / "one.mp4", spec, 0, 90, crf=0)
    assert whole["frames_with_faces"] > 30
    parts = _segmented(src, spec, [Segment(0, 37), Segment(37, 90)], tmp_path, crf=0)
    join_segments(parts, tmp_path / "joined.mp4")
    one, joined = read_all(tmp_path / "one.mp4"), read_all(tmp_path / "joined.mp4")
    assert len(one) == len(joined) == 90
    assert all(np.array_equal(a, b) for a, b in zip(one, joined))


def test_a_segment_reports_its_own_frames(long_clip, tmp_path):
    rec = Recorder()
    result = mask_segment(long_clip, tmp_path / "s.mp4", SPEC, 100, 175, rec)
    assert result["frames_written"] == 75 and (result["start"], result["stop"]) == (100, 175)
    assert rec.calls[-1][:2] == (75, 75)
    assert frame_indices(tmp_path / "s.mp4") == list(range(100, 175)) and not has_audio(tmp_path / "s.mp4")


def test_a_range_past_the_end_of_a_truncated_file_fails_clearly(tmp_path):
    import subprocess

    from tests.motion.videogen import ffmpeg

    whole = make_video(tmp_path / "whole.mp4", frames=200)
    fast = tmp_path / "fast.mp4"
    subprocess.run([ffmpeg(), "-loglevel", "error", "-y", "-i", str(whole), "-c", "copy",
                    "-movflags", "+faststart", str(fast)], check=True)
    truncated = tmp_path / "cut.mp4"
    truncated.write_bytes(fast.read_bytes()[:fast.stat().st_size // 2])
    with pytest.raises(MotionError, match="damaged or truncated"):
        mask_segment(truncated, tmp_path / "s.mp4", SPEC | {"regions": SPEC["regions"][:1]}, 150, 200)
    assert not (tmp_path / "s.mp4").exists()
    with pytest.raises(InvalidInput):
        mask_segment(whole, tmp_path / "s.mp4", SPEC, 150, 250)


def test_join_refuses_missing_parts(tmp_path):
    with pytest.raises(InvalidInput, match="missing"):
        join_segments([tmp_path / "nope.mp4"], tmp_path / "out.mp4")
    with pytest.raises(InvalidInput):
        join_segments([], tmp_path / "out.mp4")
