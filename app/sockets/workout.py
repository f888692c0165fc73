"""``/ws/workout/``: browser frames in, exercise / reps / form out (seed 003).

Frames are checked here (data URL, base64, image signature, size cap) and
handed to analysis workers through Redis; this process never runs pose
inference. Results come back through :class:`WorkoutHub` in order.
"""
from __future__ import annotations

import base64
import binascii
import time
import uuid
from functools import lru_cache
from typing import Optional

from flask import current_app
from simple_websocket import ConnectionClosed

from actors.workout import analyse_workout_frame, store
from app.errors import socket_error
from app.sockets.guard import socket_route
from app.sockets.limits import RateLimit
from app.sockets.channel import SocketChannel
from app.sockets.workout_hub import Subscriber, WorkoutHub
from config import Config
from models.redis_client import REDIS_ERRORS
from motion import jsontext
from motion.workout.exercises import EXERCISES
from motion.workout.model import load_model

TYPES = ("frame", "reset", "get_summary")
_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
#: How long get_summary waits for the frames already sent to be analysed.
SUMMARY_WAIT = 1.5

_hub: WorkoutHub | None = None


class BadMessage(ValueError):
    """A client message this socket answers with an ``error`` (the code is the first argument)."""


def hub() -> WorkoutHub:
    """This process's workout hub."""
    global _hub
    if _hub is None:
        config = current_app.config["POSEQUEUE"]
        _hub = WorkoutHub(config.effective_redis_url, timeout=config.redis_timeout)
    return _hub


@lru_cache(maxsize=4)
def _model(path) -> tuple[bool, str, list]:
    status = load_model(path)
    classes = list(status.model.classes) if status.model else list(EXERCISES)
    return status.loaded, status.message, classes


def system_message(config: Config, connection_id: str) -> dict:
    """The seed's ``system`` message sent on connect (reports a missing or broken model)."""
    loaded, model_message, classes = _model(config.workout_model_path)
    return {"type": "system", "payload": {
        "status": "initialized", "message": f"Workout analyzer ready. {model_message}.",
        "model_loaded": loaded, "supported_exercises": len(classes), "exercises": classes,
        "analyse_every": config.workout_analyse_every, "max_frame_bytes": config.workout_max_frame_bytes,
        "session_id": connection_id}}


def parse_message(raw) -> dict:
    """A client message as a dict with a known ``type``, or BadMessage."""
    try:
        message = jsontext.loads(raw)
    except ValueError:
        raise BadMessage("bad_message", 'Messages must be JSON objects like {"type": "frame", "payload": "data:…"}.')
    if not isinstance(message, dict):
        raise BadMessage("bad_message", "Messages must be JSON objects, not " + type(message).__name__ + ".")
    if message.get("type") not in TYPES:
        raise BadMessage("unknown_type", f"Unknown message type {message.get('type')!r}; expected one of "
                                         f"{', '.join(TYPES)}.")
    return message


def frame_data(payload, max_bytes: int) -> str:
    """The base64 image of a ``frame`` payload (a data URL or bare base64), checked; or BadMessage."""
    if not isinstance(payload, str) or not payload:
        raise BadMessage("bad_frame", "Frame processing error: 'payload' must be a data URL string.")
    data = payload
    if payload.startswith("data:"):
        header, comma, data = payload.partition(",")
        if not comma or not header.endswith(";base64") or not header[5:].startswith("image/"):
            raise BadMessage("bad_frame", "Frame processing error: expected a data:image/…;base64 URL.")
    if len(data) * 3 // 4 > max_bytes:
        raise BadMessage("frame_too_large", f"Frame processing error: frame of about {len(data) * 3 // 4} bytes "
                                            f"is over the {max_bytes}-byte limit.")
    try:
        head = base64.b64decode(data[:16], validate=True)
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise BadMessage("bad_frame", "Frame processing error: the payload is not valid base64.")
    if not head.startswith(_SIGNATURES):
        raise BadMessage("bad_frame", "Frame processing error: the payload is not a JPEG or PNG image.")
    return data


def _timestamp(message: dict) -> float:
    t = message.get("timestamp")
    if isinstance(t, (int, float)) and not isinstance(t, bool) and t > 0:
        return t / 1000.0 if t > 1e11 else float(t)  # ms or s since the epoch
    return time.time()


class WorkoutConnection:
    """One socket's side of the protocol; :meth:`step` handles one client message."""

    def __init__(self, channel: SocketChannel, config: Config, workouts: WorkoutHub) -> None:
        self.id = uuid.uuid4().hex
        self.channel = channel
        self.config = config
        self.workouts = workouts
        self.sub: Subscriber = workouts.add(self.id, channel)
        self.rate = RateLimit(config.ws_max_fps)
        self.received = 0   # valid frames since connect or the last reset
        self.offered = 0    # seq of the last frame handed to the workers

    def step(self, raw) -> None:
        """Answer one client message."""
        try:
            message = parse_message(raw)
            kind = message["type"]
            if kind == "frame":
                if not self.rate.allow():
                    refusal = self.rate.refusal("frames", timestamped=True)
                    if refusal:
                        self.channel.send(refusal)
                    return
                self.frame(message)
            elif kind == "reset":
                self.reset()
            else:
                self.summary()
        except BadMessage as exc:
            self.channel.send(socket_error(exc.args[0], exc.args[1], timestamped=True))
        except REDIS_ERRORS:
            self.channel.send(socket_error("queue_unavailable", "The analysis queue is unreachable; try again.",
                                           timestamped=True))

    def frame(self, message: dict) -> None:
        data = frame_data(message.get("payload"), self.config.workout_max_frame_bytes)
        self.received += 1
        if (self.received - 1) % self.config.workout_analyse_every:
            return  # analyse every N-th frame only
        seq = self.received
        start, _ = store.offer(self.id, seq, _timestamp(message), data, self.workouts.reply_channel)
        self.offered = seq
        if start:
            try:
                analyse_workout_frame.send(self.id)
            except REDIS_ERRORS:
                store.abandon(self.id)
                raise

    def reset(self) -> None:
        epoch = store.reset(self.id)
        self.sub.epoch, self.sub.delivered = epoch, 0
        self.received = self.offered = 0
        self.channel.send({"type": "system", "payload": {"status": "reset", "message": "Session reset",
                                                         "session_id": self.id}})

    def summary(self) -> None:
        deadline = time.monotonic() + SUMMARY_WAIT
        while self.sub.delivered < self.offered and time.monotonic() < deadline:
            self.sub.delivered_event.clear()
            self.sub.delivered_event.wait(0.05)
        summary = store.summary(self.id) or {
            "session_duration": 0.0, "total_frames": 0, "frames_with_pose": 0, "dropped_frames": 0,
            "exercises_performed": 0, "exercise_details": {}, "analysed_frames": 0}
        summary["total_frames"] = self.received
        summary["dropped_frames"] = summary.get("dropped_frames", 0) + store.pending_dropped(self.id)
        self.channel.send({"type": "summary", "payload": summary})

    def close(self) -> None:
        """Forget the connection (its state in Redis too)."""
        self.workouts.remove(self.id)
        try:
            store.forget(self.id)
        except REDIS_ERRORS:
            pass  # the keys expire on their own


@socket_route("/ws/workout/", strict_slashes=False)
def workout_socket(ws):
    """Send frames, reset, get_summary; get system, workout, summary and error messages."""
    config: Config = current_app.config["POSEQUEUE"]
    # Room for an over-cap frame to be answered politely; far bigger messages close the socket (1009).
    ws.max_message_size = max(config.ws_max_message_bytes, 4 * (config.workout_max_frame_bytes * 4 // 3) + 65536)
    channel = SocketChannel(ws).start()
    workouts = hub()
    workouts.ensure_running()
    workouts.connected.wait(2.0)
    conn: Optional[WorkoutConnection] = None
    try:
        conn = WorkoutConnection(channel, config, workouts)
        channel.send(system_message(config, conn.id))
        while not channel.closed:
            conn.step(ws.receive())
    except ConnectionClosed:
        pass
    finally:
        if conn is not None:
            conn.close()
        channel.close()
        channel.join()
