"""Per-process fan-out of live session messages to the sockets watching each session.

One listener thread per web process reads ``pq:session-events`` and hands each
message, as the text it arrived in, to the local sockets of its session. A
socket that joins gets the current state under the hub's lock, so no change
can slip between its snapshot and its first event; versions drop repeats.
After a Redis outage the listener re-sends every watched session's state.
"""
from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict

from flask import current_app

from app.sockets.channel import SocketChannel
from app.sockets.listener import RedisListener
from models.session_live import SessionLiveStore

log = logging.getLogger(__name__)

_store: SessionLiveStore | None = None
_hub: "SessionHub | None" = None


def live_store() -> SessionLiveStore:
    """This process's live session store (on the ledger's Redis client)."""
    global _store
    if _store is None:
        from actors import ledger

        _store = SessionLiveStore(ledger.store.client)
    return _store


def session_hub() -> "SessionHub":
    """This process's session hub."""
    global _hub
    if _hub is None:
        config = current_app.config["POSEQUEUE"]
        _hub = SessionHub(live_store(), config.effective_redis_url, timeout=config.redis_timeout)
    return _hub


def deliver(channel: SocketChannel, session_id: str, kind: str, version, text: str) -> None:
    """Send ``text`` unless the channel already had this version (or a newer one) of ``kind``."""
    if version is not None:
        key = f"{session_id}:{kind}"
        if version <= channel.versions.get(key, -1):
            return
        channel.versions[key] = version
    channel.send(text)


class SessionHub(RedisListener):
    """Routes live session messages from Redis to this process's sockets."""

    name = "session-hub"

    def __init__(self, store: SessionLiveStore, redis_url: str, *, timeout: float = 1.0) -> None:
        super().__init__(redis_url, timeout=timeout)
        self.store = store
        self._subs: dict[str, set[SocketChannel]] = defaultdict(set)
        self._lock = threading.RLock()

    def join(self, session_id: str, channel: SocketChannel) -> None:
        """Watch ``session_id``: send its current state, then every change.

        Raises:
            SessionNotFound: no such session (the channel is not subscribed).
        """
        self.ensure_running()
        self.connected.wait(max(self.timeout, 1.0) * 2)  # else events before the listener subscribes are lost
        with self._lock:  # no event of this session is dispatched until the snapshot is queued
            self._send_snapshot(session_id, channel)
            self._subs[session_id].add(channel)

    def leave(self, session_id: str, channel: SocketChannel) -> None:
        """Stop watching."""
        with self._lock:
            subs = self._subs.get(session_id)
            if subs:
                subs.discard(channel)
                if not subs:
                    del self._subs[session_id]

    def watcher_count(self, session_id: str) -> int:
        """Sockets of this process watching ``session_id``."""
        with self._lock:
            return len(self._subs.get(session_id, ()))

    def _send_snapshot(self, session_id: str, channel: SocketChannel) -> None:
        for msg in self.store.snapshot_messages(session_id):
            kind = "session" if msg["type"] == "session_updated" else "climb"
            deliver(channel, session_id, kind, msg["version"], json.dumps(msg, separators=(",", ":")))

    def dispatch(self, text: str) -> None:
        """Deliver one message (as published) to its session's sockets."""
        try:
            head = json.loads(text)
            session_id, kind = head["session_id"], head["type"].split("_", 1)[0]
        except (ValueError, KeyError, AttributeError):
            log.warning("ignoring a malformed session event")
            return
        with self._lock:
            for channel in list(self._subs.get(session_id, ())):
                deliver(channel, session_id, kind, head.get("version"), text)

    def resync(self) -> None:
        with self._lock:
            watched = {sid: list(chs) for sid, chs in self._subs.items()}
        for session_id, channels in watched.items():
            for channel in channels:
                try:
                    with self._lock:
                        self._send_snapshot(session_id, channel)
                except Exception as exc:  # a deleted session must not stop the others
                    log.debug("resync of session %s skipped: %s", session_id, exc)

    def open(self, client):
        return self.store.open_events(client)

    def consume(self, pubsub) -> None:
        for text in self.store.iter_events(pubsub):
            self.dispatch(text)
