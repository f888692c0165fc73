"""The video table (frozen copy of models.videos.Video at version 2)."""
from peewee import (
    AutoField, BooleanField, CharField, DateTimeField, FloatField, ForeignKeyField, IntegerField, Model, TextField,
)


def apply(database) -> None:
    class Video(Model):
        id = AutoField()
        filename = CharField(max_length=255)
        path = CharField(max_length=512, unique=True)
        frames = IntegerField()
        fps = FloatField()
        width = IntegerField()
        height = IntegerField()
        duration = FloatField()
        size_bytes = IntegerField()
        has_audio = BooleanField(default=False)
        codec = CharField(max_length=32, default="")
        source = ForeignKeyField("self", null=True, on_delete="SET NULL", column_name="source_id")
        task_id = CharField(max_length=64, null=True, unique=True)
        steps = TextField(default="[]")
        last_analysis = TextField(null=True)
        owner = IntegerField(null=True, index=True)
        created_at = DateTimeField()

        class Meta:
            table_name = "video"

    with database.bind_ctx([Video]):
        database.create_tables([Video], safe=True)
