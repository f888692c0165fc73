"""The four video correction jobs (seed 004): 202 with a task id, or run in the request."""
from __future__ import annotations

from flask import Blueprint, current_app, request

from actors import video as video_actors
from app.api.videos import get_video
from app.body import json_body
from app.errors import ApiError
from app.jobs import accept_job
from app.openapi import contract
from app.schemas.tasks import JobAcceptedSchema
from app.schemas.videos import AnalyzeJobSchema, MaskJobSchema, RemoveFramesJobSchema
from motion.errors import InvalidInput
from motion.video import compile_regions, device_regions, removed_indices

bp = Blueprint("video_jobs", __name__, url_prefix="/api")


def _sync() -> bool:
    return request.args.get("sync") == "1" or not current_app.config["POSEQUEUE"].use_async_tasks


def _check(check, *args, **kwargs):
    """Run a domain validation against the video; its message becomes a 400."""
    try:
        return check(*args, **kwargs)
    except InvalidInput as exc:
        raise ApiError(400, "invalid", str(exc)) from None


@bp.post("/video-apply-mask/<int:video_id>/", strict_slashes=False)
@contract(body=MaskJobSchema, response=JobAcceptedSchema, status=202, errors=(400, 404, 503))
def apply_mask(video_id: int):
    """Mask regions, faces and/or a device preset of a video into a new video."""
    video = get_video(video_id)
    spec = MaskJobSchema().load(json_body())
    if spec["regions"]:
        _check(compile_regions, spec["regions"], video.width, video.height, spec["mode"], spec["color"])
    if spec["device"]:
        presets = current_app.config["POSEQUEUE"].device_presets
        _check(compile_regions, _check(device_regions, spec["device"], presets), video.width, video.height,
               spec["mode"], spec["color"], "device")
    return accept_job(video_actors.apply_mask, video.id, spec, message="Masking started in background",
                      sync=_sync(), display_args={"video_id": video.id, **spec})


@bp.post("/video-remove-frames/<int:video_id>/", strict_slashes=False)
@contract(body=RemoveFramesJobSchema, response=JobAcceptedSchema, status=202, errors=(400, 404, 503))
def remove_frames(video_id: int):
    """Write a new video without the given frames, ranges (end inclusive) or time spans."""
    video = get_video(video_id)
    spec = RemoveFramesJobSchema().load(json_body())
    _check(removed_indices, spec, video.frames, video.fps)
    return accept_job(video_actors.remove_frames, video.id, spec, message="Frame removal started in background",
                      sync=_sync(), display_args={"video_id": video.id, **spec})


@bp.post("/video-analyze/<int:video_id>/", strict_slashes=False)
@contract(body=AnalyzeJobSchema, response=JobAcceptedSchema, status=202, errors=(400, 404, 503))
def analyze(video_id: int):
    """Pose landmarks on every n-th frame and a summary."""
    video = get_video(video_id)
    spec = AnalyzeJobSchema().load(json_body())
    return accept_job(video_actors.analyze_video, video.id, spec, message="Analysis started in background",
                      sync=_sync(), display_args={"video_id": video.id, **spec})


@bp.post("/video-reprocess/<int:video_id>/", strict_slashes=False)
@contract(response=JobAcceptedSchema, status=202, errors=(400, 404, 503))
def reprocess(video_id: int):
    """Re-run the recorded steps of a derived video on its original, as one job."""
    video = get_video(video_id)
    if not video.steps:
        raise ApiError(400, "invalid", f"Video {video_id} is an original upload: it has no recorded steps to re-run.")
    return accept_job(video_actors.reprocess_video, video.id, message="Reprocessing started in background",
                      sync=_sync(), display_args={"video_id": video.id})
