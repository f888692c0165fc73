"""Write BGR frames to a browser-playable MP4, atomically.

:class:`VideoWriter` pipes raw ``bgr24`` frames into the ffmpeg binary from
``imageio-ffmpeg``, which encodes H.264 (libx264, ``yuv420p``) into an MP4 with
``+faststart`` so browsers can start playing before the whole file arrives.
The same ffmpeg process muxes the audio track of a source file, optionally cut
to a list of time segments so that it stays in sync after frames are removed.

Fallback: when no ffmpeg binary with libx264 is available (or
``encoder="opencv"`` is asked for), frames go through ``cv2.VideoWriter`` with
the ``mp4v`` (MPEG-4 Part 2) codec. Such files play in VLC and OpenCV but not
in most browsers, and carry no audio. ``VideoWriter.codec`` and
``VideoWriter.audio_kept`` tell the caller which path was taken.

Output is written to a hidden temp file in the destination folder and
``os.replace``'d onto the destination by :meth:`VideoWriter.close`. Leaving a
``with`` block by an exception (a progress callback that raises to cancel, for
example) kills ffmpeg and deletes the temp file; the destination is untouched.
"""
from __future__ import annotations

import functools
import os
import subprocess
import tempfile
from typing import Optional, Sequence

import cv2
import numpy as np

from motion.errors import MotionError
from motion.video.atomic import discard, temp_path_for
from motion.video.ffmpeg import ffmpeg_exe

Segment = tuple[float, float]

#: libx264 preset. "ultrafast" keeps a masking job near the speed of a bare
#: OpenCV mp4v read→write loop at 1080p on 2 cores (bench/bench_video.py);
#: "veryfast" makes files about 3x smaller but encodes at ~40 % of that speed.
DEFAULT_PRESET = "ultrafast"


@functools.lru_cache(maxsize=4)
def _has_libx264(exe: str) -> bool:
    try:
        out = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True,
                             text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return " libx264 " in out


def h264_available() -> bool:
    """True when an ffmpeg binary that can encode H.264 is installed."""
    exe = ffmpeg_exe()
    return bool(exe and _has_libx264(exe))


def _audio_filter(segments: Sequence[Segment]) -> str:
    """An ffmpeg filter graph keeping ``segments`` of input 1's audio as ``[aout]``."""
    parts, labels = [], []
    for i, (start, end) in enumerate(segments):
        parts.append(f"[1:a:0]atrim=start={start:.6f}:end={end:.6f},asetpts=PTS-STARTPTS[a{i}]")
        labels.append(f"[a{i}]")
    parts.append(f"{''.join(labels)}concat=n={len(segments)}:v=0:a=1[aout]")
    return ";\n".join(parts)


class VideoWriter:
    """Encode frames of one size to ``dst``; use as a context manager.

    Parameters:
        dst: the final path. The container is MP4 whatever the extension.
        width, height, fps: of the frames that will be written.
        audio_from: a file whose first audio track is muxed in, if it has one.
        audio_segments: with ``audio_from``, the (start, end) times in seconds
            of the audio to keep, concatenated in order; None keeps it all.
        encoder: ``"auto"`` (H.264 when possible, else mp4v), ``"ffmpeg"`` or
            ``"opencv"``.
        crf, preset: libx264 quality and speed.

    Raises:
        MotionError: ffmpeg was asked for but is missing, or it failed.
    """

    def __init__(
        self,
        dst: str | os.PathLike,
        *,
        width: int,
        height: int,
        fps: float,
        audio_from: Optional[str | os.PathLike] = None,
        audio_segments: Optional[Sequence[Segment]] = None,
        encoder: str = "auto",
        crf: int = 18,
        preset: str = DEFAULT_PRESET,
    ) -> None:
        if encoder not in ("auto", "ffmpeg", "opencv"):
            raise ValueError(f"unknown encoder {encoder!r}")
        self.dst = os.fspath(dst)
        self.width, self.height, self.fps = int(width), int(height), float(fps)
        self.frames_written = 0
        self.audio_kept = False
        self._proc: Optional[subprocess.Popen] = None
        self._cv: Optional[cv2.VideoWriter] = None
        self._log = None
        self._script: Optional[str] = None
        self._closed = False
        use_ffmpeg = encoder == "ffmpeg" or (encoder == "auto" and h264_available())
        if encoder == "ffmpeg" and not h264_available():
            raise MotionError("ffmpeg with libx264 is not installed (pip install imageio-ffmpeg).")
        self._tmp = temp_path_for(self.dst, ".mp4")
        try:
            if use_ffmpeg:
                self.codec = "h264"
                self._start_ffmpeg(audio_from, audio_segments, crf, preset)
            else:
                self.codec = "mp4v"
                self._cv = cv2.VideoWriter(self._tmp, cv2.VideoWriter_fourcc(*"mp4v"),
                                           self.fps, (self.width, self.height))
                if not self._cv.isOpened():
                    raise MotionError("OpenCV could not open an mp4v writer.")
        except BaseException:
            self.abort()
            raise

    def _start_ffmpeg(self, audio_from, audio_segments, crf: int, preset: str) -> None:
        exe = ffmpeg_exe()
        # Even-sized frames are converted to I420 here (OpenCV's SIMD code) and
        # piped at half the bytes of BGR, sparing ffmpeg's slower swscale.
        self._i420 = self.width % 2 == 0 and self.height % 2 == 0
        cmd = [exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "yuv420p" if self._i420 else "bgr24",
               "-s", f"{self.width}x{self.height}", "-framerate", repr(self.fps),
               "-i", "pipe:0"]
        if audio_from is not None and (audio_segments is None or len(audio_segments) > 0):
            cmd += ["-i", os.fspath(audio_from), "-map", "0:v:0"]
            if audio_segments is None:
                cmd += ["-map", "1:a:0?"]
            else:
                fd, self._script = tempfile.mkstemp(suffix=".ffgraph")
                with os.fdopen(fd, "w") as fh:
                    fh.write(_audio_filter(audio_segments))
                cmd += ["-/filter_complex", self._script, "-map", "[aout]"]
            cmd += ["-c:a", "aac", "-b:a", "128k"]
            self.audio_kept = True
        if self.width % 2 or self.height % 2:  # yuv420p needs even sizes: pad one pixel
            cmd += ["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"]
        cmd += ["-c:v", "libx264", "-preset", preset, "-crf", str(crf),
                "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4", self._tmp]
        self._log = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                      stderr=self._log)

    def _ffmpeg_error(self) -> MotionError:
        text = ""
        if self._log is not None:
            self._log.seek(0)
            text = self._log.read().decode("utf-8", "replace").strip()[-600:]
        return MotionError(f"Encoding failed (ffmpeg): {text or 'no message'}")

    def write(self, frame: np.ndarray) -> None:
        """Append one BGR frame of the writer's size."""
        if frame.shape[:2] != (self.height, self.width):
            raise MotionError(
                f"Frame size {frame.shape[1]}x{frame.shape[0]} differs from "
                f"{self.width}x{self.height}; the video changes size mid-stream.")
        if self._proc is not None:
            try:
                data = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420) if self._i420 else np.ascontiguousarray(frame)
                self._proc.stdin.write(memoryview(data).cast("B"))
            except BrokenPipeError:
                self._proc.wait()
                raise self._ffmpeg_error() from None
        else:
            self._cv.write(frame)
        self.frames_written += 1

    def close(self) -> None:
        """Finish encoding and move the file onto ``dst``."""
        if self._closed:
            return
        try:
            if self._proc is not None:
                try:
                    self._proc.stdin.close()
                except BrokenPipeError:
                    pass
                if self._proc.wait() != 0:
                    raise self._ffmpeg_error()
            elif self._cv is not None:
                self._cv.release()
            if self.frames_written == 0:
                raise MotionError("No frames were written.")
            os.replace(self._tmp, self.dst)
            self._closed = True
        finally:
            self.abort()

    def abort(self) -> None:
        """Stop encoding, delete the temp file; ``dst`` is left untouched."""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            if self._proc.stdin and not self._proc.stdin.closed:
                try:
                    self._proc.stdin.close()
                except OSError:
                    pass
            self._proc = None
        if self._cv is not None:
            self._cv.release()
            self._cv = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._script:
            discard(self._script)
            self._script = None
        discard(self._tmp)
        self._closed = True

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
