"""Fixtures and helpers for the video tests (import the fixtures you use into the test module)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.motion.videogen import make_video

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
VIDEOS = DATA / "videos"


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """64 stamped frames, 160x120 at 25 fps, no audio."""
    return make_video(tmp_path / "clip.mp4")


@pytest.fixture
def clip_with_audio(tmp_path: Path) -> Path:
    """64 stamped frames, 160x120 at 25 fps, with a 440 Hz tone as long as the video."""
    return make_video(tmp_path / "tone.mp4", audio=True)


@pytest.fixture
def shared_video():
    """Return a function giving the path of a shared test video, or skipping."""
    def get(relative: str) -> Path:
        path = VIDEOS / relative
        if not path.is_file():
            pytest.skip(f"shared test video {path} is absent (clone ../shared/data to run this)")
        return path
    return get


class Recorder:
    """A progress callback that records every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int, str]] = []

    def __call__(self, done: int, total: int, message: str) -> None:
        self.calls.append((done, total, message))


class Cancel(Exception):
    """Raised by a progress callback to stop a job, as the task layer does."""


def cancel_at(frame: int):
    """A progress callback that raises :class:`Cancel` once ``frame`` frames are done."""
    def progress(done: int, total: int, message: str) -> None:
        if done >= frame:
            raise Cancel(message)
    return progress
