"""``SessionMessageEncoder``: the same text as encoding ``build_session_message``, with the hold list cached."""
import json

import pytest

from motion.climbing import SessionMessageEncoder, build_session_message
from tests.motion.test_climbing_tracker import LEFT, RIGHT, T0, TIMES, new_tracker, pose_message


@pytest.mark.parametrize("options", [{}, {"stream_svg_only": True}, {"no_stream_landmarks": True}])
def test_every_message_is_byte_for_byte_the_full_encoding_and_holds_are_encoded_only_on_change(options):
    tracker = new_tracker(touch_duration=0.5)
    encoder = SessionMessageEncoder(tracker, **options)
    for i, t in enumerate(TIMES):
        result = tracker.step(json.dumps(pose_message(T0 + t, LEFT(t), RIGHT(t))), T0 + t)
        reset = i == 40
        if reset:
            tracker.reset_holds()
        message, text = encoder.encode(result, reset=reset, extra={"timestamp": i})
        expected = {**build_session_message(tracker, result, reset=reset, **options), "timestamp": i}
        assert text == json.dumps(expected, separators=(",", ":"))
        assert message == expected
    assert len(tracker.touched) >= 3
    assert encoder.hold_encodes <= 2 * len(tracker.touched) + 4  # not once per frame
    assert encoder.hold_encodes < len(TIMES) / 3
