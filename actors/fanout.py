"""Fan out one task's work to a Dramatiq group of child tasks, and fan it back in.

The parent actor calls :func:`fan_out` and returns its :class:`Deferred`: no
worker thread waits for the children, so parents can never starve their own
children of threads. Each child is a task of its own (record, states,
progress) whose progress also moves the parent's (``actors.context.PartOf``).
When every part has succeeded, Dramatiq's group completion callback enqueues
the *join* message, itself a child; the :class:`FanIn` middleware ends the
parent with the join's result. A part that fails fails the parent with the
part's message and cancels the others; a cancelled parent cancels every
child (``TaskLedger.cancel``). Files of the parts live in one work folder,
removed when the join succeeds or the parent ends otherwise.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import dramatiq
from dramatiq.middleware import Middleware

from actors.context import Deferred
from actors.errors import TaskCancelled
from actors.middleware import error_message
from models.tasks import CANCELLED, FAILURE, FINAL_STATES, SUCCESS, isoformat, utcnow

log = logging.getLogger(__name__)

#: The parent's progress reserved for the join (the parts share the rest).
JOIN_SHARE = 0.03


@dataclass(frozen=True)
class Part:
    """One child message and how much of the parent's work it is (weights need not sum to 1)."""

    message: dramatiq.Message
    weight: float
    label: str


def fan_out(ledger, parent_id: str, parts: list[Part], join: dramatiq.Message, *, workdir: os.PathLike,
            status: str) -> Deferred:
    """Record and enqueue ``parts`` as a group whose completion enqueues ``join``; return the Deferred.

    Every child gets a task record (``arguments`` name the parent and the
    part), is registered as a child of ``parent_id`` (for cancellation) and
    carries its share of the parent's progress in its message options.
    """
    parent = ledger.get(parent_id)
    total = sum(p.weight for p in parts) or 1.0
    options = {"pq_parent": parent_id, "pq_workdir": os.fspath(workdir)}
    messages = []
    for k, part in enumerate(parts):
        messages.append(part.message.copy(options={
            **options, "pq_part": f"p{k}", "pq_share": (1 - JOIN_SHARE) * part.weight / total,
            "pq_status": status, "pq_label": part.label}))
    join = join.copy(options={**options, "pq_part": "join", "pq_share": JOIN_SHARE, "pq_completes": True,
                              "pq_status": f"{status}: joining", "pq_label": "Joining the parts"})
    for message, label in [*zip(messages, [p.label for p in parts]), (join, "join")]:
        ledger.create(message.message_id, message.actor_name, {"parent": parent_id, "part": label},
                      parent.get("owner"))
    ledger.add_children(parent_id, [m.message_id for m in [*messages, join]])
    Path(workdir).mkdir(parents=True, exist_ok=True)
    group = dramatiq.group(messages)
    group.add_completion_callback(join)
    try:
        group.run()
    except BaseException:
        ledger.cancel_children(parent_id)  # the parent fails; nothing it enqueued may run on
        raise
    return Deferred(status)


def discard_workdir(workdir: Optional[str]) -> None:
    """Remove the finished part files of a work folder, and the folder once it is empty.

    Hidden temp files (``.*``) belong to parts still writing; their writers
    remove them, and the last part to end removes the folder.
    """
    if not workdir or not os.path.isdir(workdir):
        return
    for name in os.listdir(workdir):
        if not name.startswith("."):
            Path(workdir, name).unlink(missing_ok=True)
    try:
        os.rmdir(workdir)
    except OSError:
        pass


class FanIn(Middleware):
    """Ends a parent task from its children's outcomes (see the module docstring).

    Must come before TaskLifecycle in the middleware list, so that its
    after_* hooks run once the child's own final state is written.
    """

    def __init__(self, ledger) -> None:
        self.ledger = ledger

    def after_skip_message(self, broker, message) -> None:
        # A child cancelled while queued: its parent has ended.
        if message.options.get("pq_parent"):
            self._end_if_dead(message)

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        opts = message.options
        parent_id = opts.get("pq_parent")
        if not parent_id:
            return
        if exception is None and opts.get("pq_completes"):
            applied, _, _ = self.ledger.update(parent_id, {
                "state": SUCCESS, "status": "Complete", "progress": 100.0, "result": result,
                "eta_seconds": None, "finished_at": isoformat(utcnow()),
            }, persist=True)
            if not applied:  # cancelled in the instant between the join's last report and now
                log.warning("parent %s ended before its join %s finished", parent_id, message.message_id)
            discard_workdir(opts.get("pq_workdir"))
        elif exception is None:
            self._end_if_dead(message)
        elif isinstance(exception, TaskCancelled):
            self._cancel_parent(parent_id)
            discard_workdir(opts.get("pq_workdir"))
        elif message.failed:  # no retry left: the whole job fails with this part's message
            limit = broker.get_actor(message.actor_name).options.get("time_limit")
            self.ledger.update(parent_id, {
                "state": FAILURE, "status": "Failed", "eta_seconds": None, "finished_at": isoformat(utcnow()),
                "error": f"{opts.get('pq_label', 'A part')} failed: {error_message(exception, limit)}",
            }, persist=True)
            self.ledger.cancel_children(parent_id)
            discard_workdir(opts.get("pq_workdir"))

    def _cancel_parent(self, parent_id: str) -> None:
        # A child cancelled on its own (or because the parent was): the job is cancelled.
        state = self.ledger.get(parent_id)
        if state["state"] not in FINAL_STATES:
            self.ledger.cancel(parent_id)

    def _end_if_dead(self, message) -> None:
        state = self.ledger.get(message.options["pq_parent"])
        if state["state"] in (FAILURE, CANCELLED):
            discard_workdir(message.options.get("pq_workdir"))
