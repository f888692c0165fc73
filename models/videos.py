"""Video records: uploads and the videos jobs derive from them."""
from __future__ import annotations

from pathlib import Path

from peewee import (
    AutoField, BooleanField, CharField, DateTimeField, FloatField, ForeignKeyField, IntegerField, Model,
)

from models.db import db
from models.fields import JSONField
from models.tasks import _db_now, isoformat


class Video(Model):
    """A video file under the media root; derived ones point at their source and task."""

    id = AutoField()
    filename = CharField(max_length=255)
    #: Path relative to the media root (never shown to clients).
    path = CharField(max_length=512, unique=True)
    frames = IntegerField()
    fps = FloatField()
    width = IntegerField()
    height = IntegerField()
    duration = FloatField()
    size_bytes = IntegerField()
    has_audio = BooleanField(default=False)
    codec = CharField(max_length=32, default="")
    source = ForeignKeyField("self", null=True, backref="derived", on_delete="SET NULL", column_name="source_id")
    task_id = CharField(max_length=64, null=True, unique=True)
    #: The operations that made this video from its original, in order: [{"op", "spec"}].
    steps = JSONField(default=list)
    #: The spec of the last analysis run on this video (reprocess repeats it).
    last_analysis = JSONField(null=True)
    owner = IntegerField(null=True, index=True)
    created_at = DateTimeField(default=_db_now)

    class Meta:
        database = db
        table_name = "video"

    def file_path(self, media_root: Path) -> Path:
        """Where the file is on disk."""
        return media_root / self.path

    def original(self) -> "Video":
        """The upload this video was derived from (itself for an upload)."""
        video = self
        seen = set()
        while video.source_id is not None and video.id not in seen:
            seen.add(video.id)
            parent = Video.get_or_none(Video.id == video.source_id)
            if parent is None:
                break
            video = parent
        return video

    def as_dict(self) -> dict:
        """The fields clients see."""
        return {
            "id": self.id, "filename": self.filename, "frames": self.frames, "fps": self.fps,
            "width": self.width, "height": self.height, "duration": self.duration,
            "size_bytes": self.size_bytes, "has_audio": self.has_audio, "codec": self.codec,
            "source_id": self.source_id, "task_id": self.task_id, "steps": self.steps or [],
            "created_at": isoformat(self.created_at),
        }
