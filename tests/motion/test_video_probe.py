"""probe(): frames, size, rate, audio, codec; unreadable files are rejected."""
import pytest

from motion.errors import InvalidInput
from motion.video import probe, read_frames
from tests.motion.videogen import frame_indices, make_video
from tests.motion.video_fixtures import clip, clip_with_audio, shared_video  # noqa: F401 (fixtures)



def test_probe_reports_size_rate_length_and_codec(clip):
    info = probe(clip)
    assert (info.frames, info.width, info.height, info.fps) == (64, 160, 120, 25.0)
    assert info.duration == pytest.approx(2.56)
    assert info.codec == "h264"
    assert info.has_audio is False


def test_probe_sees_an_audio_track(clip_with_audio):
    assert probe(clip_with_audio).has_audio is True


def test_probe_counts_frames_by_decoding_when_the_container_states_none(tmp_path):
    # A raw H.264 elementary stream has no frame count in any header.
    path = make_video(tmp_path / "raw.h264", frames=37)
    assert probe(path).frames == 37


def test_probe_rejects_a_file_that_is_not_a_video(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 100)
    with pytest.raises(InvalidInput, match="notes.mp4"):
        probe(path)


def test_probe_rejects_an_empty_file_and_a_missing_file(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(InvalidInput):
        probe(empty)
    with pytest.raises(InvalidInput, match="does not exist"):
        probe(tmp_path / "missing.mp4")


def test_reader_streams_every_frame_in_order(clip):
    assert frame_indices(clip) == list(range(64))
    assert sum(1 for _ in read_frames(clip)) == 64


def test_probe_agrees_with_decoding_on_a_real_clip(shared_video):
    path = shared_video("exercise/pushup_single_1rep.mp4")
    info = probe(path)
    assert (info.frames, info.width, info.height) == (61, 640, 360)
    assert info.frames == sum(1 for _ in read_frames(path))
