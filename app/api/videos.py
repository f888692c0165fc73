"""Videos: upload, list, show, delete, play (with HTTP Range), analysis downloads."""
from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from flask import Blueprint, request, send_file

from actors import ledger
from app.auth import current_principal
from app.errors import ApiError
from app.media import media_root, resolve_inside, stored_file
from app.ownership import owned_or_404, owner_id, scoped
from app.openapi import contract
from app.schemas.videos import VideoListSchema, VideoSchema
from app.uploads import claim_upload
from models.db import connected
from models.task_state import TaskNotFound
from models.videos import Video
from motion.errors import InvalidInput
from motion.video import probe

bp = Blueprint("videos", __name__, url_prefix="/api")
video_schema = VideoSchema()


def get_video(video_id: int) -> Video:
    """The caller's video, or a 404 (someone else's answers the same)."""
    with connected():
        return owned_or_404(Video, video_id, "video")


def _safe_name(name: str) -> str:
    base = os.path.basename(name or "").strip() or "video"
    return re.sub(r"[^\w.\- ]+", "_", base)[:200]


@bp.post("/videos/", strict_slashes=False)
@contract(form={"file": {"type": "string", "format": "binary"}}, response=VideoSchema, status=201,
          errors=(400, 413))
def upload_video():
    """Upload a video (multipart field ``file``); 201 with its facts."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(400, "invalid", "Send the video as a multipart form field named 'file'.",
                       fields={"file": ["Missing data for required field."]})
    temp = claim_upload(upload)
    try:
        try:
            info = probe(temp)
        except InvalidInput as exc:
            # The domain names the file it opened: our temporary file, whose name is ours to keep.
            reason = str(exc).replace(repr(temp.name), repr(_safe_name(upload.filename)))
            raise ApiError(400, "not_a_video", f"Not a video OpenCV can read: {reason}") from None
        name = _safe_name(upload.filename)
        rel = Path("videos") / f"{uuid.uuid4().hex}{Path(name).suffix.lower() or '.mp4'}"
        final = media_root() / rel
        size = temp.stat().st_size
        os.replace(temp, final)
    finally:
        temp.unlink(missing_ok=True)
    with connected():
        video = Video.create(filename=name, path=str(rel), frames=info.frames, fps=info.fps, width=info.width,
                             height=info.height, duration=info.duration, size_bytes=size,
                             has_audio=info.has_audio, codec=info.codec, owner=owner_id())
    return video_schema.dump(video.as_dict()), 201


@bp.get("/videos/", strict_slashes=False)
@contract(response=VideoListSchema)
def list_videos():
    """Every video, newest first."""
    with connected():
        videos = [v.as_dict() for v in scoped(Video.select().order_by(Video.id.desc()), Video)]
    return {"items": video_schema.dump(videos, many=True), "total": len(videos)}


@bp.get("/videos/<int:video_id>/", strict_slashes=False)
@contract(response=VideoSchema, errors=(404,))
def show_video(video_id: int):
    """One video's facts."""
    return video_schema.dump(get_video(video_id).as_dict())


@bp.delete("/videos/<int:video_id>/", strict_slashes=False)
@contract(status=204, errors=(404,))
def delete_video(video_id: int):
    """Delete a video and its file; videos derived from it are kept."""
    video = get_video(video_id)
    with connected():
        Video.update(source=None).where(Video.source == video.id).execute()
        video.delete_instance()
    try:
        resolve_inside(media_root(), video.path).unlink(missing_ok=True)
    except ValueError:
        pass  # a record pointing outside the media root never deletes anything there
    return "", 204


@bp.get("/videos/<int:video_id>/file")
@contract(errors=(404,))
def video_file(video_id: int):
    """The video file, with HTTP Range support so players can seek."""
    video = get_video(video_id)
    path = stored_file(video.path)
    if not path.is_file():
        raise ApiError(404, "file_missing", f"The file of video {video_id} is missing from the media folder.")
    mimetype = "video/mp4" if path.suffix in (".mp4", ".m4v", ".mov") else None
    return send_file(path, mimetype=mimetype, conditional=True, download_name=video.filename)


def _analysis_of(video_id: int, job_id: str) -> None:
    """404 unless ``video_id`` is the caller's video and ``job_id`` the caller's task."""
    get_video(video_id)
    if not re.fullmatch(r"[\w-]{1,80}", job_id):
        raise ApiError(404, "not_found", "No such analysis.")
    try:
        task = ledger.get(job_id)
    except TaskNotFound:
        raise ApiError(404, "not_found", f"No analysis {job_id} for video {video_id}.") from None
    # The analysis task must be the caller's too (a reprocess job files its analysis under the new video).
    if not current_principal().can_see(task.get("owner")):
        raise ApiError(404, "not_found", f"No analysis {job_id} for video {video_id}.")


@bp.get("/videos/<int:video_id>/analyses/<job_id>.jsonl")
@contract(errors=(404,))
def analysis_file(video_id: int, job_id: str):
    """The landmarks of one analysis of this video (one JSON record per analysed frame)."""
    _analysis_of(video_id, job_id)
    path = media_root() / "analyses" / f"{job_id}.jsonl"
    if not path.exists():
        raise ApiError(404, "not_found", f"No analysis {job_id} for video {video_id}.")
    return send_file(path, mimetype="application/x-ndjson", download_name=f"video-{video_id}-{job_id}.jsonl")


@bp.get("/videos/<int:video_id>/analyses/<job_id>.png")
@contract(errors=(404,))
def analysis_plot(video_id: int, job_id: str):
    """The plot of one analysis: the tracked joint angle over time, reps marked (PNG)."""
    _analysis_of(video_id, job_id)
    path = media_root() / "analyses" / f"{job_id}.png"
    if not path.exists():
        raise ApiError(404, "not_found", f"No analysis plot {job_id} for video {video_id}.")
    return send_file(path, mimetype="image/png", download_name=f"video-{video_id}-{job_id}.png")
