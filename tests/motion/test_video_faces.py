"""Face blurring: faces found in the input are not found again in the output."""
import numpy as np

from motion.video import apply_mask, read_frames
from motion.video.faces import FaceBlurrer, FaceDetector
from tests.motion.video_fixtures import clip, shared_video  # noqa: F401 (fixtures)



def _centre_in(box, boxes):
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in boxes)


def test_faces_in_a_real_clip_are_not_found_again_after_blurring(shared_video, tmp_path):
    src = shared_video("exercise/lunge_walking_quva020_5reps.mp4")  # 152 frames, face in nearly all
    out = tmp_path / "anon.mp4"
    result = apply_mask(src, out, {"faces": True})
    assert result["frames_written"] == 152 and result["frames_with_faces"] > 140
    with FaceDetector() as detector:
        seen_before = seen_again = 0
        for before, after in zip(read_frames(src), read_frames(out)):
            faces = detector.detect(before)
            seen_before += bool(faces)
            if faces and any(_centre_in(b, faces) for b in detector.detect(after)):
                seen_again += 1
    assert seen_before > 140
    assert seen_again == 0


def test_a_face_box_is_held_for_a_few_frames_after_a_missed_detection(shared_video):
    src = shared_video("exercise/lunge_walking_quva020_5reps.mp4")
    frame = next(iter(read_frames(src)))
    blank = np.full_like(frame, 128)  # no face at all: the detector misses
    with FaceBlurrer(frame.shape[1], frame.shape[0], hold=3) as blurrer:
        first = blurrer.boxes_for(frame)
        assert len(first) == 1
        held = [blurrer.boxes_for(blank) for _ in range(4)]
    assert held[:3] == [first] * 3   # still covered for `hold` frames
    assert held[3] == []             # then released


def test_face_blur_leaves_a_faceless_synthetic_clip_untouched(clip, tmp_path):
    out = tmp_path / "nofaces.mp4"
    result = apply_mask(clip, out, {"faces": True})
    assert result["frames_with_faces"] == 0 and result["frames_written"] == 64
