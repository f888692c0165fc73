"""``flask load-demo-wall`` and ``flask send-fake-session-data`` (seed 001)."""
from __future__ import annotations

import json
import math
import time
import uuid

import click
from flask import Flask, current_app

from models.climbing import Calibration, Route, Session, Wall, climb_data_for
from models.db import connected

DEMO_WALL = "Demo wall"
DEMO_ROUTE = "Demo route (seed 000)"
SEED_ROUTE = {"grade": "V5", "author": "Test User", "problem": {"holds": [
    {"id": "17", "type": "start"}, {"id": "91", "type": "start"}, {"id": "6", "type": "normal"},
    {"id": "101", "type": "normal"}, {"id": "55", "type": "normal"}, {"id": "133", "type": "normal"},
    {"id": "89", "type": "normal"}, {"id": "41", "type": "normal"}, {"id": "72", "type": "finish"},
    {"id": "11", "type": "finish"}]}}


def demo_svg(columns: int = 11, rows: int = 13, width: int = 2500, height: int = 3330) -> str:
    """A wall of ``columns × rows`` holds ``hold_0``… (bottom row first), curved blobs on a jittered grid."""
    paths = []
    for n in range(columns * rows):
        row, col = divmod(n, columns)
        cx = (col + 0.5) * width / columns + 40 * math.sin(n * 1.7)
        cy = height - (row + 0.5) * height / rows + 35 * math.cos(n * 2.3)
        r = 38 + 14 * ((n * 7) % 5)
        k = 0.5523 * r  # cubic approximation of a circle, squashed a little
        paths.append(
            f'  <path class="hold" id="hold_{n}" d="M {cx - r:.1f} {cy:.1f} '
            f'C {cx - r:.1f} {cy - k:.1f} {cx - k:.1f} {cy - 0.8 * r:.1f} {cx:.1f} {cy - 0.8 * r:.1f} '
            f'C {cx + k:.1f} {cy - 0.8 * r:.1f} {cx + r:.1f} {cy - k:.1f} {cx + r:.1f} {cy:.1f} '
            f'C {cx + r:.1f} {cy + k:.1f} {cx + k:.1f} {cy + r:.1f} {cx:.1f} {cy + r:.1f} '
            f'C {cx - k:.1f} {cy + r:.1f} {cx - r:.1f} {cy + k:.1f} {cx - r:.1f} {cy:.1f} Z"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">\n' + "\n".join(paths) + "\n</svg>\n")


def load_demo_wall(svg: str | None = None) -> tuple[Wall, Calibration, Route]:
    """Create (once) the demo wall, its calibration and the seed-000 route; return them.

    An existing demo wall is reused (``svg`` is then only checked).
    """
    from motion.climbing import compute_calibration

    from motion.climbing import parse_wall_svg

    if svg is not None:
        parse_wall_svg(svg)  # InvalidInput before anything is stored
    with connected():
        wall = Wall.get_or_none(Wall.name == DEMO_WALL)
        if wall is None:
            wall = Wall.from_svg(DEMO_WALL, (svg or demo_svg()).encode())
        calibration = Calibration.get_or_none(Calibration.id == wall.active_calibration_id)
        if calibration is None:
            # A 1280×720 camera looking up at the wall from a little to the left.
            image = [[330, 40], [960, 70], [1010, 690], [290, 700], [640, 370]]
            w, h = wall.width, wall.height
            walls = [[0.05 * w, 0.05 * h], [0.95 * w, 0.05 * h], [0.95 * w, 0.95 * h], [0.05 * w, 0.95 * h]]
            exact = compute_calibration(image[:4], walls, (1280, 720))
            centre = exact.image_to_wall([image[4]])[0].tolist()
            cal = compute_calibration(image, walls + [centre], (1280, 720))
            calibration = Calibration.store(wall, cal, "Demo calibration")
        route = Route.get_or_none((Route.wall == wall.id) & (Route.name == DEMO_ROUTE))
        if route is None:
            route = Route.create(wall=wall, name=DEMO_ROUTE, grade=SEED_ROUTE["grade"],
                                 author=SEED_ROUTE["author"], holds=SEED_ROUTE["problem"]["holds"])
        return wall, calibration, route


@click.command("load-demo-wall")
@click.option("--svg", "svg_path", type=click.Path(exists=True, dir_okay=False),
              help="Use this SVG instead of the generated demo wall.")
def load_demo_wall_command(svg_path: str | None) -> None:
    """Create a demo wall, calibration and the seed-000 route (once)."""
    from motion.errors import InvalidInput

    try:
        svg = open(svg_path, encoding="utf-8").read() if svg_path else None
        wall, calibration, route = load_demo_wall(svg)
    except InvalidInput as exc:
        raise click.ClickException(str(exc))
    click.echo(f"wall {wall.id} ({wall.hold_count} holds), calibration {calibration.id}, route {route.id}")


# -- fake session --------------------------------------------------------------------

def climb_plan(holds: list[dict], duration: float) -> list[tuple[float, int]]:
    """When each route hold is touched: ``[(seconds, index)]``, starts first, then in order, finishes last."""
    order = ([i for i, h in enumerate(holds) if h["type"] == "start"]
             + [i for i, h in enumerate(holds) if h["type"] == "normal"]
             + [i for i, h in enumerate(holds) if h["type"] == "finish"])
    step = 0.9 * duration / max(len(order), 1)
    return [(0.05 * duration + k * step, i) for k, i in enumerate(order)]


def skeleton(left: tuple[float, float], right: tuple[float, float], t: float) -> list[dict]:
    """35 landmarks (MediaPipe's 33 and two hand points) of a climber reaching with both hands."""
    hx, hy = (left[0] + right[0]) / 2, max(left[1], right[1]) + 0.12
    sway = 0.01 * math.sin(t * 2.1)
    pts = [(hx + sway, hy - 0.04)] * 11  # head: nose, eyes, ears, mouth
    shoulders = [(hx - 0.04, hy), (hx + 0.04, hy)]
    elbows = [((shoulders[0][0] + left[0]) / 2 - 0.02, (shoulders[0][1] + left[1]) / 2),
              ((shoulders[1][0] + right[0]) / 2 + 0.02, (shoulders[1][1] + right[1]) / 2)]
    hands = [left, right]
    pts += shoulders + elbows + hands + hands + hands + hands  # 11-22: wrists, pinkies, indexes, thumbs
    hips = [(hx - 0.03, hy + 0.14), (hx + 0.03, hy + 0.14)]
    knees = [(hx - 0.06, hy + 0.22 + sway), (hx + 0.06, hy + 0.22 - sway)]
    feet = [(hx - 0.05, hy + 0.3), (hx + 0.05, hy + 0.3)]
    pts += hips + knees + feet + feet + feet + [left, right]  # 23-32, then 33/34 hand points
    return [{"x": round(x, 4), "y": round(y, 4), "z": 0.0, "visibility": 0.99} for x, y in pts]


def fake_session_messages(session: dict, centroids: dict[str, tuple[float, float]], duration: float,
                          pose_rate: float = 10.0):
    """``(time, message)`` pairs of a plausible climb of ``session``'s route lasting ``duration`` seconds."""
    from motion.climbing import format_time
    from motion.climbing.holds import resolve_hold_id

    climb = json.loads(json.dumps(session["climb_data"]["climb"]))
    holds = climb["holds"]
    t0 = time.time()
    climb["startTime"] = climb.get("startTime") or format_time(t0)
    plan = climb_plan(holds, duration)
    where = [centroids.get(resolve_hold_id(h["id"], centroids) or "", (0.5, 0.5)) for h in holds]
    out = [(0.0, {"type": "session_update", "session": {"status": "started"}}),
           (0.0, {"type": "climb_update", "climb": json.loads(json.dumps(climb))})]
    hands = [where[plan[0][1]] if plan else (0.4, 0.8), where[plan[1][1]] if len(plan) > 1 else (0.6, 0.8)]
    touches = iter(plan)
    upcoming = next(touches, None)
    frames = int(duration * pose_rate)
    for n in range(frames + 1):
        t = n / pose_rate
        while upcoming is not None and upcoming[0] <= t:
            index = upcoming[1]
            hold = holds[index]
            hold.update(status="completed", time=format_time(t0 + upcoming[0]))
            side = 0 if where[index][0] <= (hands[0][0] + hands[1][0]) / 2 else 1
            hands[side] = where[index]
            out.append((upcoming[0], {"type": "climb_update", "climb": json.loads(json.dumps(climb))}))
            upcoming = next(touches, None)
        out.append((t, {"type": "pose_update", "pose": skeleton(hands[0], hands[1], t)}))
    climb.update(status="completed", endTime=format_time(t0 + duration))
    out.append((duration, {"type": "climb_update", "climb": climb}))
    out.append((duration, {"type": "session_update", "session": {"status": "completed"}}))
    return sorted(out, key=lambda pair: pair[0])


@click.command("send-fake-session-data")
@click.option("--create-session", is_flag=True, help="Create a new session on the demo route first.")
@click.option("--session-id", type=click.UUID, help="Send to this existing session.")
@click.option("--duration", default=60.0, show_default=True, type=click.FloatRange(1, 3600),
              help="Seconds the climb lasts.")
@click.option("--url", help="Server base URL (default: http://127.0.0.1:$PORT).")
@click.option("--token", envvar="POSEQUEUE_TOKEN", default=None,
              help="API token for the socket [env POSEQUEUE_TOKEN; default: a short-lived one made here].")
def send_fake_session_data(create_session: bool, session_id: uuid.UUID | None, duration: float,
                           url: str | None, token: str | None) -> None:
    """Send a plausible climb through the live session socket: holds in order, poses, then completed."""
    import simple_websocket

    from actors.relay_auth import local_token, with_token

    if bool(create_session) == bool(session_id):
        raise click.UsageError("give either --create-session or --session-id")
    with connected():
        if create_session:
            from models.tasks import naive_utc, utcnow

            wall, _, route = load_demo_wall()
            now = utcnow()
            record = Session.create(route=route, start_time=naive_utc(now), climb_data=climb_data_for(route, now))
            click.echo(f"created session {record.id}")
        else:
            record = Session.find(session_id)
            if record is None:
                raise click.ClickException(f"no session with id {session_id}")
        session = record.to_dict()
        wall = Wall.get_by_id(record.route.wall_id) if record.route_id else None
    centroids = {h["id"]: (h["centroid"][0] / wall.width, h["centroid"][1] / wall.height)
                 for h in (wall.holds if wall else ())}
    base = (url or f"http://127.0.0.1:{current_app.config['POSEQUEUE'].port}").rstrip("/")
    address = base.replace("http://", "ws://").replace("https://", "wss://") + f"/ws/session-live/{record.id}/"
    token = token or local_token(record.owner, f"send-fake-session-data {record.id}", duration + 120)
    if token:
        address = with_token(address, token)
    try:
        ws = simple_websocket.Client.connect(address)
    except Exception as exc:  # refused, DNS, handshake: say where we tried
        raise click.ClickException(f"cannot connect to {address.split('?')[0]}: {exc}")
    started, sent = time.monotonic(), 0
    try:
        for t, message in fake_session_messages(session, centroids, duration):
            delay = started + t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            ws.send(json.dumps(message, separators=(",", ":")))
            sent += 1
            while (reply := ws.receive(timeout=0)) is not None:
                data = json.loads(reply)
                if data.get("type") == "error":
                    raise click.ClickException(f"the server refused a message: {data['message']}")
        deadline = time.monotonic() + 10  # until the server confirms the end (and has stored it)
        while time.monotonic() < deadline:
            reply = ws.receive(timeout=1)
            data = json.loads(reply) if reply else {}
            if data.get("type") == "session_updated" and data["session"]["status"] == "completed":
                break
    except simple_websocket.ConnectionClosed:
        raise click.ClickException("the server closed the socket")
    finally:
        ws.close()
    click.echo(f"sent {sent} messages to session {record.id} in {time.monotonic() - started:.1f} s")


def register(app: Flask) -> None:
    """Add the climbing commands to ``app.cli``."""
    app.cli.add_command(load_demo_wall_command)
    app.cli.add_command(send_fake_session_data)
