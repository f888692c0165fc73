"""Find faces with MediaPipe and blur them, with a little temporal smoothing.

Detection uses ``mediapipe.solutions.face_detection`` (BlazeFace). Both models
ship inside the mediapipe 0.10.21 wheel and run offline; ``model_selection=1``
(full range, faces up to ~5 m) finds far more of the people in exercise and
climbing clips than ``0`` (short range, ~2 m), so it is the default.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import cv2
import numpy as np

from motion.video.masks import Region

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in frame pixels


class FaceDetector:
    """Detect face boxes in BGR frames; close it (or use ``with``) when done.

    Frames wider than ``detect_width`` are shrunk before detection (the model
    itself looks at 128-192 px, so this loses nothing and saves colour
    conversion time). Boxes come back in the frame's own pixels.
    """

    def __init__(self, model_selection: int = 1, min_confidence: float = 0.5,
                 detect_width: int = 640) -> None:
        self._fd = _mediapipe().solutions.face_detection.FaceDetection(
            model_selection=model_selection, min_detection_confidence=min_confidence)
        self.detect_width = detect_width

    def detect(self, frame: np.ndarray) -> list[Box]:
        """Return the boxes of the faces in ``frame``."""
        h, w = frame.shape[:2]
        small = frame
        if w > self.detect_width:
            small = cv2.resize(frame, (self.detect_width, round(h * self.detect_width / w)),
                               interpolation=cv2.INTER_AREA)
        result = self._fd.process(cv2.cvtColor(small, cv2.COLOR_BGR2RGB))
        boxes = []
        for det in result.detections or ():
            rb = det.location_data.relative_bounding_box
            x0, y0 = rb.xmin * w, rb.ymin * h
            boxes.append((int(x0), int(y0), int(x0 + rb.width * w), int(y0 + rb.height * h)))
        return boxes

    def close(self) -> None:
        """Free the MediaPipe graph."""
        self._fd.close()

    def __enter__(self) -> "FaceDetector":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def expand(b: Box, margin: float, width: int, height: int) -> Optional[Box]:
    """Grow a box by ``margin`` of its size on every side (twice that above, for
    the forehead and hair MediaPipe's box leaves out), clipped to the frame."""
    x0, y0, x1, y1 = b
    mw, mh = (x1 - x0) * margin, (y1 - y0) * margin
    out = (max(0, int(x0 - mw)), max(0, int(y0 - 2 * mh)),
           min(width, int(x1 + mw + 1)), min(height, int(y1 + mh + 1)))
    return out if out[2] > out[0] and out[3] > out[1] else None


def _iou(a: Box, b: Box) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


@dataclass
class _Track:
    box: Box
    last_seen: int


class FaceBlurrer:
    """Blur every face in a stream of frames, frame by frame.

    Temporal smoothing: a face box stays blurred for ``hold`` frames after the
    last frame it was detected in, so a face the detector misses for a frame
    or two is still covered. A new detection overlapping a held box replaces
    it (the face moved); the held box is the union of both for that frame so a
    fast move does not uncover an edge.

    Parameters:
        margin: fraction of the face box added on each side before blurring.
        hold: frames a box persists after its last detection.
        mode: ``"blur"`` or ``"pixelate"``.
        passes: detection rounds per frame (see :meth:`apply`). 1 by default:
            with ``strength=1`` a blurred face is not found again, and later
            rounds mostly find hands, which a motion video needs to keep.
        strength: blur kernel (or pixelate block x 4) as a fraction of the
            box's smaller side; 1.0 leaves only a soft colour gradient.
    """

    def __init__(self, width: int, height: int, *, margin: float = 0.45, hold: int = 5,
                 mode: str = "blur", model_selection: int = 1,
                 min_confidence: float = 0.5, passes: int = 1, strength: float = 1.0) -> None:
        self.strength = strength
        self.passes = max(1, passes)
        self.width, self.height, self.margin, self.hold, self.mode = width, height, margin, hold, mode
        self.detector = FaceDetector(model_selection, min_confidence)
        self._tracks: list[_Track] = []
        self._index = -1
        self.frames_with_faces = 0
        self.detections = 0

    def _found(self, frame: np.ndarray) -> list[Box]:
        return [b for b in (expand(d, self.margin, self.width, self.height)
                            for d in self.detector.detect(frame)) if b]

    def _update(self, found: list[Box]) -> list[Box]:
        """Merge this frame's detections into the tracks; return boxes to blur."""
        now, shown = self._index, {}
        for b in found:
            match = max(self._tracks, key=lambda t: _iou(t.box, b), default=None)
            if match is not None and _iou(match.box, b) > 0.1 and id(match) not in shown:
                old = match.box
                shown[id(match)] = (min(old[0], b[0]), min(old[1], b[1]),
                                    max(old[2], b[2]), max(old[3], b[3]))
                match.box, match.last_seen = b, now
            else:
                track = _Track(b, now)
                self._tracks.append(track)
                shown[id(track)] = b
        self._tracks = [t for t in self._tracks if now - t.last_seen <= self.hold]
        return [shown.get(id(t), t.box) for t in self._tracks]

    def boxes_for(self, frame: np.ndarray) -> list[Box]:
        """Detect in the next frame; return the (held and new) boxes to blur."""
        self._index += 1
        found = self._found(frame)
        self.detections += len(found)
        self.frames_with_faces += bool(found)
        return self._update(found)

    def apply(self, frame: np.ndarray) -> int:
        """Blur the faces of ``frame`` in place; return how many boxes were blurred.

        After blurring, the detector looks at the result again (``passes``
        times in all) and blurs whatever it still finds: a face hidden behind
        a more confident one, or a blurred head it still takes for a face.
        """
        boxes = self.boxes_for(frame)
        blurred = 0
        for step in range(self.passes):
            for x0, y0, x1, y1 in boxes:
                Region(x0, y0, x1, y1, self.mode, strength=self.strength).apply(frame)
            blurred += len(boxes)
            if step + 1 == self.passes:
                break
            found = self._found(frame)
            if not found:
                break
            self._update(found)
            boxes = found
        return blurred

    def close(self) -> None:
        """Free the detector."""
        self.detector.close()

    def __enter__(self) -> "FaceBlurrer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _mediapipe():
    # Imported on first use: the web process imports this module (to validate
    # job specs) but must not pay MediaPipe's start-up time and memory.
    import mediapipe

    return mediapipe
