"""Climbing tables (frozen copies of models.climbing at version 3)."""
import uuid

from peewee import (CharField, DateTimeField, FloatField, ForeignKeyField, IntegerField, Model, TextField,
                    UUIDField)


def apply(database) -> None:
    class Wall(Model):
        name = CharField(max_length=200)
        svg = TextField()
        width = FloatField()
        height = FloatField()
        holds = TextField(default="[]")
        hold_count = IntegerField(default=0)
        active_calibration_id = IntegerField(null=True)
        owner = IntegerField(null=True, index=True)
        created_at = DateTimeField()

        class Meta:
            table_name = "wall"

    class Calibration(Model):
        wall = ForeignKeyField(Wall, on_delete="CASCADE", index=True)
        name = CharField(max_length=200, default="")
        method = CharField(max_length=40)
        data = TextField()
        reprojection_error = FloatField(default=0.0)
        owner = IntegerField(null=True, index=True)
        created_at = DateTimeField()

        class Meta:
            table_name = "calibration"

    class Route(Model):
        wall = ForeignKeyField(Wall, on_delete="CASCADE", index=True)
        name = CharField(max_length=200)
        grade = CharField(max_length=40, default="")
        author = CharField(max_length=200, default="")
        holds = TextField(default="[]")
        owner = IntegerField(null=True, index=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            table_name = "route"

    class Session(Model):
        id = UUIDField(primary_key=True, default=uuid.uuid4)
        route = ForeignKeyField(Route, null=True, on_delete="SET NULL", index=True)
        user = IntegerField(null=True, column_name="user_id", index=True)
        owner = IntegerField(null=True, index=True)
        start_time = DateTimeField()
        end_time = DateTimeField(null=True)
        status = CharField(max_length=20, default="started", index=True)
        climb_data = TextField(default="{}")
        version = IntegerField(default=0)
        created_at = DateTimeField(index=True)
        updated_at = DateTimeField()

        class Meta:
            table_name = "session"

    class SessionRecording(Model):
        session = ForeignKeyField(Session, null=True, on_delete="CASCADE", index=True)
        name = CharField(max_length=200, default="")
        description = TextField(default="")
        video = CharField(max_length=500, null=True)
        start_time = DateTimeField(null=True)
        end_time = DateTimeField(null=True)
        frame_count = IntegerField(default=0)
        duration = FloatField(default=0.0)
        owner = IntegerField(null=True, index=True)
        created_at = DateTimeField(index=True)

        class Meta:
            table_name = "session_recording"

    class RecordingFrame(Model):
        recording = ForeignKeyField(SessionRecording, on_delete="CASCADE")
        seq = IntegerField()
        frame_number = IntegerField()
        timestamp = FloatField()
        kind = CharField(max_length=8)
        data = TextField()

        class Meta:
            table_name = "recording_frame"
            indexes = ((("recording", "seq"), True),)

    tables = [Wall, Calibration, Route, Session, SessionRecording, RecordingFrame]
    with database.bind_ctx(tables):
        database.create_tables(tables, safe=True)
