"""Climbing sockets: the live session channel and replay (seed 001)."""
from app.sockets.climbing import live, replay  # noqa: F401  (declare their routes)
