"""``/ws/tasks/``: follow tasks live (seed 002), and cancel them."""
from __future__ import annotations

from flask import current_app, g
from simple_websocket import ConnectionClosed

from actors import ledger
from app.errors import socket_error
from app.sockets.channel import SocketChannel
from app.sockets.guard import socket_route
from app.sockets.task_hub import TaskHub, deliver
from models.task_state import StoreUnavailable, TaskAlreadyFinished, TaskNotFound
from motion import jsontext

_hub: TaskHub | None = None

ACTIONS = ("subscribe", "unsubscribe", "cancel")


def hub() -> TaskHub:
    """This process's task hub."""
    global _hub
    if _hub is None:
        config = current_app.config["POSEQUEUE"]
        _hub = TaskHub(ledger, config.effective_redis_url, timeout=config.redis_timeout)
    return _hub


def parse_action(raw) -> tuple[str, str]:
    """``(action, task_id)`` from a client message, or ValueError saying what is wrong."""
    try:
        message = jsontext.loads(raw)
    except ValueError:
        raise ValueError("Messages must be JSON objects like {\"action\": \"subscribe\", \"task_id\": \"…\"}.")
    if not isinstance(message, dict):
        raise ValueError("Messages must be JSON objects, not " + type(message).__name__ + ".")
    action = message.get("action")
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}; expected one of {', '.join(ACTIONS)}.")
    task_id = message.get("task_id")
    if not isinstance(task_id, str) or not task_id or len(task_id) > 64:
        raise ValueError("'task_id' must be a non-empty string of at most 64 characters.")
    return action, task_id


def _may_follow(task_id: str) -> bool:
    """Whether the caller may follow or cancel ``task_id``; another user's task is "not found"."""
    principal = g.principal
    if principal.is_admin:
        return True
    try:
        return principal.can_see(ledger.get(task_id).get("owner"))
    except TaskNotFound:
        return False


def handle(channel: SocketChannel, action: str, task_id: str) -> None:
    """Carry out one client action, answering on ``channel``."""
    tasks = hub()
    if action == "unsubscribe":
        tasks.unsubscribe(task_id, channel)
        channel.send({"type": "unsubscribed", "task_id": task_id})
        return
    if not _may_follow(task_id):
        channel.send(socket_error("not_found", f"No task with id {task_id!r}.", task_id=task_id))
        return
    if action == "cancel":
        try:
            state = ledger.cancel(task_id)
        except TaskNotFound:
            channel.send(socket_error("not_found", f"No task with id {task_id!r}.", task_id=task_id))
        except TaskAlreadyFinished as exc:
            channel.send(socket_error("already_finished", f"The task already ended ({exc.state['state']}).",
                                      task_id=task_id))
        except StoreUnavailable:
            channel.send(socket_error("queue_unavailable", "Cannot reach Redis to cancel; try again.",
                                      task_id=task_id))
        else:
            deliver(channel, state)
        return
    # Subscribe first, then read: a change made in between arrives as an event
    # and the version check drops whichever copy is older.
    tasks.subscribe(task_id, channel)
    try:
        state = ledger.get(task_id)
    except TaskNotFound:
        tasks.unsubscribe(task_id, channel)
        channel.send(socket_error("not_found", f"No task with id {task_id!r}.", task_id=task_id))
        return
    deliver(channel, state)


@socket_route("/ws/tasks/", strict_slashes=False)
def tasks_socket(ws):
    """Follow tasks: subscribe / unsubscribe / cancel; get task_update, task_complete, task_error."""
    channel = SocketChannel(ws, path="/ws/tasks/").start()
    tasks = hub()
    tasks.ensure_running()
    try:
        while not channel.closed:
            raw = ws.receive()
            try:
                action, task_id = parse_action(raw)
            except ValueError as exc:
                channel.send(socket_error("bad_message", str(exc)))
                continue
            handle(channel, action, task_id)
    except ConnectionClosed:
        pass
    finally:
        tasks.drop(channel)
        channel.close()
        channel.join()
