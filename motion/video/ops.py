"""The video jobs the task layer runs: mask, remove frames, analyse.

Each takes ``(src_path, dst_path, spec, progress)`` and returns a JSON-ready
result dict. Progress is ``done/total`` in source frames, reported at least
every 50 frames and twice a second ("Processing frame 450/1000"). The
callback may raise to cancel: the output's temp file is then removed and
``dst_path`` is left as it was. The source file is only ever read.
"""
from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from motion.errors import InvalidInput, MotionError, shown
from motion.progress import Progress, no_progress
from motion.video.analyze import Analysis, FaceDetector, PoseEstimator
from motion.video.atomic import atomic_path
from motion.video.faces import FaceBlurrer
from motion.video.frames import kept_segments, removed_indices
from motion.video.masks import apply_regions, compile_regions, parse_color, parse_mode
from motion.video.presets import device_regions
from motion.video.probe import VideoInfo, probe
from motion.video.reader import iter_frame_range, iter_frames
from motion.video.ticker import Ticker
from motion.video.writer import VideoWriter


def _check_paths(src_path, dst_path) -> tuple[str, str]:
    src, dst = os.path.abspath(os.fspath(src_path)), os.path.abspath(os.fspath(dst_path))
    if src == dst or (os.path.exists(dst) and os.path.samefile(src, dst)):
        raise InvalidInput("The output must not overwrite the original video.")
    if not os.path.isdir(os.path.dirname(dst)):
        raise InvalidInput(f"Output folder {os.path.basename(os.path.dirname(dst))!r} does not exist.")
    return src, dst


def _result(dst: str, info: VideoInfo, written: int, started: float, writer: VideoWriter,
            **extra: Any) -> dict:
    elapsed = time.monotonic() - started
    return {
        "output_file": dst,
        "frames_in": info.frames,
        "frames_written": written,
        "fps": info.fps,
        "width": info.width,
        "height": info.height,
        "duration": round(written / info.fps, 4),
        "codec": writer.codec,
        "audio_kept": writer.audio_kept,
        "processing_time": round(elapsed, 3),
        "processing_fps": round(info.frames / elapsed, 2) if elapsed > 0 else None,
        **extra,
    }


def apply_mask(src_path, dst_path, spec: Mapping[str, Any], progress: Progress = no_progress,
               *, device_presets: Optional[Mapping[str, Any]] = None,
               encoder: str = "auto", crf: int = 18) -> dict:
    """Mask regions and/or faces in every frame of ``src_path`` into ``dst_path``.

    ``spec`` keys: ``regions`` (list of region specs, see
    :mod:`motion.video.masks`), ``mode`` (``fill``/``blur``/``pixelate``,
    default ``fill``), ``color`` (``[b, g, r]``, default black), ``faces``
    (bool: blur every detected face), ``face_mode`` (``blur``/``pixelate``),
    ``device`` (a preset name looked up in ``device_presets``). At least one of
    regions, faces or device is required. Faces are detected before regions
    are applied, so a region does not hide a face from the detector.

    Raises:
        InvalidInput: bad spec, unknown device, unreadable video.
    """
    src, dst = _check_paths(src_path, dst_path)
    info = probe(src)
    plan = MaskPlan.from_spec(spec, info, device_presets)
    return mask_frames(src, dst, plan, info, 0, None, progress, audio=True, encoder=encoder, crf=crf)


@dataclass(frozen=True)
class MaskPlan:
    """A checked mask spec, compiled for one video's frame size."""

    regions: list
    faces: bool
    face_mode: str

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], info: VideoInfo,
                  device_presets: Optional[Mapping[str, Any]] = None) -> "MaskPlan":
        """Check ``spec`` (see :func:`apply_mask`) against ``info``; raise InvalidInput."""
        if not isinstance(spec, Mapping):
            raise InvalidInput("The mask spec must be an object.")
        region_specs = spec.get("regions") or []
        faces = spec.get("faces", False)
        device = spec.get("device")
        if not isinstance(faces, bool):
            raise InvalidInput(f"faces must be true or false, got {shown(faces)}.")
        if not region_specs and not faces and not device:
            raise InvalidInput("Nothing to mask: give regions, faces: true or a device preset.")
        mode = parse_mode(spec.get("mode", "fill"))
        color = parse_color(spec.get("color", [0, 0, 0]))
        face_mode = spec.get("face_mode", "blur")
        if face_mode not in ("blur", "pixelate"):
            raise InvalidInput(f"face_mode must be blur or pixelate, got {shown(face_mode)}.")
        regions = compile_regions(region_specs, info.width, info.height, mode, color)
        if device:
            regions += compile_regions(device_regions(device, device_presets or {}),
                                       info.width, info.height, mode, color,
                                       label=f"device {shown(device)} regions")
        return cls(regions, faces, face_mode)


def mask_frames(src: str, dst: str, plan: MaskPlan, info: VideoInfo, start: int, stop: Optional[int],
                progress: Progress = no_progress, *, audio: bool = True, encoder: str = "auto",
                crf: int = 18) -> dict:
    """Mask frames ``[start, stop)`` of ``src`` into ``dst`` (``stop`` None: to the end).

    A range that starts past frame 0 seeks there exactly, and runs the face
    tracker over the ``2 * hold`` frames before ``start`` first (without
    writing them), so each frame is masked exactly as a run over the whole
    video would mask it. ``audio`` muxes the source's audio (whole jobs only:
    segments are joined, and the audio added, by :func:`motion.video.segments.join_segments`).
    Progress counts frames of the range.
    """
    started, written = time.monotonic(), 0
    total = (info.frames if stop is None else stop) - start
    ticker = Ticker(progress, total)
    with contextlib.ExitStack() as stack:
        blurrer = None
        if plan.faces:
            blurrer = stack.enter_context(FaceBlurrer(info.width, info.height, mode=plan.face_mode))
        writer = stack.enter_context(VideoWriter(
            dst, width=info.width, height=info.height, fps=info.fps,
            audio_from=src if audio and info.has_audio else None, encoder=encoder, crf=crf))
        warmup = min(start, 2 * blurrer.hold) if blurrer is not None else 0
        frames = stack.enter_context(contextlib.closing(iter_frame_range(src, start - warmup, stop)))
        ticker.start()
        seen = (0, 0)  # faces the warm-up counted
        for index, frame in frames:
            if index < start:  # face tracker warm-up: the boxes held into ``start``
                blurrer.boxes_for(frame)
                seen = (blurrer.frames_with_faces, blurrer.detections)
                continue
            if blurrer is not None:
                blurrer.apply(frame)
            apply_regions(frame, plan.regions)
            writer.write(frame)
            written += 1
            ticker.tick(index + 1 - start)
        ticker.report(written, "Finishing video")
    if stop is not None and written != total:
        raise MotionError(f"Frames {start}-{stop - 1} could not all be read: got {written} of {total}; "
                          "the file is damaged or truncated.")
    extra = {"regions": len(plan.regions)}
    if blurrer is not None:
        # Warm-up frames were looked at, not written: count only this range's.
        extra |= {"frames_with_faces": blurrer.frames_with_faces - seen[0],
                  "faces_detected": blurrer.detections - seen[1]}
    return _result(dst, info, written, started, writer, **extra)


def remove_frames(src_path, dst_path, spec: Mapping[str, Any], progress: Progress = no_progress,
                  *, encoder: str = "auto") -> dict:
    """Copy ``src_path`` to ``dst_path`` without the frames ``spec`` names.

    ``spec`` is a removal spec (see :mod:`motion.video.frames`). The output
    holds exactly the remaining frames, in order; the audio, when there is
    some, is cut by time (the display time of each removed frame) so that it
    stays in sync.

    Raises:
        InvalidInput: bad spec (the message names the offending value), every
            frame removed, unreadable video.
    """
    src, dst = _check_paths(src_path, dst_path)
    info = probe(src)
    removed = removed_indices(spec, info.frames, info.fps)
    segments = kept_segments(removed, info.frames, info.fps) if info.has_audio else None
    started, written = time.monotonic(), 0
    ticker = Ticker(progress, info.frames)
    with contextlib.ExitStack() as stack:
        writer = stack.enter_context(VideoWriter(
            dst, width=info.width, height=info.height, fps=info.fps,
            audio_from=src if info.has_audio else None, audio_segments=segments,
            encoder=encoder))
        frames = stack.enter_context(contextlib.closing(
            iter_frames(src, wanted=lambda i: i not in removed)))
        ticker.start()
        for index, frame in frames:
            if frame is not None:
                writer.write(frame)
                written += 1
            ticker.tick(index + 1)
        ticker.report(info.frames, "Finishing video")
    return _result(dst, info, written, started, writer,
                   frames_removed=len(removed), removed_ranges=_runs(removed))


def _runs(indices: set[int]) -> list[list[int]]:
    """Collapse indices into sorted ``[start, end]`` (inclusive) runs."""
    runs: list[list[int]] = []
    for i in sorted(indices):
        if runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return runs


def analyze_video(src_path, dst_path, spec: Optional[Mapping[str, Any]] = None,
                  progress: Progress = no_progress) -> dict:
    """Run MediaPipe Pose on every ``stride``-th frame; write landmarks as JSONL.

    ``spec`` keys: ``stride`` (int ≥ 1, default 1), ``faces`` (bool, default
    true: also count faces on analysed frames). ``dst_path`` receives one JSON
    record per analysed frame: ``{"frame", "time", "faces", "landmarks"}``
    where landmarks is a list of 33 ``{x, y, z, visibility}`` (normalised
    image coordinates, MediaPipe's) or null when no person was found. The
    result carries the summary of :class:`motion.video.analyze.Analysis`.

    Raises:
        InvalidInput: bad stride, unreadable video.
    """
    spec = spec or {}
    if not isinstance(spec, Mapping):
        raise InvalidInput("The analysis spec must be an object.")
    stride = spec.get("stride", 1)
    if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
        raise InvalidInput(f"stride must be a whole number of frames ≥ 1, got {shown(stride)}.")
    count_faces = spec.get("faces", True)
    src, dst = _check_paths(src_path, dst_path)
    info = probe(src)
    started = time.monotonic()
    ticker = Ticker(progress, info.frames, verb="Analysing")
    with contextlib.ExitStack() as stack:
        pose = PoseEstimator()
        stack.callback(pose.close)
        faces = stack.enter_context(FaceDetector()) if count_faces else None
        tmp = stack.enter_context(atomic_path(dst, ".jsonl"))
        out = stack.enter_context(open(tmp, "w", encoding="utf-8"))
        analysis = Analysis(out, info.fps)
        frames = stack.enter_context(contextlib.closing(
            iter_frames(src, wanted=lambda i: i % stride == 0)))
        ticker.start()
        index = -1
        for index, frame in frames:
            if frame is not None:
                n_faces = len(faces.detect(frame)) if faces is not None else 0
                analysis.add(index, frame, pose.landmarks(frame), n_faces)
            ticker.tick(index + 1)
        ticker.report(index + 1, "Finishing analysis")
    elapsed = time.monotonic() - started
    return {
        "output_file": dst,
        "landmarks_file": dst,
        "frames": info.frames,
        "fps": info.fps,
        "stride": stride,
        **analysis.summary(),
        "processing_time": round(elapsed, 3),
        "processing_fps": round(info.frames / elapsed, 2) if elapsed > 0 else None,
    }
