"""Database connection per request."""
from flask import Flask

from models.db import db, init_db


def init_app(app: Flask) -> None:
    """Open the database from the config; connect lazily, close after each request."""
    init_db(app.config["POSEQUEUE"].effective_database_url)

    @app.teardown_appcontext
    def _close(exc):
        if not db.is_closed():
            db.close()
