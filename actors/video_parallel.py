"""Masking a long video in segments on several workers (a Dramatiq group), then joining them.

``apply_mask`` hands its work here when the video is long enough (or the
spec asks for ``segments``): one ``mask_segment`` child per frame range, and
``join_masked_segments`` once all have succeeded, which records the output
video under the parent's task id exactly as a one-worker run would. See
:mod:`actors.fanout` for progress, cancellation and failure across the parts.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

from actors import ledger
from actors.context import Deferred, current, progress
from actors.fanout import Part, fan_out
from actors.registry import task_actor
from actors.video import _derive, _load, _public, media_root
from config import Config
from models.db import connected
from motion.video import h264_available, probe
from motion.video import segments as seg

_config = Config.from_env()


def segment_count(frames: int, spec: dict, config: Config = _config) -> int:
    """How many segments a masking job over ``frames`` frames runs in (1: no split)."""
    asked = spec.get("segments")
    if asked is not None:
        return max(1, min(int(asked), frames))
    if config.video_segments < 2:
        return 1
    return max(1, min(config.video_segments, frames // config.video_segment_min_frames))


def split_mask(video, spec: dict) -> Optional[Deferred]:
    """Fan a masking job out into segments, or return None to run it on this worker."""
    job_id = current().task_id
    if job_id is None or not h264_available():  # run in a request, or no ffmpeg to join with
        return None
    if segment_count(video.frames, spec) < 2:  # the record's count: no probe for short videos
        return None
    progress(0, 1, "Planning segments")
    src = video.file_path(media_root())
    info = probe(src)
    count = segment_count(info.frames, spec)
    plan = seg.plan_segments(info.frames, count, keyframes=seg.keyframe_indices(src, info.fps),
                             min_frames=1 if spec.get("segments") else _config.video_segment_min_frames // 2)
    if len(plan) < 2:
        return None
    workdir = media_root() / "videos" / f"{job_id}.parts"
    paths = [str(workdir / f"segment-{k:03d}.mp4") for k in range(len(plan))]
    parts = [Part(mask_segment.message(video.id, spec, s.start, s.stop, path), s.frames,
                  f"Segment {k + 1}/{len(plan)} (frames {s.start}-{s.stop - 1})")
             for k, (s, path) in enumerate(zip(plan, paths))]
    join = join_masked_segments.message(job_id, video.id, spec, paths, time.time())
    return fan_out(ledger, job_id, parts, join, workdir=workdir,
                   status=f"Masking {len(plan)} segments in parallel")


@task_actor
def mask_segment(video_id: int, spec: dict, start: int, stop: int, path: str) -> dict:
    """Mask frames [start, stop) of a video into one segment file of a parallel job."""
    with connected():
        src = _load(video_id).file_path(media_root())
    current().remove_on_failure(path)
    result = seg.mask_segment(src, path, spec, start, stop, progress, device_presets=_config.device_presets)
    return {k: v for k, v in result.items() if k != "output_file"}


@task_actor
def join_masked_segments(parent_id: str, video_id: int, spec: dict, paths: list, started: float) -> dict:
    """Join the segments of a parallel masking job into its output video (no re-encoding)."""
    with connected():
        source = _load(video_id)
        dst = media_root() / "videos" / f"{parent_id}.mp4"
        current().remove_on_failure(dst)
        joined = seg.join_segments(paths, dst, audio_from=source.file_path(media_root()), progress=progress)
        parts = [ledger.get(child)["result"] or {} for child in ledger.store.children(parent_id)[:len(paths)]]
        result = _summary(joined, parts, time.time() - started)
        progress(1, 1, "Recording the output")  # the last point where a cancel stops the job
        video = _derive(source, dst, parent_id, [*(source.steps or []), {"op": "mask", "spec": spec}],
                        f"{Path(source.filename).stem}-masked.mp4")
        return _public(result, video)


def _summary(joined: dict, parts: list[dict], elapsed: float) -> dict:
    """The whole job's result, in the shape of a one-worker run's, from its segments' results."""
    first = parts[0] if parts else {}
    frames = sum(p.get("frames_written", 0) for p in parts)
    result = {
        "frames_in": first.get("frames_in"), "frames_written": joined["frames_written"],
        "fps": first.get("fps"), "width": first.get("width"), "height": first.get("height"),
        "duration": round(joined["frames_written"] / first["fps"], 4) if first.get("fps") else None,
        "codec": joined["codec"], "audio_kept": joined["audio_kept"],
        "processing_time": round(elapsed, 3),
        "processing_fps": round(frames / elapsed, 2) if elapsed > 0 else None,
        "regions": first.get("regions"), "segments": joined["segments"],
    }
    if "frames_with_faces" in first:
        result["frames_with_faces"] = sum(p.get("frames_with_faces", 0) for p in parts)
        result["faces_detected"] = sum(p.get("faces_detected", 0) for p in parts)
    return result
