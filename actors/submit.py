"""The one way jobs are enqueued: record, send, and name an outage clearly."""
from __future__ import annotations

import logging
from typing import Any, Optional

from actors.errors import QueueUnavailable
from models.redis_client import REDIS_ERRORS
from models.task_state import StoreUnavailable

log = logging.getLogger(__name__)


def _broker_errors() -> tuple:
    errors = REDIS_ERRORS
    try:  # RabbitMQ is optional
        import pika.exceptions

        errors += (pika.exceptions.AMQPError,)
    except ImportError:
        pass
    from dramatiq.errors import ConnectionError as DramatiqConnectionError

    return errors + (DramatiqConnectionError,)


def submit(actor, *args: Any, owner: Optional[int] = None, display_args: Optional[dict] = None, **kwargs: Any) -> dict:
    """Create the task record and enqueue ``actor(*args, **kwargs)``; return its PENDING state.

    Raises QueueUnavailable (nothing recorded, nothing queued) when Redis or
    the broker cannot be reached.
    """
    from actors import ledger

    message = actor.message(*args, **kwargs)
    shown = display_args if display_args is not None else {"args": list(args), "kwargs": kwargs}
    try:
        state = ledger.create(message.message_id, actor.actor_name, shown, owner)
    except StoreUnavailable as exc:
        raise QueueUnavailable("The job queue is unavailable (Redis cannot be reached); try again shortly.") from exc
    try:
        actor.broker.enqueue(message)
    except _broker_errors() as exc:
        log.error("enqueue of %s failed: %s", actor.actor_name, exc)
        ledger.forget(message.message_id)
        try:
            ledger.store.client.delete(ledger.store.key(message.message_id))
        except REDIS_ERRORS:
            pass
        raise QueueUnavailable("The job queue is unavailable (the broker cannot be reached); try again shortly.") from exc
    return state


def run_inline(actor, *args: Any, **kwargs: Any) -> Any:
    """Run the actor's function in this process (SYNC_FALLBACK, ``?sync=1``)."""
    return actor.fn(*args, **kwargs)
