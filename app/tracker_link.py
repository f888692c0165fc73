"""A session's running tracker as the web side sees it: its task id, its control list, its answers.

- ``pq:tracker:<session_id>:task``: the task id of the session's tracker
  (set by ``POST /api/sessions/<id>/tracker/``; ``starting`` while it is being
  submitted). A tracker *runs* when that task is in an active state.
- ``pq:tracker:<session_id>:control``: control messages (:func:`actors.tracker.send_control`).
- ``pq:tracker:<session_id>:reply:<token>``: a one-off list the tracker answers
  ``get_status`` / ``update_parameters`` on (the ``reply_to`` of the control message).
"""
from __future__ import annotations

import json
import time
import uuid
from typing import Optional

import redis

from actors.tracker import CONTROL_PREFIX, control_key, send_control
from models.task_state import TaskNotFound
from models.tasks import ACTIVE_STATES, PENDING, RETRY

STARTING = "starting"


class NoTracker(LookupError):
    """No tracker runs for this session."""


class TrackerBusy(Exception):
    """A tracker already runs (or is being started) for this session; ``task_id`` is its task."""

    def __init__(self, task_id: Optional[str]) -> None:
        super().__init__(f"a tracker already runs for this session (task {task_id})")
        self.task_id = task_id


class TrackerTimeout(TimeoutError):
    """The tracker did not answer in time."""


class TrackerStarting(LookupError):
    """The session's tracker is queued and has not started: nothing can answer yet."""


def task_key(session_id: str) -> str:
    """The key holding the task id of the session's tracker."""
    return f"{CONTROL_PREFIX}{session_id}:task"


class TrackerLink:
    """Start bookkeeping, state and control of session trackers, over the ledger's Redis."""

    def __init__(self, ledger, *, claim_ttl: int = 60) -> None:
        self.ledger = ledger
        self.client = ledger.store.client
        self.claim_ttl = claim_ttl

    def task_id(self, session_id: str) -> Optional[str]:
        """The task id last stored for the session (None: never started, or being started)."""
        value = self.client.get(task_key(session_id))
        return None if value in (None, STARTING) else value

    def state(self, session_id: str) -> Optional[dict]:
        """The task state of the session's latest tracker, or None."""
        task_id = self.task_id(session_id)
        if task_id is None:
            return None
        try:
            return self.ledger.get(task_id)
        except TaskNotFound:
            return None

    def running(self, session_id: str) -> Optional[dict]:
        """The task state of the session's tracker when it is active, else None."""
        state = self.state(session_id)
        return state if state is not None and state["state"] in ACTIVE_STATES else None

    def claim(self, session_id: str) -> None:
        """Reserve the session for a new tracker (and empty its control list).

        Raises:
            TrackerBusy: one is running or being started.
        """
        key = task_key(session_id)
        for _ in range(2):
            if self.client.set(key, STARTING, nx=True, ex=self.claim_ttl):
                self.client.delete(control_key(session_id))  # no stale ``stop`` for the new tracker
                return
            current = self.client.get(key)
            if current == STARTING or self.running(session_id) is not None:
                raise TrackerBusy(None if current == STARTING else current)
            # The previous tracker ended: free the slot, unless someone else just took it.
            with self.client.pipeline() as pipe:
                try:
                    pipe.watch(key)
                    if pipe.get(key) == current:
                        pipe.multi()
                        pipe.delete(key)
                        pipe.execute()
                except redis.WatchError:
                    pass  # changed meanwhile: look again
        raise TrackerBusy(None)

    def started(self, session_id: str, task_id: str, ttl: int) -> None:
        """Record the submitted tracker's task id."""
        self.client.set(task_key(session_id), task_id, ex=ttl)

    def release(self, session_id: str) -> None:
        """Drop a claim whose submission failed."""
        if self.client.get(task_key(session_id)) == STARTING:
            self.client.delete(task_key(session_id))

    def send(self, session_id: str, message: dict) -> dict:
        """Forward a control message to the running tracker; its task state.

        Raises:
            NoTracker: none runs for this session.
        """
        state = self.running(session_id)
        if state is None:
            raise NoTracker(session_id)
        send_control(self.client, session_id, message)
        return state

    def ask(self, session_id: str, message: dict, timeout: float = 3.0, poll: float = 0.05) -> dict:
        """Send a control message with a ``reply_to`` and wait for the tracker's answer.

        Raises:
            NoTracker: none runs for this session.
            TrackerTimeout: it did not answer within ``timeout`` seconds.
        """
        reply_to = f"{CONTROL_PREFIX}{session_id}:reply:{uuid.uuid4().hex}"
        self.send(session_id, {**message, "reply_to": reply_to})
        deadline = time.monotonic() + timeout
        try:
            while True:  # short polls: the shared client's socket timeout stays short, gevent yields in sleep
                raw = self.client.lpop(reply_to)
                if raw is not None:
                    return json.loads(raw)
                if time.monotonic() >= deadline:
                    raise TrackerTimeout(session_id)
                time.sleep(poll)
        finally:
            self.client.delete(reply_to)


_link: Optional[TrackerLink] = None


def tracker_link() -> TrackerLink:
    """This process's tracker link (on the ledger's Redis client)."""
    global _link
    if _link is None:
        from actors import ledger

        _link = TrackerLink(ledger)
    return _link


class UnknownRoute(ValueError):
    """``update_parameters`` named a route that does not exist."""


#: Controls whose answer the asker waits for; the others are forwarded and acknowledged at once.
ANSWERED = frozenset({"get_status", "update_parameters"})


def forward_control(link: TrackerLink, session_id: str, control: dict, timeout: float = 3.0) -> dict:
    """Forward a validated control message (``TrackerControlSchema``) to the session's tracker.

    Returns the tracker's answer for ``get_status`` (``{"type": "status", …}``)
    and ``update_parameters`` (``parameters_updated`` or ``error``), else
    ``{"type": "control_forwarded", "control", "session_id", "task_id"}``.

    Raises:
        UnknownRoute, NoTracker, TrackerStarting (asked before it started), TrackerTimeout.
    """
    if control.get("route_id") is not None:
        from models.climbing import Route
        from models.db import connected

        with connected():
            if Route.get_or_none(Route.id == control["route_id"]) is None:
                raise UnknownRoute(f"No route with id {control['route_id']}.")
    if control["type"] in ANSWERED:
        state = link.running(session_id)
        if state is not None and state["state"] in (PENDING, RETRY):
            raise TrackerStarting(session_id)  # rather than waiting out the timeout for no answer
        return link.ask(session_id, control, timeout=timeout)
    state = link.send(session_id, control)
    return {"type": "control_forwarded", "control": control["type"], "session_id": session_id,
            "task_id": state["task_id"]}
