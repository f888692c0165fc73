"""Per-process fan-out of task state changes to subscribed sockets.

One listener per web process reads the task events channel (Redis pub/sub)
and hands each state to the sockets subscribed to that task. Subscribers read
the current state when they subscribe, so a late subscriber misses nothing;
after a Redis outage the listener re-reads every subscribed task's state.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import defaultdict

from app.metrics import PUSH_LATENCY
from app.sockets.channel import SocketChannel
from app.sockets.listener import RedisListener
from app.sockets.task_messages import message_for
from models.tasks import FINAL_STATES

log = logging.getLogger(__name__)


def deliver(channel: SocketChannel, state: dict, text: str | None = None) -> None:
    """Send ``state`` to ``channel`` unless it is stale or the task already ended there.

    States carry a version (states read from the database do not); a channel
    gets each task's end once, whichever copy of it arrives first.
    ``text`` is the message already encoded, when one state goes to many sockets.
    """
    task_id = state["task_id"]
    if task_id in channel.ended:
        return
    version = state.get("version")
    if version is not None:
        if version <= channel.versions.get(task_id, 0):
            return
        channel.versions[task_id] = version
    if state.get("state") in FINAL_STATES:
        channel.ended.add(task_id)
    channel.send(text if text is not None else message_for(state))


class TaskHub(RedisListener):
    """Routes task events from Redis to the sockets of this process."""

    name = "task-hub"

    def __init__(self, ledger, redis_url: str, *, timeout: float = 1.0) -> None:
        super().__init__(redis_url, timeout=timeout)
        self.ledger = ledger
        self._subs: dict[str, set[SocketChannel]] = defaultdict(set)
        self._lock = threading.Lock()

    def subscribe(self, task_id: str, channel: SocketChannel) -> None:
        """Route ``task_id``'s changes to ``channel``."""
        self.ensure_running()
        with self._lock:
            self._subs[task_id].add(channel)

    def unsubscribe(self, task_id: str, channel: SocketChannel) -> None:
        """Stop routing ``task_id`` to ``channel``."""
        with self._lock:
            subs = self._subs.get(task_id)
            if subs:
                subs.discard(channel)
                if not subs:
                    del self._subs[task_id]
        channel.versions.pop(task_id, None)
        channel.ended.discard(task_id)

    def drop(self, channel: SocketChannel) -> None:
        """Forget ``channel`` everywhere (its socket closed)."""
        for task_id in list(channel.versions) + [t for t, s in list(self._subs.items()) if channel in s]:
            self.unsubscribe(task_id, channel)

    def subscriber_count(self) -> int:
        """Socket subscriptions in this process."""
        with self._lock:
            return sum(len(s) for s in self._subs.values())

    def dispatch(self, state: dict) -> None:
        """Deliver one state to its task's subscribers."""
        with self._lock:
            channels = list(self._subs.get(state.get("task_id"), ()))
        if not channels:
            return
        text = json.dumps(message_for(state), separators=(",", ":"))  # once, not once per socket
        for channel in channels:
            deliver(channel, state, text)
        if "updated_ts" in state:
            PUSH_LATENCY.observe(max(0.0, time.time() - state["updated_ts"]))

    def resync(self) -> None:
        with self._lock:
            task_ids = list(self._subs)
        for task_id in task_ids:
            try:
                self.dispatch(self.ledger.get(task_id))
            except Exception as exc:  # a vanished task must not stop the others
                log.debug("resync of %s skipped: %s", task_id, exc)

    def open(self, client):
        return self.ledger.store.open_events(client)

    def consume(self, pubsub) -> None:
        for state in self.ledger.store.iter_events(pubsub):
            self.dispatch(state)
