"""Synthetic videos with exactly known content, for tests.

Every frame carries its own index, written as a row of solid gray blocks
along the bottom (bit k of the index → block k is light or dark), which
survives lossy codecs and can be read back with :func:`read_index`. Above the
strip is a smooth colour gradient that shifts with the index, so frames
differ from each other and codecs reproduce it closely.

Videos are encoded by calling the ffmpeg binary of ``imageio-ffmpeg``
directly (not through the code under test)::

    path = make_video(tmp_path / "clip.mp4", frames=64, audio=True)
    assert frame_indices(path) == list(range(64))
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import cv2
import numpy as np

BITS = 10
STRIP = 16  # height of the index strip, in pixels
DARK, LIGHT = 32, 224


def ffmpeg() -> str:
    """The ffmpeg binary from imageio-ffmpeg."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def stamp_frame(index: int, width: int = 160, height: int = 120,
                checker: bool = False) -> np.ndarray:
    """A BGR frame for ``index``: gradient background, index strip at the bottom.

    ``checker`` adds a black-and-white 4 px checkerboard over x 40..120,
    y 20..80 (for tests of blurring: it has high contrast to lose).
    """
    if index >= 2 ** BITS:
        raise ValueError(f"index {index} needs more than {BITS} bits")
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    frame = np.empty((height, width, 3), np.uint8)
    frame[..., 0] = (60 + 120 * xs / width + index) % 256
    frame[..., 1] = 60 + 120 * ys / height
    frame[..., 2] = (100 + 2 * index) % 200 + 20
    if checker:
        cells = ((ys[20:80, 40:120] // 4 + xs[20:80, 40:120] // 4) % 2 * 255).astype(np.uint8)
        frame[20:80, 40:120] = cells[..., None]
    block = width // BITS
    frame[height - STRIP:] = DARK
    for bit in range(BITS):
        if index >> bit & 1:
            frame[height - STRIP:, bit * block:(bit + 1) * block] = LIGHT
    return frame


def read_index(frame: np.ndarray) -> int:
    """Decode the index stamped by :func:`stamp_frame` (robust to codec noise)."""
    height, width = frame.shape[:2]
    block = width // BITS
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    value = 0
    for bit in range(BITS):
        cell = gray[height - STRIP + 4:height - 4, bit * block + 4:(bit + 1) * block - 4]
        if cell.mean() > (DARK + LIGHT) / 2:
            value |= 1 << bit
    return value


def make_video(path: str | os.PathLike, *, frames: int = 64, width: int = 160,
               height: int = 120, fps: float = 25.0, audio: bool = False,
               tone_hz: int = 440, codec: str = "libx264", checker: bool = False) -> Path:
    """Encode ``frames`` stamped frames (and optionally a sine tone as long as
    the video) into ``path``; the container follows the extension."""
    path = Path(path)
    cmd = [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y",
           "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}",
           "-framerate", str(fps), "-i", "pipe:0"]
    if audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency={tone_hz}:sample_rate=44100:"
                f"duration={frames / fps}", "-c:a", "aac"]
    cmd += ["-c:v", codec]
    if codec == "libx264":
        cmd += ["-qp", "0", "-pix_fmt", "yuv420p"]
    cmd.append(str(path))
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    try:
        for i in range(frames):
            proc.stdin.write(stamp_frame(i, width, height, checker).tobytes())
    finally:
        proc.stdin.close()
        if proc.wait() != 0:
            raise RuntimeError(f"ffmpeg failed making {path}")
    return path


def read_all(path: str | os.PathLike) -> list[np.ndarray]:
    """Every decoded frame of a (small) video."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                return frames
            frames.append(frame)
    finally:
        cap.release()


def frame_indices(path: str | os.PathLike) -> list[int]:
    """The stamped index of every frame of ``path``, in order."""
    return [read_index(f) for f in read_all(path)]


def media_duration(path: str | os.PathLike, stream: str = "audio") -> float:
    """Duration in seconds of the audio (or video) stream, by decoding it with ffmpeg."""
    select = ["-vn"] if stream == "audio" else ["-an"]
    out = subprocess.run([ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path), *select,
                          "-f", "null", "-"], capture_output=True, text=True).stderr
    times = [line.split("time=")[1].split()[0] for line in out.splitlines() if "time=" in line]
    if not times:
        raise ValueError(f"no {stream} stream in {path}")
    h, m, s = times[-1].split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def has_audio(path: str | os.PathLike) -> bool:
    """True when ffmpeg sees an audio stream in ``path``."""
    out = subprocess.run([ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path)],
                         capture_output=True, text=True).stderr
    return any("Audio:" in line for line in out.splitlines() if "Stream #" in line)
