"""The task table (frozen copy of models.tasks.TaskRecord at version 1)."""
from peewee import CharField, DateTimeField, FloatField, IntegerField, Model, TextField


def apply(database) -> None:
    class Task(Model):
        task_id = CharField(primary_key=True, max_length=64)
        actor = CharField(max_length=128, index=True)
        arguments = TextField(default="{}")
        owner = IntegerField(null=True, index=True)
        state = CharField(max_length=16, index=True, default="PENDING")
        progress = FloatField(default=0.0)
        status = TextField(default="")
        eta_seconds = FloatField(null=True)
        result = TextField(null=True)
        error = TextField(null=True)
        attempts = IntegerField(default=0)
        created_at = DateTimeField(index=True)
        started_at = DateTimeField(null=True)
        finished_at = DateTimeField(null=True)
        updated_at = DateTimeField()

        class Meta:
            table_name = "task"

    with database.bind_ctx([Task]):
        database.create_tables([Task], safe=True)
