"""Builders shared by the climbing tests: generated walls, routes, sessions."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "walls" / "projectclimb"
REAL_SVG = DATA / "wall_2025-11-16.svg"
REAL_CALIBRATION = DATA / "calibration_manual_points.json"

# A 2000×1500 wall: a rectangle scaled and moved by its own transform, a circle of
# arcs moved by its group's transform, a symmetric cubic blob, and six plain squares.
GENERATED_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="200mm" height="150mm" viewBox="0 0 2000 1500">
  <path id="rect" d="M 0 0 H 100 V 50 H 0 Z" transform="translate(200 300) scale(2)"/>
  <g transform="translate(1000 1000)"><path id="circle" d="M -50 0 A 50 50 0 1 0 50 0 A 50 50 0 1 0 -50 0 Z"/></g>
  <path id="blob" d="M 1500 200 C 1500 100 1700 100 1700 200 C 1700 300 1500 300 1500 200 Z"/>
  <path d="M 0 0 H 10 V 10 Z"/>
""" + "".join(
    f'  <path id="hold_{n}" d="M {100 + 150 * n} 1300 h 80 v 80 h -80 Z"/>\n' for n in range(6)) + "</svg>\n"

SEED_ROUTE = {"grade": "V5", "author": "Test User", "problem": {"holds": [
    {"id": "17", "type": "start"}, {"id": "91", "type": "start"}, {"id": "6", "type": "normal"},
    {"id": "101", "type": "normal"}, {"id": "55", "type": "normal"}, {"id": "133", "type": "normal"},
    {"id": "89", "type": "normal"}, {"id": "41", "type": "normal"}, {"id": "72", "type": "finish"},
    {"id": "11", "type": "finish"}]}}

SMALL_ROUTE = {"grade": "6a", "author": "Tester", "problem": {"holds": [
    {"id": "0", "type": "start"}, {"id": "1", "type": "normal"}, {"id": "2", "type": "normal"},
    {"id": "5", "type": "finish"}]}}


def needs_real_data():
    """Skip unless ../shared/data/walls/projectclimb is present."""
    if not REAL_SVG.exists():
        pytest.skip(f"real wall data not found at {DATA} (clone ../shared/data to run this test)")


def upload_wall(client, svg: str | bytes = GENERATED_SVG, name: str = "Test wall"):
    """POST an SVG to /api/walls/; returns the response."""
    data = svg.encode() if isinstance(svg, str) else svg
    return client.post("/api/walls/", data={"name": name, "svg": (io.BytesIO(data), "wall.svg")},
                       content_type="multipart/form-data")


def make_route(client, wall_id: int, route: dict = SMALL_ROUTE, name: str = "Test route") -> dict:
    response = client.post("/api/routes/", json={"wall_id": wall_id, "name": name, **route})
    assert response.status_code == 201, response.json
    return response.json


def make_session(client, route: dict | None = None) -> dict:
    """A new session on a new route of a new generated wall."""
    if route is None:
        wall = upload_wall(client).json
        route = make_route(client, wall["id"])
    response = client.post("/api/sessions/", json={"route": route["id"]})
    assert response.status_code == 201, response.json
    return response.json


def load_json(path: Path) -> dict:
    return json.loads(path.read_text())


def start_web_waiting(env: dict, logs: Path, port: int, *, workers: int = 1, name: str = "web-climbing"):
    """gunicorn like ``tests.support.processes.start_web``, but a worker that takes more than a
    second to import the app (mediapipe via actors.video) is waited for, not a failure."""
    import time

    import requests

    from tests.support.processes import BIN, Process

    proc = Process([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "tests.support.wsgi:create_app()"],
                   {**env, "PORT": str(port), "WEB_CONCURRENCY": str(workers)}, logs / f"{name}.log")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.proc.poll() is not None:
            raise RuntimeError(f"web exited early:\n{proc.output()[-3000:]}")
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return proc
        except requests.RequestException:
            time.sleep(0.1)
    proc.stop()
    raise TimeoutError(f"web did not answer:\n{proc.output()[-3000:]}")
