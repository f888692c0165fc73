"""Video correction jobs (seed 004): thin wrappers around ``motion.video``."""
from __future__ import annotations

import uuid
from pathlib import Path

from actors.context import current, progress
from actors.registry import task_actor
from config import Config
from models.db import connected
from models.videos import Video
from motion import video as ops
from motion.errors import InvalidInput
from motion.workout.video import workout_report

_config = Config.from_env()

#: What each recorded step runs.
_OPS = {"mask": ops.apply_mask, "remove_frames": ops.remove_frames}


def media_root() -> Path:
    """The media folder (created on first use)."""
    root = _config.effective_media_root
    (root / "videos").mkdir(parents=True, exist_ok=True)
    (root / "analyses").mkdir(parents=True, exist_ok=True)
    return root


def _load(video_id: int) -> Video:
    video = Video.get_or_none(Video.id == video_id)
    if video is None:
        raise InvalidInput(f"Video {video_id} no longer exists.")
    if not video.file_path(media_root()).exists():
        raise InvalidInput(f"The file of video {video_id} is missing from the media folder.")
    return video


def _job_id() -> str:
    return current().task_id or f"sync-{uuid.uuid4().hex}"


def _run_op(op: str, spec: dict, src: Path, dst: Path, report) -> dict:
    if op == "mask":
        return ops.apply_mask(src, dst, spec, report, device_presets=_config.device_presets)
    return _OPS[op](src, dst, spec, report)


def _derive(source: Video, dst: Path, job_id: str, steps: list, filename: str) -> Video:
    """Record ``dst`` as a new video derived from ``source`` (once per job: safe to run twice)."""
    info = ops.probe(dst)
    rel = str(dst.relative_to(media_root()))
    fields = dict(filename=filename, path=rel, frames=info.frames, fps=info.fps, width=info.width,
                  height=info.height, duration=info.duration, size_bytes=dst.stat().st_size,
                  has_audio=info.has_audio, codec=info.codec, source=source.original(), steps=steps,
                  owner=source.owner)
    existing = Video.get_or_none(Video.task_id == job_id)
    if existing:
        Video.update(**fields).where(Video.id == existing.id).execute()
        return Video.get_by_id(existing.id)
    return Video.create(task_id=job_id, **fields)


def _public(result: dict, video: Video) -> dict:
    """The op's result without server paths, plus the new video."""
    shown = {k: v for k, v in result.items() if k not in ("output_file", "landmarks_file")}
    return {"output_video_id": video.id, "output_file": f"/api/videos/{video.id}/file", **shown}


def _video_job(video_id: int, op: str, spec: dict, suffix: str) -> dict:
    with connected():
        source = _load(video_id)
        job_id = _job_id()
        dst = media_root() / "videos" / f"{job_id}.mp4"
        current().remove_on_failure(dst)
        result = _run_op(op, spec, source.file_path(media_root()), dst, progress)
        stem = Path(source.filename).stem
        video = _derive(source, dst, job_id, [*(source.steps or []), {"op": op, "spec": spec}],
                        f"{stem}-{suffix}.mp4")
        return _public(result, video)


@task_actor
def apply_mask(video_id: int, spec: dict) -> dict:
    """Mask regions, faces and device overlays in a video into a new video (long ones in parallel segments)."""
    from actors.video_parallel import split_mask  # it builds on this module

    with connected():
        deferred = split_mask(_load(video_id), spec)
    if deferred is not None:
        return deferred
    return _video_job(video_id, "mask", spec, "masked")


@task_actor
def remove_frames(video_id: int, spec: dict) -> dict:
    """Write a new video without the given frames, ranges or time spans."""
    return _video_job(video_id, "remove_frames", spec, "cut")


@task_actor
def analyze_video(video_id: int, spec: dict) -> dict:
    """Pose landmarks of every n-th frame, as a downloadable JSONL file, and a summary."""
    with connected():
        video = _load(video_id)
        job_id = _job_id()
        dst = media_root() / "analyses" / f"{job_id}.jsonl"
        current().remove_on_failure(dst)
        result = ops.analyze_video(video.file_path(media_root()), dst, spec, progress)
        plot = media_root() / "analyses" / f"{job_id}.png"
        current().remove_on_failure(plot)
        workout = workout_report(dst, plot, fps=video.fps, width=video.width, height=video.height,
                                 title=video.filename)
        Video.update(last_analysis=spec).where(Video.id == video.id).execute()
        shown = {k: v for k, v in result.items() if k not in ("output_file", "landmarks_file")}
        workout["plot_file"] = f"/api/videos/{video.id}/analyses/{job_id}.png"
        return {"video_id": video.id, "landmarks_file": f"/api/videos/{video.id}/analyses/{job_id}.jsonl",
                **shown, "workout": workout}


@task_actor
def reprocess_video(video_id: int) -> dict:
    """Re-run the steps recorded for a derived video on its original, as one job."""
    with connected():
        derived = _load(video_id)
        original = _load(derived.original().id)
        steps = list(derived.steps or [])
        if not steps:
            raise InvalidInput(f"Video {video_id} is an original upload: it has no recorded steps to re-run.")
        job_id = _job_id()
        work = media_root() / "videos"
        total = len(steps) + (1 if derived.last_analysis is not None else 0)
        src = original.file_path(media_root())
        done_results = []
        for k, step in enumerate(steps):
            dst = work / (f"{job_id}.mp4" if k == len(steps) - 1 else f"{job_id}.step{k}.mp4")
            current().remove_on_failure(dst)
            done_results.append(_run_op(step["op"], step["spec"], src, dst, _scaled(k, total, step["op"])))
            if k > 0:
                src.unlink(missing_ok=True)  # an intermediate of this job
            src = dst
        video = _derive(original, src, job_id, steps, f"{Path(original.filename).stem}-reprocessed.mp4")
        result = {"output_video_id": video.id, "output_file": f"/api/videos/{video.id}/file",
                  "steps": [s["op"] for s in steps],
                  "processing_time": round(sum(r.get("processing_time", 0) for r in done_results), 3)}
        if derived.last_analysis is not None:
            landmarks = media_root() / "analyses" / f"{job_id}.jsonl"
            current().remove_on_failure(landmarks)
            analysis = ops.analyze_video(src, landmarks, derived.last_analysis,
                                         _scaled(total - 1, total, "analysis"))
            Video.update(last_analysis=derived.last_analysis).where(Video.id == video.id).execute()
            result["analysis"] = {k: v for k, v in analysis.items() if k not in ("output_file", "landmarks_file")}
            result["landmarks_file"] = f"/api/videos/{video.id}/analyses/{job_id}.jsonl"
        return result


def _scaled(k: int, n: int, name: str):
    """A progress callback mapping step ``k`` of ``n`` onto the job's 0-100 %."""
    def report(done: float, total: float, message: str = "") -> None:
        fraction = (k + (done / total if total else 0.0)) / n
        progress(round(fraction * 10_000), 10_000, f"Step {k + 1}/{n} ({name}): {message}")

    return report
