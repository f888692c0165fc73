"""REST blueprints."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register every REST blueprint."""
    from app import openapi
    from app.api import auth, climbing, health, tasks, video_jobs, videos

    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(tasks.bp)
    app.register_blueprint(videos.bp)
    app.register_blueprint(video_jobs.bp)
    climbing.init_app(app)
    app.register_blueprint(openapi.bp)
