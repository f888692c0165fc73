"""The per-process Redis pub/sub listener every socket hub is built on.

Each web process runs one background thread per hub that holds a pub/sub
subscription, hands what arrives to the hub's sockets, and reconnects with
back-off when Redis goes away; after a reconnect the hub may re-read state
that was published while it was away.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Optional

from models.redis_client import REDIS_ERRORS, make_redis

log = logging.getLogger(__name__)


class RedisListener:
    """Base of the socket hubs: subclasses say what to subscribe to and how to consume it."""

    #: Thread name, also used in log lines.
    name = "redis-listener"

    def __init__(self, redis_url: str, *, timeout: float = 1.0) -> None:
        self.redis_url = redis_url
        self.timeout = timeout
        self.connected = threading.Event()
        self._pid: Optional[int] = None
        self._start_lock = threading.Lock()

    def ensure_running(self) -> None:
        """Start the listener in this process (once; again after a fork)."""
        with self._start_lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self.connected.clear()
            self.on_start()
        threading.Thread(target=self._listen_forever, name=self.name, daemon=True).start()

    def on_start(self) -> None:
        """Per-process set-up before the thread starts (e.g. a process id)."""

    def open(self, client):
        """Return a pub/sub object already subscribed (connects now)."""
        raise NotImplementedError

    def consume(self, pubsub) -> None:
        """Read ``pubsub`` until it fails, dispatching each message (blocks)."""
        raise NotImplementedError

    def resync(self) -> None:
        """After a reconnect: deliver what changed while Redis was unreachable."""

    def _listen_forever(self) -> None:
        backoff, first = 0.1, True
        while True:
            client = make_redis(self.redis_url, timeout=self.timeout, blocking=True)
            pubsub = None
            try:
                pubsub = self.open(client)
                self.connected.set()
                if not first:
                    log.info("%s reconnected to Redis", self.name)
                    self.resync()
                first, backoff = False, 0.1
                self.consume(pubsub)
            except REDIS_ERRORS as exc:
                self.connected.clear()
                log.warning("%s lost Redis (%s); retrying in %.1f s", self.name, exc, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                first = False
            finally:
                try:
                    if pubsub is not None:
                        pubsub.close()
                    client.close()
                except Exception:  # closing a dead connection may fail; nothing to do
                    pass
