"""Frame removal: exactly the named frames go, the rest stay in order, audio stays in sync."""
import os

import pytest

from motion.errors import InvalidInput
from motion.video import remove_frames, removed_indices
from tests.motion.video_fixtures import Cancel, Recorder, cancel_at
from tests.motion.videogen import frame_indices, has_audio, media_duration
from tests.motion.video_fixtures import clip, clip_with_audio, shared_video  # noqa: F401 (fixtures)



def test_removed_frames_are_exactly_absent_and_the_rest_in_order(clip, tmp_path):
    out = tmp_path / "cut.mp4"
    spec = {"frames": [0, 5, 63], "ranges": [[10, 19], [15, 22]], "times": [[2.0, 2.2]]}
    result = remove_frames(clip, out, spec)
    gone = {0, 5, 63} | set(range(10, 23)) | set(range(50, 55))
    expected = [i for i in range(64) if i not in gone]
    assert frame_indices(out) == expected
    assert result["frames_written"] == len(expected) and result["frames_removed"] == len(gone)
    assert result["removed_ranges"] == [[0, 0], [5, 5], [10, 22], [50, 54], [63, 63]]


def test_time_ranges_remove_every_frame_shown_during_them():
    # frame i is shown during [i/25, (i+1)/25)
    assert removed_indices({"times": [[1.0, 2.0]]}, 64, 25.0) == set(range(25, 50))
    assert removed_indices({"times": [[1.01, 1.02]]}, 64, 25.0) == {25}
    assert removed_indices({"times": [[2.5, 2.56]]}, 64, 25.0) == {62, 63}


@pytest.mark.parametrize("spec, named", [
    ({"frames": [64]}, "frames[0] = 64"),
    ({"frames": [-1]}, "frames[0] = -1"),
    ({"frames": [1.5]}, "frames[0]"),
    ({"ranges": [[10, 70]]}, "ranges[0][1] = 70"),
    ({"ranges": [[9, 3]]}, "ranges[0] = [9, 3]"),
    ({"ranges": [[1, 2, 3]]}, "ranges[0]"),
    ({"times": [[3.0, 4.0]]}, "times[0][0] = 3"),
    ({"times": [[1.0, 9.0]]}, "times[0][1] = 9"),
    ({"times": [[2.0, 1.0]]}, "times[0]"),
    ({}, "Nothing to remove"),
    ({"ranges": [[0, 63]]}, "all 64 frames"),
])
def test_bad_removal_specs_are_rejected_naming_the_value(spec, named):
    with pytest.raises(InvalidInput) as err:
        removed_indices(spec, 64, 25.0)
    assert named in str(err.value)


def test_audio_is_cut_by_time_and_stays_as_long_as_the_video(clip_with_audio, tmp_path):
    out = tmp_path / "cut.mp4"
    result = remove_frames(clip_with_audio, out, {"ranges": [[10, 34]], "frames": [60]})
    assert result["audio_kept"] is True and has_audio(out)
    kept = 64 - 26
    assert result["duration"] == pytest.approx(kept / 25)
    assert media_duration(out, "video") == pytest.approx(kept / 25, abs=0.01)
    assert media_duration(out, "audio") == pytest.approx(kept / 25, abs=0.05)


def test_progress_covers_every_source_frame(clip, tmp_path):
    progress = Recorder()
    remove_frames(clip, tmp_path / "cut.mp4", {"ranges": [[0, 31]]}, progress)
    done = [c[0] for c in progress.calls]
    assert done == sorted(done) and done[0] == 0 and done[-1] == 64 and 50 in done


def test_cancelling_removal_leaves_no_output_and_no_temp_file(clip_with_audio, tmp_path):
    out = tmp_path / "out" / "cut.mp4"
    out.parent.mkdir()
    with pytest.raises(Cancel):
        remove_frames(clip_with_audio, out, {"frames": [3]}, cancel_at(50))
    assert os.listdir(out.parent) == []


def test_removal_on_a_real_clip_with_audio_keeps_it_in_sync(shared_video, tmp_path):
    src = shared_video("exercise/plank_hold_side.mp4")  # 77 frames, 29.97 fps, AAC audio
    out = tmp_path / "plank_cut.mp4"
    result = remove_frames(src, out, {"ranges": [[10, 39]]})
    assert result["frames_written"] == 47 and result["audio_kept"]
    assert media_duration(out, "audio") == pytest.approx(media_duration(out, "video"), abs=0.1)
