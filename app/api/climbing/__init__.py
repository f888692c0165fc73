"""Climbing REST: walls, calibrations, routes, sessions, recordings (seeds 000, 001)."""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register the climbing blueprints."""
    from app.api.climbing import recordings, routes, sessions, tracker, walls

    for module in (walls, routes, sessions, tracker, recordings):
        app.register_blueprint(module.bp)
