"""Task state transitions, written to the live store and to the database.

The live store (Redis) gets every change; the database gets every transition
and whatever progress the caller chooses to persist, and always the final
state, so history outlives a Redis flush.
"""
from __future__ import annotations

import logging
from typing import Optional

from models.db import connected
from models.redis_client import REDIS_ERRORS
from models.tasks import (
    CANCELLED, FINAL_STATES, PENDING, RETRY, TaskRecord, isoformat, utcnow,
)

log = logging.getLogger(__name__)


class TaskNotFound(LookupError):
    """No task with that id, in Redis or in the database."""


class TaskAlreadyFinished(Exception):
    """The task reached a final state; it can no longer change."""

    def __init__(self, state: dict) -> None:
        super().__init__(f"task {state['task_id']} already ended in state {state['state']}")
        self.state = state


class StoreUnavailable(Exception):
    """Redis cannot be reached; nothing was enqueued or changed."""


class TaskLedger:
    """Creates, moves and reads tasks across the live store and the database."""

    def __init__(self, store) -> None:
        self.store = store

    def create(self, task_id: str, actor: str, arguments: dict, owner: Optional[int] = None) -> dict:
        """Record a new PENDING task (database first, then live state)."""
        state = {
            "task_id": task_id, "actor": actor, "arguments": arguments, "owner": owner,
            "state": PENDING, "progress": 0.0, "status": "Waiting for a worker",
            "eta_seconds": None, "result": None, "error": None, "attempts": 0,
            "created_at": isoformat(utcnow()), "started_at": None, "finished_at": None,
        }
        with connected():
            TaskRecord.write_state(state)
        try:
            self.store.put(task_id, {k: v for k, v in state.items() if k != "task_id"}, force=True)
        except REDIS_ERRORS as exc:
            self.forget(task_id)
            raise StoreUnavailable(str(exc)) from exc
        return state

    def forget(self, task_id: str) -> None:
        """Delete a task that never reached the queue."""
        with connected():
            TaskRecord.delete().where(TaskRecord.task_id == task_id).execute()

    def update(self, task_id: str, patch: dict, *, persist: bool, force: bool = False,
               with_state: bool = False, rising: str = "") -> tuple[bool, bool, Optional[dict]]:
        """Apply ``patch``; persist it to the database when asked (always when final).

        ``rising``: a field the patch may not lower (see ``TaskStore.put``).
        """
        applied, cancel, state = self.store.put(task_id, patch, force=force, with_state=with_state,
                                                rising=rising)
        if applied and (persist or patch.get("state") in FINAL_STATES):
            self.persist({**patch, "task_id": task_id})
        return applied, cancel, state

    def persist(self, state: dict) -> None:
        """Write a live state to the database."""
        with connected():
            TaskRecord.write_state(state)

    def get(self, task_id: str) -> dict:
        """The freshest state: Redis when it has it, else the database.

        A task whose end reached only the database (Redis was down when it
        finished) shows its final state from there, and Redis is repaired.
        """
        try:
            state = self.store.get(task_id)
        except REDIS_ERRORS as exc:
            log.warning("reading task %s from the database: Redis unavailable (%s)", task_id, exc)
            state = None
        if state and state.get("state") in FINAL_STATES:
            return state
        with connected():
            record = TaskRecord.get_or_none(TaskRecord.task_id == task_id)
        if record is None:
            if state:
                return state
            raise TaskNotFound(task_id)
        if state and record.state not in FINAL_STATES:
            return state
        stored = record.as_state()
        if state:
            # The worker writes Redis, then the database: Redis may have the end by now.
            try:
                fresh = self.store.get(task_id)
                if fresh and fresh.get("state") in FINAL_STATES:
                    return fresh
            except REDIS_ERRORS:
                pass
            try:
                self.store.put(task_id, {k: v for k, v in stored.items() if k != "task_id"}, force=True)
            except REDIS_ERRORS:
                pass
        return stored

    def add_children(self, parent_id: str, child_ids: list[str]) -> None:
        """Record tasks doing part of ``parent_id``'s work: cancelling the parent cancels them."""
        try:
            self.store.add_children(parent_id, child_ids)
        except REDIS_ERRORS as exc:
            raise StoreUnavailable(str(exc)) from exc

    def cancel(self, task_id: str) -> dict:
        """Ask a task to stop. A queued one ends CANCELLED now; a running one at its next report.

        A task that handed its work to child tasks (a parallel video job) ends
        CANCELLED now too, and every unfinished child is cancelled the same way.
        """
        state = self.get(task_id)
        if state["state"] in FINAL_STATES:
            raise TaskAlreadyFinished(state)
        try:
            self.store.request_cancel(task_id)
            children = self.store.children(task_id)
            if state["state"] in (PENDING, RETRY) or children:
                # The worker checks the flag before starting and skips the message; a
                # parent's own run is over (its children do the work).
                queued = state["state"] in (PENDING, RETRY)
                _, _, state = self.update(task_id, {
                    "state": CANCELLED, "status": "Cancelled before it started" if queued else "Cancelled",
                    "eta_seconds": None, "finished_at": isoformat(utcnow()),
                }, persist=True, with_state=True)
            else:
                _, _, state = self.update(task_id, {"status": "Cancelling…"}, persist=False, with_state=True)
            self.cancel_children(task_id)
        except REDIS_ERRORS as exc:
            raise StoreUnavailable(str(exc)) from exc
        return state

    def cancel_children(self, parent_id: str) -> None:
        """Cancel every unfinished child of ``parent_id`` (finished ones are left alone)."""
        for child in self.store.children(parent_id):
            try:
                self.cancel(child)
            except (TaskAlreadyFinished, TaskNotFound):
                pass
