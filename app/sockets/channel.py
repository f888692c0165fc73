"""One writer per socket: every outgoing message goes through a queue.

flask-sock sockets are not safe for two greenlets writing at once, and the
task hub delivers from its own greenlet, so each socket gets a sender that is
the only one to call ``ws.send``.
"""
from __future__ import annotations

import json
import logging
import queue
import threading
from typing import Optional

from app.metrics import OPEN_SOCKETS

log = logging.getLogger(__name__)

_CLOSE = object()


class SocketChannel:
    """Queue messages for one WebSocket and send them from one sender thread."""

    def __init__(self, ws, *, max_queue: int = 1000, path: str = "other") -> None:
        self.ws = ws
        self.path = path
        self._queue: "queue.Queue" = queue.Queue(maxsize=max_queue)
        self._sender: Optional[threading.Thread] = None
        self.closed = False
        #: Highest state version delivered per task, to drop stale or repeated states.
        self.versions: dict[str, int] = {}
        #: Tasks whose end this socket was sent.
        self.ended: set[str] = set()

    def start(self) -> "SocketChannel":
        """Start the sender."""
        self._sender = threading.Thread(target=self._run, name="ws-sender", daemon=True)
        self._sender.start()
        OPEN_SOCKETS.labels(self.path).inc()
        return self

    def send(self, message: dict | str) -> None:
        """Queue ``message`` (a dict, or JSON text already encoded); a client too slow
        to drain 1000 messages is disconnected."""
        if self.closed:
            return
        try:
            self._queue.put_nowait(message)
        except queue.Full:
            log.warning("closing a socket whose client does not read its messages")
            self.close()

    def _run(self) -> None:
        while True:
            message = self._queue.get()
            if message is _CLOSE:
                return
            try:
                self.ws.send(message if isinstance(message, str) else json.dumps(message, separators=(",", ":")))
            except Exception:  # the peer went away; the receive loop will notice too
                self.closed = True
                return

    def close(self) -> None:
        """Stop the sender after what is queued has been sent."""
        if self._sender is not None and not getattr(self, "_counted_out", False):
            self._counted_out = True
            OPEN_SOCKETS.labels(self.path).dec()
        if not self.closed:
            self.closed = True
            try:
                self._queue.put_nowait(_CLOSE)
            except queue.Full:
                pass

    def join(self, timeout: float = 1.0) -> None:
        """Wait for the sender to finish."""
        if self._sender:
            self._sender.join(timeout)
