"""Locate the ffmpeg binary and read stream facts from it.

The binary comes from the ``imageio-ffmpeg`` wheel (which bundles an ffmpeg
build with libx264), or from ``$PATH`` as a second choice. Everything that
needs ffmpeg asks :func:`ffmpeg_exe` and copes with ``None``.
"""
from __future__ import annotations

import functools
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Optional


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> Optional[str]:
    """Return the path of an ffmpeg binary, or None when there is none."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # not installed, or the wheel has no binary for us
        return shutil.which("ffmpeg")


@dataclass(frozen=True)
class StreamFacts:
    """What ``ffmpeg -i`` says about a file's streams."""

    video_codec: Optional[str]
    audio_codec: Optional[str]
    fps: Optional[float]


_VIDEO = re.compile(r"Stream #\S+.*?: Video: (\w+)")
_AUDIO = re.compile(r"Stream #\S+.*?: Audio: (\w+)")
_FPS = re.compile(r"([\d.]+) fps")


def stream_facts(path: str) -> Optional[StreamFacts]:
    """Parse the stream lines ffmpeg prints for ``path``; None without ffmpeg."""
    exe = ffmpeg_exe()
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "-hide_banner", "-nostdin", "-i", path],
            capture_output=True, text=True, errors="replace", timeout=30,
        ).stderr
    except (OSError, subprocess.SubprocessError):
        return None
    video = _VIDEO.search(out)
    audio = _AUDIO.search(out)
    fps = None
    if video:
        line = out[video.start():out.find("\n", video.start())]
        match = _FPS.search(line)
        fps = float(match.group(1)) if match else None
    return StreamFacts(
        video_codec=video.group(1) if video else None,
        audio_codec=audio.group(1) if audio else None,
        fps=fps,
    )
