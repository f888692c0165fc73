"""/ws/pose/ and /ws/holds/ relays against gunicorn+gevent with two workers."""
from __future__ import annotations

import json
import time

import pytest
import websocket

pytestmark = pytest.mark.e2e


def connect(web: str, path: str = "/ws/pose/", timeout: float = 10) -> websocket.WebSocket:
    return websocket.create_connection(web.replace("http://", "ws://") + path, timeout=timeout)


def settle(sockets, web) -> None:
    """Wait until a message from the first socket reaches the last (every socket has joined its room)."""
    probe = json.dumps({"type": "probe"})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        sockets[0].send(probe)
        sockets[-1].settimeout(0.3)
        try:
            while json.loads(sockets[-1].recv()).get("type") != "probe":
                pass
            break
        except websocket.WebSocketTimeoutException:
            continue
    for ws in sockets:  # drain probes
        ws.settimeout(0.3)
        try:
            while True:
                ws.recv()
        except websocket.WebSocketTimeoutException:
            pass
        ws.settimeout(10)


def test_every_message_reaches_every_other_client_on_the_path_across_processes_and_never_the_sender(web):
    clients = [connect(web) for _ in range(8)]  # two gunicorn workers: both get some
    other_path = connect(web, "/ws/holds/")
    settle(clients, web)
    for n, ws in enumerate(clients):
        ws.send(json.dumps({"type": "pose", "from": n}))
    for n, ws in enumerate(clients):
        got = sorted(json.loads(ws.recv())["from"] for _ in range(len(clients) - 1))
        assert got == [k for k in range(len(clients)) if k != n], n
        ws.settimeout(0.3)
        with pytest.raises(websocket.WebSocketTimeoutException):  # no echo, no duplicate
            ws.recv()
    other_path.settimeout(0.3)
    with pytest.raises(websocket.WebSocketTimeoutException):  # /ws/holds/ is another room
        other_path.recv()
    for ws in clients + [other_path]:
        ws.close()


def test_the_text_is_relayed_unchanged(web):
    a, b = connect(web, "/ws/holds/"), connect(web, "/ws/holds/")
    settle([a, b], web)
    text = '{"session": {"holds": [], "status": "started"},  "pose": [1.5e-3]}'
    a.send(text)
    assert b.recv() == text
    a.close(), b.close()


@pytest.mark.parametrize("raw, words", [
    ("not json", "JSON"),
    ("[1, 2]", "objects"),
    ('{"broken": ', "valid JSON"),
    ('{"pad": "' + "x" * 300_000 + '"}', "over the relay limit"),
])
def test_malformed_or_oversized_messages_get_an_error_and_are_not_relayed(web, raw, words):
    sender, reader = connect(web), connect(web)
    settle([sender, reader], web)
    sender.send(raw)
    error = json.loads(sender.recv())
    assert error["type"] == "error" and error["error"]["code"] == "bad_message" and words in error["message"]
    reader.settimeout(0.3)
    with pytest.raises(websocket.WebSocketTimeoutException):
        reader.recv()
    sender.send('{"ok": 1}')  # the socket stays open
    reader.settimeout(5)
    assert json.loads(reader.recv()) == {"ok": 1}
    sender.close(), reader.close()


def test_a_client_that_stops_reading_is_dropped_and_the_others_keep_up(web):
    sender, stalled, reader = connect(web), connect(web), connect(web)
    settle([sender, stalled, reader], web)
    payload = json.dumps({"type": "pose", "pad": "x" * 100_000})
    started = time.monotonic()
    for n in range(250):  # ~25 MB: far beyond socket buffers plus the 64-message queue
        sender.send(payload[:-1] + f', "n": {n}}}')
        assert json.loads(reader.recv())["n"] == n
    assert time.monotonic() - started < 45  # not held up for long by the stalled reader
    # The stalled client was disconnected: what it can still read ends in a close, well before 250 messages.
    stalled.settimeout(5)
    received = 0
    with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError)):
        while True:
            if not stalled.recv():
                raise websocket.WebSocketConnectionClosedException("closed")
            received += 1
    assert received < 250
    sender.close(), reader.close()
