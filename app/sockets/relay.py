"""``/ws/pose/`` and ``/ws/holds/``: relay sockets (the earlier system's rooms).

Every message one client sends reaches every other client on the same path,
never the sender, whichever web process each client is connected to:

* the receiving process hands the message straight to its own other clients
  (no Redis round trip on the hot path), then publishes it once on the
  path's Redis channel as ``<process id> <sender id>\\n<text>``;
* one listener per web process reads every relay channel and delivers what
  other processes published (its own copies are skipped: already delivered).

On ``/ws/pose/`` a publisher may also record what it sends
(``start_recording`` / ``stop_recording``, :mod:`app.sockets.pose_recording`).

Messages must be JSON objects of at most RELAY_MAX_MESSAGE_BYTES; anything
else is answered with an ``error`` and not relayed. Each client has a queue of
RELAY_MAX_QUEUE messages: a client that does not read is disconnected rather
than slowing the others down (a pose stream is worth nothing late).
"""
from __future__ import annotations

import logging
import socket
import threading
import uuid
from typing import Optional

from flask import current_app, g
from simple_websocket import ConnectionClosed

from app.errors import socket_error
from app.sockets.guard import socket_route
from app.sockets.limits import RateLimit
from app.sockets.channel import SocketChannel
from app.sockets.listener import RedisListener
from app.sockets.pose_recording import PoseRecorder, RecordingError
from models.redis_client import REDIS_ERRORS, make_redis
from motion import jsontext

log = logging.getLogger(__name__)

#: Relay paths and their Redis channels.
ROOMS = {"pose": "pq:relay:pose", "holds": "pq:relay:holds"}
CHANNEL_PREFIX = "pq:relay:"
#: The one room of every client when authentication is off (AUTH_DISABLED=1).
OPEN_SCOPE = "open"


def scope_of(principal) -> str:
    """The relay room scope of a socket's principal: their user id, or the open room."""
    return OPEN_SCOPE if principal is None or principal.id is None else str(principal.id)


class RelayClient(SocketChannel):
    """A relay socket's writer: a short queue, and a hard disconnect when it overflows."""

    def __init__(self, ws, *, max_queue: int, scope: str = OPEN_SCOPE) -> None:
        super().__init__(ws, max_queue=max_queue)
        self.id = uuid.uuid4().hex[:12]
        #: Whose room this client is in: its user's id (one gym's camera never reaches another's wall).
        self.scope = scope

    def send(self, message) -> None:
        """Queue ``message``; a reader ``max_queue`` messages behind is dropped."""
        if self.closed:
            return
        try:
            self._queue.put_nowait(message)
        except Exception:  # queue.Full
            log.warning("relay: dropping client %s, which stopped reading", self.id)
            self.drop()

    def drop(self) -> None:
        """Disconnect now: unblocks both the sender and the receive loop."""
        self.closed = True
        try:
            self.ws.sock.shutdown(socket.SHUT_RDWR)
        except Exception:
            pass


def validate(raw, max_bytes: int) -> Optional[str]:
    """None when ``raw`` may be relayed, else what is wrong with it."""
    if raw is None:
        return "Empty message."
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > max_bytes:
        return f"Message of {size} bytes is over the relay limit of {max_bytes} bytes."
    if isinstance(raw, bytes):
        return "Binary messages are not relayed; send JSON text."
    stripped = raw.lstrip()
    if not stripped.startswith("{"):
        return "Relay messages must be JSON objects."
    try:
        jsontext.loads(raw)  # NaN and Infinity too: the readers are browsers, whose JSON.parse refuses them
    except ValueError:
        return (f"Relay messages must be valid JSON (no NaN or Infinity), nested at most {jsontext.MAX_DEPTH} "
                "levels deep.")
    return None


class RelayHub(RedisListener):
    """This web process's relay clients, and its one Redis listener for the other processes' messages."""

    name = "relay-hub"

    def __init__(self, redis_url: str, *, timeout: float = 1.0) -> None:
        super().__init__(redis_url, timeout=timeout)
        self.process_id = uuid.uuid4().hex[:8]
        self._rooms: dict[str, set[RelayClient]] = {room: set() for room in ROOMS}
        self._lock = threading.Lock()
        self._publisher = None

    def on_start(self) -> None:
        self.process_id = uuid.uuid4().hex[:8]
        self._publisher = make_redis(self.redis_url, timeout=self.timeout)

    def join(self, room: str, client: RelayClient) -> None:
        """Deliver ``room``'s messages to ``client``."""
        self.ensure_running()
        with self._lock:
            self._rooms[room].add(client)

    def leave(self, room: str, client: RelayClient) -> None:
        """Stop delivering to ``client``."""
        with self._lock:
            self._rooms[room].discard(client)

    def local(self, room: str, text: str, sender: str, scope: str = OPEN_SCOPE) -> None:
        """Hand ``text`` to this process's clients of ``room`` in ``scope``, except ``sender``."""
        with self._lock:
            clients = [c for c in self._rooms[room] if c.id != sender and c.scope == scope]
        for client in clients:
            client.send(text)

    def relay(self, room: str, text: str, sender: str, scope: str = OPEN_SCOPE) -> None:
        """Deliver ``text`` here at once, and to the other web processes through Redis."""
        self.local(room, text, sender, scope)
        try:
            self._publisher.publish(ROOMS[room], f"{self.process_id} {sender} {scope}\n{text}")
        except REDIS_ERRORS as exc:  # local clients still got it; the others cannot now
            log.warning("relay: cannot publish to Redis (%s)", exc)

    def open(self, client):
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(*ROOMS.values())
        return pubsub

    def consume(self, pubsub) -> None:
        for item in pubsub.listen():
            if item.get("type") == "message":
                self._dispatch(item["channel"], item["data"])

    def _dispatch(self, channel: str, data: str) -> None:
        head, _, text = data.partition("\n")
        origin, sender, scope = (head.split(" ") + ["", ""])[:3]
        if origin == self.process_id:
            return  # delivered locally already
        room = channel[len(CHANNEL_PREFIX):]
        if room in self._rooms:
            self.local(room, text, sender, scope or OPEN_SCOPE)

_hub: Optional[RelayHub] = None


def hub() -> RelayHub:
    """This process's relay hub."""
    global _hub
    if _hub is None:
        config = current_app.config["POSEQUEUE"]
        _hub = RelayHub(config.effective_redis_url, timeout=config.redis_timeout)
    return _hub


def serve(ws, room: str, recorder: Optional[PoseRecorder] = None) -> None:
    """Run one relay client until it disconnects; with a ``recorder``, its recording messages are answered."""
    config = current_app.config["POSEQUEUE"]
    relay = hub()
    scope = scope_of(g.get("principal"))
    client = RelayClient(ws, max_queue=config.relay_max_queue, scope=scope).start()
    relay.join(room, client)
    rate = RateLimit(config.ws_max_fps)
    try:
        while not client.closed:
            raw = ws.receive()
            if not rate.allow():
                refusal = rate.refusal()
                if refusal:
                    client.send(refusal)
                continue
            problem = validate(raw, config.relay_max_message_bytes)
            if problem:
                client.send(socket_error("bad_message", problem))
                continue
            if recorder is not None and _record(recorder, client, raw):
                continue
            relay.relay(room, raw, client.id, scope)
            if recorder is not None and recorder.active:
                try:
                    recorder.add(raw)
                except Exception:
                    log.exception("relay: storing a recorded frame failed")
    except ConnectionClosed:
        pass
    finally:
        relay.leave(room, client)
        try:
            if recorder is not None:
                recorder.close()
        except Exception:
            log.exception("relay: closing a recording failed")
        client.close()
        client.join()


def _record(recorder: PoseRecorder, client: RelayClient, raw: str) -> bool:
    """Answer a start/stop_recording message (True: consumed, not relayed)."""
    try:
        answer = recorder.control(raw)
    except RecordingError as exc:
        client.send(socket_error("bad_message", str(exc), **({"fields": exc.fields} if exc.fields else {})))
        return True
    except Exception:
        log.exception("relay: recording message failed")
        client.send(socket_error("internal_error", "The recording could not be changed on the server."))
        return True
    if answer is None:
        return False
    client.send(answer)
    return True


@socket_route("/ws/pose/", strict_slashes=False)
def pose_relay(ws):
    """Pose relay: camera boxes and `flask stream-pose` publish, trackers read; publishers may record."""
    serve(ws, "pose", PoseRecorder(principal=g.get("principal")))


@socket_route("/ws/holds/", strict_slashes=False)
def holds_relay(ws):
    """Session relay: trackers publish hold and pose state, wall displays read."""
    serve(ws, "holds")
