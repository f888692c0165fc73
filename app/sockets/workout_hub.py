"""Per-process delivery of workout results to the sockets of this web process.

Each web process has its own reply channel in Redis; workers publish a
connection's results there (see :mod:`models.workout_store`). One listener
per process reads the channel and hands each result to its connection, which
drops results of an earlier epoch (before a reset) or out of order.
"""
from __future__ import annotations

import json
import logging
import threading
import uuid

from app.errors import socket_error
from app.sockets.channel import SocketChannel
from app.sockets.listener import RedisListener
from models.workout_store import REPLY_PREFIX, WorkoutStore

log = logging.getLogger(__name__)


class Subscriber:
    """What the hub knows about one open workout socket."""

    def __init__(self, channel: SocketChannel) -> None:
        self.channel = channel
        self.epoch = 0
        self.delivered = 0          # highest seq pushed to the client in this epoch
        self.delivered_event = threading.Event()

    def deliver(self, epoch: int, seq: int, text: str) -> bool:
        """Push one result unless it is stale; True when sent."""
        if epoch != self.epoch or seq <= self.delivered:
            return False
        self.delivered = seq
        if text.startswith('{"type":"error"'):
            raw = json.loads(text)
            self.channel.send(socket_error(raw.get("code", "bad_frame"), raw["message"], timestamped=True, seq=seq))
        else:
            self.channel.send(text)
        self.delivered_event.set()
        return True


class WorkoutHub(RedisListener):
    """Routes workout results from this process's Redis reply channel to local sockets."""

    name = "workout-hub"

    def __init__(self, redis_url: str, *, timeout: float = 1.0) -> None:
        super().__init__(redis_url, timeout=timeout)
        self.reply_channel = ""
        self._subs: dict[str, Subscriber] = {}
        self._lock = threading.Lock()

    def on_start(self) -> None:
        self.reply_channel = f"{REPLY_PREFIX}{uuid.uuid4().hex}"

    def add(self, connection_id: str, channel: SocketChannel) -> Subscriber:
        """Route ``connection_id``'s results to ``channel``."""
        self.ensure_running()
        sub = Subscriber(channel)
        with self._lock:
            self._subs[connection_id] = sub
        return sub

    def remove(self, connection_id: str) -> None:
        """Stop routing (the socket closed)."""
        with self._lock:
            self._subs.pop(connection_id, None)

    def dispatch(self, connection_id: str, epoch: int, seq: int, text: str) -> None:
        """Deliver one published result."""
        with self._lock:
            sub = self._subs.get(connection_id)
        if sub is not None:
            sub.deliver(epoch, seq, text)

    def open(self, client):
        return WorkoutStore.open_replies(client, self.reply_channel)

    def consume(self, pubsub) -> None:
        # Results published while Redis was away are lost; the next analysed
        # frame carries the whole state.
        for connection_id, epoch, seq, text in WorkoutStore.iter_replies(pubsub):
            try:
                self.dispatch(connection_id, epoch, seq, text)
            except Exception:  # one bad result must not stop the others
                log.exception("workout result for %s not delivered", connection_id)
