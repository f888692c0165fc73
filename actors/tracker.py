"""The pose session tracker (seed 000): load the wall, calibration and route, run :class:`TrackerRuntime`.

``build_runtime`` is shared by the actor and ``flask run-tracker``: the same
loading, the same person-readable errors, the same result dict.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any, Callable, Optional

from actors.context import progress
from actors.errors import TaskCancelled
from actors.registry import task_actor
from actors.relay_auth import relay_urls
from actors.tracker_runtime import TrackerRuntime
from config import Config
from models.db import connected
from motion.climbing import ClimbTracker, TrackerParameters, parse_route, parse_wall_svg
from motion.errors import InvalidInput, MotionError

log = logging.getLogger(__name__)
_config = Config.from_env()

CONTROL_PREFIX = "pq:tracker:"


def control_key(session_id: str) -> str:
    """The Redis list a running tracker takes control messages from (API, live socket)."""
    return f"{CONTROL_PREFIX}{session_id}:control"


class RedisControls:
    """Control messages pushed to the session's control list (``RPUSH`` JSON), taken in order."""

    def __init__(self, client, session_id: str) -> None:
        self.client, self.key = client, control_key(session_id)

    def poll(self) -> list[dict]:
        """Everything pushed since the last poll (nothing while Redis is unreachable)."""
        try:
            raw = self.client.lpop(self.key, 100) or []
        except Exception as exc:  # Redis away: the sockets keep working
            log.debug("tracker controls unavailable: %s", exc)
            return []
        return self._parse(raw)

    def wait(self, timeout: float) -> list[dict]:
        """Block up to ``timeout`` s for control messages (BLPOP, then the rest); the runtime's control thread
        calls this, so a control arrives at once and an idle tracker costs Redis nothing but one blocked call."""
        try:
            first = self.client.blpop([self.key], timeout=timeout)
            if first is None:
                return []
            raw = [first[1]] + (self.client.lpop(self.key, 99) or [])
        except Exception as exc:  # Redis away: the sockets keep working; try again a moment later
            log.debug("tracker controls unavailable: %s", exc)
            time.sleep(timeout)
            return []
        return self._parse(raw)

    @staticmethod
    def _parse(raw: list) -> list[dict]:
        out = []
        for text in raw:
            try:
                message = json.loads(text)
            except ValueError:
                continue
            if isinstance(message, dict):
                out.append(message)
        return out


    def reply(self, reply_to: str, message: dict, ttl: int = 30) -> None:
        """Push an answer onto the asker's reply list (only ``pq:tracker:`` keys)."""
        if not reply_to.startswith(CONTROL_PREFIX):
            return
        pipe = self.client.pipeline()
        pipe.rpush(reply_to, json.dumps(message, separators=(",", ":"), default=str))
        pipe.expire(reply_to, ttl)
        pipe.execute()


def send_control(client, session_id: str, message: dict, ttl: int = 3600) -> None:
    """Queue a control message for the tracker of ``session_id``."""
    pipe = client.pipeline()
    pipe.rpush(control_key(session_id), json.dumps(message))
    pipe.expire(control_key(session_id), ttl)
    pipe.execute()


class LiveSessionSink:
    """Session data to the session's live channel and its SQL record (issue 4's store)."""

    def __init__(self, store, session_id: str) -> None:
        self.store, self.session_id = store, session_id

    def climb_changed(self, climb: dict, reset: bool = False) -> None:
        self.store.update_climb(self.session_id, climb, extra={"reset": True} if reset else None)

    def pose(self, landmarks: list) -> None:
        self.store.publish_pose(self.session_id, landmarks)

    def ended(self, status: str) -> None:
        self.store.update_session(self.session_id, {"status": status})


def load_setup(wall_id: int, route_data: Optional[str], route_id: Optional[int], session_id: Optional[str]):
    """``(wall, calibration, route, session)`` from the database; InvalidInput says what to fix."""
    from models.climbing import Calibration, Route, Session, Wall

    with connected():
        wall_row = Wall.get_or_none(Wall.id == wall_id)
        if wall_row is None:
            raise InvalidInput(f"Wall {wall_id} does not exist; upload the wall or pass another wall_id.")
        cal_row = Calibration.get_or_none(Calibration.id == wall_row.active_calibration_id) \
            if wall_row.active_calibration_id else None
        if cal_row is None:
            raise InvalidInput(f"Wall {wall_id} has no active calibration; calibrate the wall (or activate one "
                               "of its calibrations) before tracking.")
        session = None
        if session_id is not None:
            session = Session.find(session_id)
            if session is None:
                raise InvalidInput(f"Session {session_id} does not exist.")
        wall = parse_wall_svg(wall_row.svg)
        calibration = cal_row.to_motion()
        if route_data:
            route = parse_route(route_data, wall)
        else:
            row = session.route if session is not None and session.route_id and route_id in (None, 99) else None
            if row is None and route_id is not None:
                row = Route.get_or_none((Route.id == route_id) & (Route.wall == wall_row.id))
                if row is None:
                    raise InvalidInput(f"Route {route_id} does not exist on wall {wall_id}; pass an existing "
                                       "route_id or the route itself as route_data.")
            route = parse_route(row.data, wall) if row is not None else None
        if session is None:
            session = Session.create(route=row.id if not route_data and row is not None else None)
        return wall, calibration, route, str(session.id)


def resume_saved_climb(tracker: ClimbTracker, session_id: str) -> int:
    """Go on from the session's saved climb when it is of the same route (a tracker started again)."""
    from models.climbing import Session

    with connected():
        session = Session.find(session_id)
    saved = ((session.climb_data or {}).get("climb") if session is not None else None) or {}
    saved_ids = [h.get("id") for h in saved.get("holds") or () if isinstance(h, dict)]
    if not saved_ids or saved_ids != [h["id"] for h in tracker.climb["holds"]]:
        return 0  # another route, or nothing saved: start fresh
    return tracker.resume(saved)


def build_runtime(*, wall_id: int = 1, input_websocket_url: Optional[str] = None,
                  output_websocket_url: Optional[str] = None, proximity_threshold: float = 300.0,
                  touch_duration: float = 0.5, reconnect_delay: float = 0.5, debug: bool = False,
                  no_stream_landmarks: bool = False, stream_svg_only: bool = False,
                  route_data: Optional[str] = None, route_id: Optional[int] = 99, session_id: Optional[str] = None,
                  max_duration: Optional[float] = None, redis_client=None,
                  on_progress: Optional[Callable[[dict], None]] = None) -> TrackerRuntime:
    """The runtime for these seed parameters, wired to the session's live channel. Raises MotionError."""
    from models.session_live import SessionLiveStore

    wall, calibration, route, session_id = load_setup(wall_id, route_data, route_id, session_id)
    tracker = ClimbTracker(wall, calibration, route, TrackerParameters(proximity_threshold=proximity_threshold,
                                                                        touch_duration=touch_duration))
    restored = resume_saved_climb(tracker, session_id)
    if restored:
        log.info("tracker of session %s resumes with %d completed holds", session_id, restored)

    def route_loader(new_route_id: Any):
        from models.climbing import Route

        with connected():
            row = Route.get_or_none(Route.id == new_route_id)
        if row is None:
            raise InvalidInput(f"Route {new_route_id} does not exist.")
        return row.data

    if redis_client is None:
        from actors import ledger
        redis_client = ledger.store.client
    input_url, output_url = relay_urls(session_id, [input_websocket_url or _config.effective_tracker_input_url,
                                                    output_websocket_url or _config.effective_tracker_output_url],
                                       max_duration or _config.tracker_max_duration)
    runtime = TrackerRuntime(
        tracker, input_url, output_url, wall_id=wall_id,
        reconnect_delay=reconnect_delay, max_duration=max_duration or _config.tracker_max_duration,
        no_stream_landmarks=no_stream_landmarks, stream_svg_only=stream_svg_only,
        sink=LiveSessionSink(SessionLiveStore(redis_client), session_id),
        controls=RedisControls(redis_client, session_id), route_loader=route_loader,
        on_progress=on_progress, debug=debug)
    runtime.session_id = session_id
    return runtime


def report(status: dict) -> None:
    """Task progress from runtime figures: holds completed of the route, messages and rate."""
    t = status["tracker"]
    total = t["route_holds"] or 1
    progress(t["holds_completed"], total,
             f"{status['message_count']} messages, {status['average_rate']:.1f}/s, "
             f"{t['holds_completed']}/{t['route_holds']} holds, session {t['status']}")


def run_error(exc: Exception, runtime: TrackerRuntime) -> dict:
    """The seed's error dict for a run that failed mid-way: what broke, and what to do about it.

    Service errors name the exception type only (its text can carry addresses and credentials);
    the worker log has the traceback.
    """
    import peewee
    import redis

    from models.session_live import SessionNotFound

    session_id = getattr(runtime, "session_id", None)
    done = (f"The tracker{f' of session {session_id}' if session_id else ''} stopped after "
            f"{runtime.tracker.counters.messages} pose messages")
    kind = type(exc).__name__
    again = "start the tracker for this session again (it goes on from the holds completed so far)"
    if isinstance(exc, SessionNotFound):
        message = (f"{done}: the session was deleted while it was being tracked. Start a tracker for an "
                   "existing session (POST /api/sessions/<id>/tracker/).")
    elif isinstance(exc, redis.exceptions.RedisError):
        message = (f"{done}: Redis, the live session store (REDIS_URL), became unreachable ({kind}). Check that "
                   f"Redis is running and reachable from the worker, then {again}.")
    elif isinstance(exc, (peewee.DatabaseError, peewee.InterfaceError)):
        message = (f"{done}: the database (DATABASE_URL) became unreachable or refused a write ({kind}). Check that "
                   f"the database is running and reachable from the worker, then {again}.")
    elif isinstance(exc, MotionError):
        message = f"{done}: {exc}"
    elif isinstance(exc, (ConnectionError, TimeoutError, OSError)):
        message = (f"{done}: a connection it needs failed ({kind}). Check that Redis and the database are "
                   f"reachable from the worker, then {again}.")
    else:
        message = (f"{done} on an unexpected error ({kind}); the worker log has the details. If it stops the "
                   f"same way again, report it with that log; to go on, {again}.")
    return {"status": "error", "message": message}


def run_session(runtime: TrackerRuntime) -> dict:
    """Run ``runtime`` to its end: the seed's result dict, or its error dict when the run fails mid-way.

    Cancellation (TaskCancelled) and Dramatiq's interrupts (time limit, worker shutdown) still propagate:
    the task lifecycle records those.
    """
    try:
        return runtime.run()
    except TaskCancelled:
        raise
    except Exception as exc:
        # Not retried, on purpose: the camera, Redis or the database may need a person first, and a
        # retry seconds later would usually fail the same way; starting again resumes the saved climb.
        log.exception("tracker of session %s failed mid-run", getattr(runtime, "session_id", None))
        return run_error(exc, runtime)


@task_actor(time_limit_s=_config.tracker_max_duration + 120)
def track_pose_session(wall_id: int = 1, input_websocket_url: Optional[str] = None,
                       output_websocket_url: Optional[str] = None, proximity_threshold: float = 300.0,
                       touch_duration: float = 0.5, reconnect_delay: float = 0.5, debug: bool = False,
                       no_stream_landmarks: bool = False, stream_svg_only: bool = False,
                       route_data: Optional[str] = None, route_id: int = 99, session_id: Optional[str] = None,
                       max_duration: Optional[float] = None) -> dict:
    """Track a pose stream onto a wall and stream the session (seed 000); returns the seed's result dict."""
    try:
        runtime = build_runtime(**{k: v for k, v in locals().items()}, on_progress=report)
    except MotionError as exc:
        return {"status": "error", "message": str(exc)}
    # Anything else raised while loading (the database or Redis unreachable) propagates on purpose: nothing
    # has been tracked or written yet, so Dramatiq's retry of transient errors (TASK_MAX_RETRIES, with
    # back-off) starts the same tracker cleanly; errors of the job itself fail at once (TaskLifecycle).
    return run_session(runtime)
