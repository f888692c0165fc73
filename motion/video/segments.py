"""Split a long video job into frame ranges, encode each alone, join them losslessly.

A parallel job is three pure steps, each runnable in a different process:

1. :func:`plan_segments` cuts ``[0, frames)`` into ranges of roughly equal
   length, moved onto keyframes when :func:`keyframe_indices` found some
   close by (a seek to a keyframe decodes nothing it throws away);
2. :func:`mask_segment` masks frames ``[start, stop)`` of the source into a
   segment file: the same loop as a whole-video job (exact seek, the face
   tracker warmed up on the frames before ``start``), video only;
3. :func:`join_segments` concatenates the segment files with ffmpeg's concat
   demuxer, copying the H.264 packets (no second encode), and muxes the
   source's audio once over the whole output, as a whole-video job does.

Every segment starts with an IDR frame (each is its own x264 stream), so the
joined file decodes to exactly the frames of the segments, in order.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

from motion.errors import InvalidInput, MotionError
from motion.progress import Progress, no_progress
from motion.video.atomic import discard, temp_path_for
from motion.video.ffmpeg import ffmpeg_exe
from motion.video.ops import MaskPlan, _check_paths, mask_frames
from motion.video.probe import probe


@dataclass(frozen=True)
class Segment:
    """Frames ``[start, stop)`` of a video."""

    start: int
    stop: int

    @property
    def frames(self) -> int:
        """How many frames the segment holds."""
        return self.stop - self.start


def plan_segments(frames: int, count: int, *, keyframes: Optional[Sequence[int]] = None,
                  min_frames: int = 1) -> list[Segment]:
    """Cut ``frames`` frames into at most ``count`` consecutive segments of about equal size.

    Each inner boundary moves to the nearest of ``keyframes`` when one lies
    within a quarter of a segment's length; otherwise it stays where equal
    sizes put it (seeking there is still exact, only slower). No segment is
    shorter than ``min_frames`` (fewer segments are made instead).

    Raises:
        InvalidInput: ``frames`` < 1 or ``count`` < 1.
    """
    if frames < 1 or count < 1:
        raise InvalidInput(f"Cannot split {frames} frames into {count} segments.")
    count = max(1, min(count, frames // max(1, min_frames)))
    size = frames / count
    keys = sorted(set(k for k in (keyframes or ()) if 0 < k < frames))
    bounds = [0]
    for k in range(1, count):
        ideal = round(k * size)
        near = min(keys, key=lambda key: abs(key - ideal), default=None)
        bound = near if near is not None and abs(near - ideal) <= size / 4 else ideal
        if bound - bounds[-1] >= max(1, min_frames) and frames - bound >= max(1, min_frames):
            bounds.append(bound)
    bounds.append(frames)
    return [Segment(a, b) for a, b in zip(bounds, bounds[1:])]


_PTS_TIME = re.compile(r"pts_time:\s*(-?[\d.]+)")


def keyframe_indices(path: str | os.PathLike, fps: float) -> list[int]:
    """Frame indices of the keyframes of ``path`` (only keyframes are decoded).

    Indices come from timestamps, so they are exact for constant-rate video
    (what cameras and our own outputs write). Returns [] without ffmpeg or
    when ffmpeg fails: the plan then uses equal sizes.
    """
    exe = ffmpeg_exe()
    if exe is None:
        return []
    try:
        out = subprocess.run(
            [exe, "-hide_banner", "-nostdin", "-skip_frame", "nokey", "-i", os.fspath(path),
             "-map", "0:v:0", "-vf", "showinfo", "-f", "null", "-"],
            capture_output=True, text=True, errors="replace", timeout=600).stderr
    except (OSError, subprocess.SubprocessError):
        return []
    times = [float(t) for t in _PTS_TIME.findall(out)]
    if not times:
        return []
    first = times[0]
    return sorted({round((t - first) * fps) for t in times})


def mask_segment(src_path, dst_path, spec: Mapping[str, Any], start: int, stop: int,
                 progress: Progress = no_progress, *, device_presets: Optional[Mapping[str, Any]] = None,
                 encoder: str = "ffmpeg", crf: int = 18) -> dict:
    """Mask frames ``[start, stop)`` of ``src_path`` into ``dst_path`` (video only).

    Frame for frame what :func:`motion.video.apply_mask` makes of those
    frames. Progress counts the segment's frames. The encoder must be H.264
    (ffmpeg): segments are joined by copying their packets.

    Raises:
        InvalidInput: bad spec, or a range outside the video.
        MotionError: the range could not be read or encoded.
    """
    src, dst = _check_paths(src_path, dst_path)
    info = probe(src)
    if not 0 <= start < stop <= info.frames:
        raise InvalidInput(f"Frames {start}-{stop - 1} are not inside the video's {info.frames} frames.")
    plan = MaskPlan.from_spec(spec, info, device_presets)
    result = mask_frames(src, dst, plan, info, start, stop, progress, audio=False, encoder=encoder, crf=crf)
    return {**result, "start": start, "stop": stop}


def _concat_list(parts: Sequence[str]) -> str:
    lines = []
    for part in parts:
        escaped = os.path.abspath(part).replace("'", "'\\''")
        lines.append(f"file '{escaped}'")
    return "\n".join(lines) + "\n"


def join_segments(parts: Sequence[str | os.PathLike], dst_path, *, audio_from=None,
                  progress: Progress = no_progress) -> dict:
    """Concatenate segment files into ``dst_path`` without re-encoding; add ``audio_from``'s audio.

    The video packets are copied (ffmpeg's concat demuxer), so the output
    decodes to exactly the segments' frames; the audio of ``audio_from`` is
    encoded once over the whole output (AAC 128k, as a whole-video job does).
    Written to a temp file and renamed into place.

    Raises:
        InvalidInput: no parts, or a part is missing.
        MotionError: ffmpeg is missing or failed, or the output lacks frames.
    """
    parts = [os.fspath(p) for p in parts]
    if not parts:
        raise InvalidInput("Nothing to join: no segment files.")
    for part in parts:
        if not os.path.isfile(part):
            raise InvalidInput(f"Segment file {os.path.basename(part)!r} is missing.")
    exe = ffmpeg_exe()
    if exe is None:
        raise MotionError("ffmpeg is not installed (pip install imageio-ffmpeg).")
    dst = os.path.abspath(os.fspath(dst_path))
    expected = sum(probe(p).frames for p in parts)
    progress(0, 2, "Joining segments")
    has_audio = audio_from is not None and probe(audio_from).has_audio
    fd, listing = tempfile.mkstemp(suffix=".ffconcat")
    with os.fdopen(fd, "w") as fh:
        fh.write(_concat_list(parts))
    tmp = temp_path_for(dst, ".mp4")
    try:
        cmd = [exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
               "-f", "concat", "-safe", "0", "-i", listing]
        if has_audio:
            cmd += ["-i", os.fspath(audio_from), "-map", "0:v:0", "-map", "1:a:0", "-c:a", "aac", "-b:a", "128k"]
        cmd += ["-c:v", "copy", "-movflags", "+faststart", "-f", "mp4", tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
        if proc.returncode != 0:
            raise MotionError(f"Joining segments failed (ffmpeg): {proc.stderr.strip()[-600:] or 'no message'}")
        got = probe(tmp).frames
        if got != expected:
            raise MotionError(f"The joined video has {got} frames; its segments hold {expected}.")
        progress(1, 2, "Joining segments")
        os.replace(tmp, dst)
    finally:
        discard(tmp)
        discard(listing)
    return {"output_file": dst, "frames_written": expected, "segments": len(parts),
            "codec": "h264", "audio_kept": has_audio}
