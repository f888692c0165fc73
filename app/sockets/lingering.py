"""A WebSocket server connection that lets its own close frame arrive.

When simple-websocket refuses a message over ``max_message_size`` it sends a
close frame (1009, "Message is too big") and closes the TCP socket at once.
The client is usually still sending the rest of that message, and a socket
closed with unread data answers with a TCP reset, which discards the close
frame on the client's side: the client sees a dropped connection, not the
reason. :class:`LingeringServer` reads and discards what the client still
sends, for a moment and up to a byte budget, so the close frame is read first.
"""
from __future__ import annotations

import socket
import time

import flask_sock
import simple_websocket
from wsproto.connection import ConnectionState

#: How long, and how many bytes, a closing connection keeps reading.
LINGER_SECONDS = 2.0
LINGER_BYTES = 64 << 20


class LingeringServer(simple_websocket.Server):
    """simple-websocket's server, lingering after a close it started."""

    def _handle_events(self):
        keep_going = super()._handle_events()
        if not keep_going and self.ws.state is ConnectionState.LOCAL_CLOSING:
            self._linger()
        return keep_going

    def _linger(self) -> None:
        """Half-close, then read until the client closes, the time runs out or the budget is spent."""
        deadline, left = time.monotonic() + LINGER_SECONDS, LINGER_BYTES
        try:
            self.sock.shutdown(socket.SHUT_WR)
            while left > 0 and (remaining := deadline - time.monotonic()) > 0:
                self.sock.settimeout(remaining)
                data = self.sock.recv(65536)
                if not data:
                    return
                left -= len(data)
        except OSError:  # timeout, reset, already closed: the socket closes right after anyway
            pass


def install() -> None:
    """Make flask-sock build :class:`LingeringServer` connections (it looks ``Server`` up when a socket opens)."""
    if not hasattr(flask_sock, "Server"):
        raise RuntimeError("flask_sock.Server is gone: re-check app/sockets/lingering.py against flask-sock")
    flask_sock.Server = LingeringServer
