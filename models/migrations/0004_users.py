"""Users and their API tokens (frozen copies of models.users at version 4)."""
from peewee import AutoField, BooleanField, CharField, DateTimeField, ForeignKeyField, Model


def apply(database) -> None:
    class User(Model):
        id = AutoField()
        name = CharField(max_length=64, unique=True)
        password_hash = CharField(max_length=255, null=True)
        is_admin = BooleanField(default=False)
        created_at = DateTimeField()

        class Meta:
            table_name = "user"

    class Token(Model):
        id = AutoField()
        user = ForeignKeyField(User, on_delete="CASCADE", column_name="user_id", index=True)
        name = CharField(max_length=100)
        kind = CharField(max_length=16, default="api")
        prefix = CharField(max_length=16)
        token_hash = CharField(max_length=64, unique=True)
        created_at = DateTimeField()
        expires_at = DateTimeField(null=True)
        revoked_at = DateTimeField(null=True)
        last_used_at = DateTimeField(null=True)

        class Meta:
            table_name = "token"

    with database.bind_ctx([User, Token]):
        database.create_tables([User, Token], safe=True)
