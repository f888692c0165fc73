"""The Flask application factory: it only wires the parts together."""
from __future__ import annotations

from typing import Optional

from flask import Flask

from config import Config
from logsetup import configure_logging


def create_app(config: Optional[Config] = None) -> Flask:
    """Build the posequeue web app (REST, sockets, pages) from ``config`` or the environment."""
    config = config or Config.from_env()
    configure_logging(config.log_level, config.log_format)
    app = Flask(__name__, instance_path=str(config.instance_path))
    app.config["POSEQUEUE"] = config
    app.json.sort_keys = False

    from app import api, auth, body, database, errors, ids, metrics, pages, sockets, uploads

    ids.init_app(app)
    database.init_app(app)
    errors.init_app(app)
    auth.init_app(app)  # before body: nothing of an unauthenticated request is parsed
    body.init_app(app)  # after errors: its refusals carry the request id
    uploads.init_app(app)
    api.init_app(app)
    sockets.init_app(app)
    metrics.init_app(app)
    pages.init_app(app)
    from cli import init_app as init_cli

    init_cli(app)
    return app
