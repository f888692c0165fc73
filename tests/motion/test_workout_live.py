"""Live frames: decoding, per-stream trackers, and one analysed frame's payload."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from motion.errors import InvalidInput
from motion.workout.live import PoseTrackers, analyse_live_frame, decode_image

IMAGES = Path("/work/shared/data/images")
if not IMAGES.exists():
    IMAGES = Path(__file__).resolve().parents[3] / "shared" / "data" / "images"
STANDING = IMAGES / "person_fullbody_side_standing_squatvideo_f0.png"
needs_image = pytest.mark.skipif(not STANDING.exists(), reason=f"real image absent ({STANDING})")


@pytest.mark.parametrize("data", [b"", b"hello", b"\xff\xd8\xff\xe0" + b"\x00" * 64])
def test_undecodable_frames_are_invalid_input(data):
    with pytest.raises(InvalidInput, match="decodable"):
        decode_image(data)


def test_big_frames_are_downscaled_to_640_on_the_long_side():
    ok, buf = cv2.imencode(".png", np.zeros((1080, 1920, 3), np.uint8))
    assert decode_image(buf.tobytes()).shape == (360, 640, 3)


@needs_image
def test_trackers_share_instances_between_streams_beyond_capacity():
    bgr = cv2.imread(str(STANDING))
    trackers = PoseTrackers(1)
    try:
        assert trackers.detect("a", bgr, after=0, now=1) is not None
        assert trackers.detect("b", bgr, after=0, now=1) is not None  # takes over a's instance, reset first
        assert trackers.detect("a", bgr, after=1, now=2) is not None
        assert len(trackers) == 1
    finally:
        trackers.close()


@needs_image
def test_a_live_frame_counts_frames_received_and_frames_analysed():
    data = STANDING.read_bytes()
    trackers = PoseTrackers(0)  # detect afresh each time
    detect = lambda bgr: trackers.detect("s", bgr, after=None, now=None)  # noqa: E731
    payload, state, summary = analyse_live_frame(None, data, 50.0, seq=1, dropped=0, detect=detect)
    payload, state, summary = analyse_live_frame(state, data, 50.4, seq=5, dropped=1, detect=detect)
    assert (payload["frame_count"], payload["analysed_frames"], payload["dropped_frames"]) == (5, 2, 1)
    assert payload["landmarks_detected"] and len(payload["landmarks"]) == 33 and payload["session_time"] == 0.4
    assert (summary["total_frames"], summary["analysed_frames"], summary["dropped_frames"]) == (5, 2, 1)
    assert state["seq"] == 5
