"""Masking: exact fill colours, untouched surroundings, blur, pixelate, presets."""
import os

import numpy as np
import pytest

from motion.errors import InvalidInput
from motion.video import apply_mask, compile_regions, device_regions, probe
from tests.motion.video_fixtures import Cancel, Recorder, cancel_at
from tests.motion.videogen import STRIP, make_video, frame_indices, has_audio, media_duration, read_all

RED = [0, 0, 255]
TOL_FLAT = 24       # worst pixel of a flat saturated colour after yuv420p + H.264
TOL_FLAT_MEAN = 4  # and its mean error
TOL_MEAN = 3.0      # untouched pixels: mean abs difference per channel (codec noise ~2)
from tests.motion.video_fixtures import clip, clip_with_audio  # noqa: F401 (fixtures)



def _outside(shape, boxes, pad=4):
    """Boolean mask of pixels more than ``pad`` px from every box, above the index strip."""
    keep = np.ones(shape[:2], bool)
    for x0, y0, x1, y1 in boxes:
        keep[max(0, y0 - pad):y1 + pad, max(0, x0 - pad):x1 + pad] = False
    keep[-STRIP - pad:] = False
    return keep


def test_rect_fill_paints_exactly_the_region_and_leaves_the_rest(clip, tmp_path):
    out = tmp_path / "masked.mp4"
    result = apply_mask(clip, out, {"regions": [
        {"shape": "rect", "x": 20, "y": 10, "width": 40, "height": 30}], "color": RED})
    assert result["frames_written"] == 64 and result["codec"] == "h264"
    src, dst = read_all(clip), read_all(out)
    assert frame_indices(out) == list(range(64))
    keep = _outside(src[0].shape, [(20, 10, 60, 40)])
    for a, b in zip(src, dst):
        inner = np.abs(b[12:38, 22:58].astype(int) - RED)
        assert inner.max() <= TOL_FLAT and inner.mean() <= TOL_FLAT_MEAN
        diff = np.abs(a.astype(int) - b.astype(int))[keep]
        assert diff.mean() <= TOL_MEAN


def test_polygon_fill_covers_the_triangle_but_not_its_bounding_box(clip, tmp_path):
    out = tmp_path / "poly.mp4"
    points = [[80, 10], [150, 10], [150, 80]]  # right triangle, hypotenuse bottom-left
    apply_mask(clip, out, {"regions": [{"shape": "polygon", "points": points}], "color": RED})
    src, dst = read_all(clip), read_all(out)
    for a, b in zip(src[::8], dst[::8]):
        assert np.abs(b[14:20, 135:146].astype(int) - RED).max() <= TOL_FLAT   # inside, near the right angle
        assert np.abs(b[60:70, 84:95].astype(int) - a[60:70, 84:95]).mean() <= TOL_MEAN  # box corner outside


def test_regions_reaching_outside_the_frame_are_clipped(clip, tmp_path):
    out = tmp_path / "clipped.mp4"
    result = apply_mask(clip, out, {"regions": [
        {"shape": "rect", "x": -50, "y": -50, "width": 80, "height": 70}], "color": [255, 255, 255]})
    assert result["frames_written"] == 64
    frame = read_all(out)[5].astype(int)
    assert np.abs(frame[0:18, 0:28] - 255).max() <= TOL_FLAT


def test_blur_and_pixelate_smooth_the_region_and_only_the_region(tmp_path):
    clip = make_video(tmp_path / "checker.mp4", frames=16, checker=True)
    box = (40, 20, 120, 80)  # the checkerboard patch of stamp_frame(checker=True)
    region = {"shape": "rect", "x": 40, "y": 20, "width": 80, "height": 60}
    src = read_all(clip)
    inner = (slice(24, 76), slice(44, 116))
    assert src[3][inner].std() > 60
    for mode in ("blur", "pixelate"):
        out = tmp_path / f"{mode}.mp4"
        apply_mask(clip, out, {"regions": [region], "mode": mode})
        a, b = src[3].astype(int), read_all(out)[3].astype(int)
        assert b[inner].std() < 0.25 * a[inner].std()
        assert np.abs(a - b)[_outside(a.shape, [box])].mean() <= TOL_MEAN


def test_a_region_may_override_the_mode_and_colour(clip, tmp_path):
    out = tmp_path / "mixed.mp4"
    apply_mask(clip, out, {"mode": "blur", "regions": [
        {"x": 0, "y": 0, "width": 40, "height": 40, "mode": "fill", "color": [0, 255, 0]}]})
    assert np.abs(read_all(out)[0][4:36, 4:36].astype(int) - [0, 255, 0]).max() <= TOL_FLAT


@pytest.mark.parametrize("region, words", [
    ({"shape": "rect", "x": 500, "y": 10, "width": 20, "height": 20}, "outside"),
    ({"shape": "rect", "x": 10, "y": 10, "width": 0, "height": 20}, "positive"),
    ({"shape": "rect", "x": "ten", "y": 10, "width": 5, "height": 20}, "x must be"),
    ({"shape": "polygon", "points": [[0, 0], [50, 50], [100, 100]]}, "degenerate"),
    ({"shape": "polygon", "points": [[0, 0], [50, 50]]}, "at least 3"),
    ({"shape": "circle", "x": 1}, "shape"),
])
def test_bad_regions_are_rejected_with_a_message_naming_them(region, words):
    with pytest.raises(InvalidInput, match=words) as err:
        compile_regions([region], 160, 120)
    assert "regions[0]" in str(err.value)


def test_bad_mode_colour_and_empty_spec_are_rejected(clip, tmp_path):
    out = tmp_path / "never.mp4"
    region = [{"x": 0, "y": 0, "width": 10, "height": 10}]
    for spec in ({}, {"regions": region, "mode": "smudge"},
                 {"regions": region, "color": [0, 0, 300]}, {"faces": "yes"}):
        with pytest.raises(InvalidInput):
            apply_mask(clip, out, spec)
    assert not out.exists()


def test_device_preset_supplies_regions(clip, tmp_path):
    presets = {"endoscope": {"regions": [{"x": 0, "y": 0, "width": 30, "height": 30}]},
               "ultrasound": [{"x": 100, "y": 0, "width": 60, "height": 20}]}
    out = tmp_path / "device.mp4"
    result = apply_mask(clip, out, {"device": "endoscope", "color": RED}, device_presets=presets)
    assert result["regions"] == 1
    assert np.abs(read_all(out)[3][4:26, 4:26].astype(int) - RED).max() <= TOL_FLAT
    assert device_regions("ultrasound", presets) == presets["ultrasound"]


def test_unknown_device_preset_lists_the_known_ones():
    with pytest.raises(InvalidInput, match="endoscope, ultrasound"):
        device_regions("xray", {"ultrasound": [], "endoscope": []})


def test_progress_is_monotonic_with_intermediate_reports(tmp_path):
    clip = make_video(tmp_path / "long.mp4", frames=160)
    progress = Recorder()
    apply_mask(clip, tmp_path / "out.mp4",
               {"regions": [{"x": 0, "y": 0, "width": 8, "height": 8}]}, progress)
    done = [c[0] for c in progress.calls]
    assert done == sorted(done) and done[0] == 0 and done[-1] == 160
    assert len({d for d in done if 0 < d < 160}) >= 3
    assert all(b - a <= 50 for a, b in zip(done, done[1:]))
    assert all(total == 160 for _, total, _ in progress.calls)
    assert "Processing frame 50/160" in [c[2] for c in progress.calls]


def test_a_progress_callback_that_raises_leaves_no_output_and_no_temp_file(clip, tmp_path):
    out = tmp_path / "out" / "cancelled.mp4"
    out.parent.mkdir()
    with pytest.raises(Cancel):
        apply_mask(clip, out, {"regions": [{"x": 0, "y": 0, "width": 8, "height": 8}]},
                   cancel_at(50))
    assert os.listdir(out.parent) == []


def test_a_cancelled_job_leaves_an_existing_output_untouched(clip, tmp_path):
    out = tmp_path / "previous.mp4"
    out.write_bytes(b"previous result")
    with pytest.raises(Cancel):
        apply_mask(clip, out, {"faces": True}, cancel_at(1))
    assert out.read_bytes() == b"previous result"
    assert sorted(os.listdir(tmp_path)) == ["clip.mp4", "previous.mp4"]


def test_the_original_is_never_overwritten(clip):
    before = clip.read_bytes()
    with pytest.raises(InvalidInput, match="original"):
        apply_mask(clip, clip, {"regions": [{"x": 0, "y": 0, "width": 8, "height": 8}]})
    assert clip.read_bytes() == before


def test_audio_is_kept_when_masking(clip_with_audio, tmp_path):
    out = tmp_path / "masked.mp4"
    result = apply_mask(clip_with_audio, out, {"regions": [{"x": 0, "y": 0, "width": 8, "height": 8}]})
    assert result["audio_kept"] is True and has_audio(out)
    assert media_duration(out) == pytest.approx(2.56, abs=0.05)


def test_opencv_fallback_writes_mp4v_without_audio(clip_with_audio, tmp_path):
    out = tmp_path / "fallback.mp4"
    result = apply_mask(clip_with_audio, out, {"regions": [
        {"x": 20, "y": 10, "width": 40, "height": 30}], "color": RED}, encoder="opencv")
    assert (result["codec"], result["audio_kept"]) == ("mp4v", False)
    assert probe(out).frames == 64 and frame_indices(out) == list(range(64))
    assert np.abs(read_all(out)[0][14:36, 24:56].astype(int) - RED).max() <= 2 * TOL_FLAT
