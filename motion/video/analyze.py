"""Pose and motion figures for a video: landmarks per frame and a summary.

MediaPipe Pose runs with ``model_complexity=1`` only: it is the one pose model
inside the mediapipe 0.10.21 wheel (0 and 2 try to download at start-up).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import IO, Optional

import cv2
import numpy as np

from motion.video.faces import FaceDetector

LANDMARKS = 33
_MOTION_WIDTH = 160


class PoseEstimator:
    """MediaPipe Pose in video (tracking) mode over BGR frames."""

    def __init__(self, detect_width: int = 640) -> None:
        self._pose = _mediapipe().solutions.pose.Pose(static_image_mode=False, model_complexity=1,
                                            min_detection_confidence=0.5,
                                            min_tracking_confidence=0.5)
        self.detect_width = detect_width

    def landmarks(self, frame: np.ndarray) -> Optional[list[dict]]:
        """Return 33 ``{x, y, z, visibility}`` dicts (normalised to the frame), or None."""
        h, w = frame.shape[:2]
        if w > self.detect_width:
            frame = cv2.resize(frame, (self.detect_width, round(h * self.detect_width / w)),
                               interpolation=cv2.INTER_AREA)
        result = self._pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        if result.pose_landmarks is None:
            return None
        return [{"x": round(p.x, 5), "y": round(p.y, 5), "z": round(p.z, 5),
                 "visibility": round(p.visibility, 5)}
                for p in result.pose_landmarks.landmark]

    def close(self) -> None:
        """Free the MediaPipe graph."""
        self._pose.close()


def motion_gray(frame: np.ndarray) -> np.ndarray:
    """The small grayscale image motion energy is measured on (160 px wide)."""
    h, w = frame.shape[:2]
    small = cv2.resize(frame, (_MOTION_WIDTH, max(1, round(h * _MOTION_WIDTH / w))),
                       interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.int16)


@dataclass
class Analysis:
    """Accumulates per-frame results and writes one JSONL record per frame.

    Motion energy: the mean, over consecutive pairs of analysed frames, of the
    mean absolute difference of their grayscale images (shrunk to 160 px wide),
    divided by 255 — 0 for a still video, 1 for black/white flicker. With a
    stride above 1 it measures change per ``stride`` frames.
    """

    out: IO[str]
    fps: float
    frames_analysed: int = 0
    frames_with_person: int = 0
    frames_with_faces: int = 0
    max_faces: int = 0
    _visibility: list[float] = field(default_factory=list)
    _energy: list[float] = field(default_factory=list)
    _previous: Optional[np.ndarray] = None

    def add(self, index: int, frame: np.ndarray, landmarks: Optional[list[dict]],
            faces: int) -> None:
        """Record frame ``index``'s landmarks and face count, and its motion."""
        self.frames_analysed += 1
        if landmarks is not None:
            self.frames_with_person += 1
            self._visibility.append(float(np.mean([p["visibility"] for p in landmarks])))
        self.frames_with_faces += faces > 0
        self.max_faces = max(self.max_faces, faces)
        gray = motion_gray(frame)
        if self._previous is not None and self._previous.shape == gray.shape:
            self._energy.append(float(np.abs(gray - self._previous).mean()) / 255.0)
        self._previous = gray
        record = {"frame": index, "time": round(index / self.fps, 4), "faces": faces,
                  "landmarks": landmarks}
        self.out.write(json.dumps(record, separators=(",", ":")) + "\n")

    def summary(self) -> dict:
        """The figures for the task result."""
        return {
            "frames_analysed": self.frames_analysed,
            "frames_with_person": self.frames_with_person,
            "person_ratio": round(self.frames_with_person / self.frames_analysed, 4)
            if self.frames_analysed else 0.0,
            "faces_seen": self.frames_with_faces,
            "max_faces": self.max_faces,
            "mean_visibility": round(float(np.mean(self._visibility)), 4)
            if self._visibility else None,
            "motion_energy": round(float(np.mean(self._energy)), 6) if self._energy else 0.0,
        }


__all__ = ["Analysis", "FaceDetector", "PoseEstimator", "LANDMARKS", "motion_gray"]


def _mediapipe():
    # Imported on first use: the web process imports this module (to validate
    # job specs) but must not pay MediaPipe's start-up time and memory.
    import mediapipe

    return mediapipe
