"""Facts about a video file: :func:`probe` and :class:`VideoInfo`."""
from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass

import cv2

from motion.errors import InvalidInput
from motion.video.ffmpeg import stream_facts


@dataclass(frozen=True)
class VideoInfo:
    """Size, rate and length of a video, as decoded frames will be."""

    frames: int
    fps: float
    width: int
    height: int
    duration: float
    has_audio: bool
    codec: str

    def to_dict(self) -> dict:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)


def _fourcc(cap: cv2.VideoCapture) -> str:
    code = int(cap.get(cv2.CAP_PROP_FOURCC))
    text = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
    return text.strip("\x00 ").lower() if text.isprintable() else ""


def _count_frames(cap: cv2.VideoCapture) -> int:
    count = 0
    while cap.grab():
        count += 1
    return count


def probe(path: str | os.PathLike) -> VideoInfo:
    """Open ``path`` and describe it.

    Width and height are those of the first decoded frame (so rotation
    metadata applied by OpenCV is accounted for). The frame count comes from
    the container when it states a positive one, and from decoding every frame
    otherwise.

    Raises:
        InvalidInput: the file is missing, OpenCV cannot open it, or it has no
            decodable frame.
    """
    path = os.fspath(path)
    name = os.path.basename(path)
    if not os.path.isfile(path):
        raise InvalidInput(f"Video file {name!r} does not exist.")
    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            raise InvalidInput(f"{name!r} is not a video OpenCV can open.")
        ok, frame = cap.read()
        if not ok or frame is None:
            raise InvalidInput(f"{name!r} has no video frames that can be decoded.")
        height, width = frame.shape[:2]
        fps = cap.get(cv2.CAP_PROP_FPS)
        frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        codec = _fourcc(cap)
        if frames <= 0:
            frames = 1 + _count_frames(cap)
    finally:
        cap.release()
    facts = stream_facts(path)
    if not (fps and math.isfinite(fps) and fps > 0):
        fps = facts.fps if facts and facts.fps else 0.0
    if fps <= 0:
        raise InvalidInput(f"{name!r} does not state a frame rate.")
    if facts and facts.video_codec:
        codec = facts.video_codec
    return VideoInfo(
        frames=frames, fps=float(fps), width=int(width), height=int(height),
        duration=frames / fps, has_audio=bool(facts and facts.audio_codec),
        codec=codec or "unknown",
    )
