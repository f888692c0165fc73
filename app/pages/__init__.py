"""Web pages people use: tasks dashboard, video correction, live wall, workout coach.

Plain templates and static JavaScript served by Flask (no build step, no CDN).
The pages talk to the same REST and socket API as any other client, through
``static/pages/js/client.js``, the one place where credentials will be added.
"""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, url_for

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/pages")

PAGES = (("tasks", "Tasks"), ("videos", "Videos"), ("wall", "Live wall"), ("workout", "Workout"))


@bp.context_processor
def _navigation() -> dict:
    principal = g.get("principal")
    auth_on = not current_app.config["POSEQUEUE"].auth_disabled
    return {"pages": PAGES, "user": principal.name if principal and auth_on else None}


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("pages.tasks")
    return target


@bp.get("/login")
def login():
    """Log in with name and password; the cookie it sets serves the pages and their sockets."""
    return render_template("pages/login.html", active="login", next=_safe_next(request.args.get("next")))


@bp.get("/")
def home():
    """The tasks dashboard is the home page."""
    return redirect(url_for("pages.tasks"))


@bp.get("/tasks")
def tasks():
    """Every task live over /ws/tasks/, with filters, history and cancel."""
    return render_template("pages/tasks.html", active="tasks")


@bp.get("/videos")
def videos():
    """Upload videos, draw mask regions, pick frames to remove, run and watch jobs."""
    return render_template("pages/videos.html", active="videos")


@bp.get("/wall")
@bp.get("/wall/<session_id>")
def wall(session_id: str | None = None):
    """A climbing session on the wall's SVG, live or replayed."""
    return render_template("pages/wall.html", active="wall", session_id=session_id or "")


@bp.get("/workout")
def workout():
    """Webcam workout coach over /ws/workout/."""
    return render_template("pages/workout.html", active="workout")


def init_app(app: Flask) -> None:
    """Register the pages and their static files."""
    app.register_blueprint(bp)
