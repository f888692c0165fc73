"""N WebSocket subscribers in one gevent process; prints push latencies as JSON.

    python bench/ws_listeners.py WS_URL TASK_ID N

Greenlets rather than threads, so the client's own scheduling adds as little
as possible to what is measured. Each ``task_update`` status text carries the
wall-clock time at which the actor called ``progress()``.
"""
from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
import websocket  # noqa: E402


def listen(url: str, task_id: str, out: list, ready: list) -> None:
    ws = websocket.create_connection(url, timeout=120)
    ws.send(json.dumps({"action": "subscribe", "task_id": task_id}))
    ready.append(1)
    while True:
        message = json.loads(ws.recv())
        now = time.time()
        if message.get("type") != "task_update":
            break
        try:
            out.append((now - float(message["message"])) * 1000)
        except ValueError:
            pass
    ws.close()


def main() -> None:
    url, task_id, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    out: list = []
    ready: list = []
    jobs = [gevent.spawn(listen, url, task_id, out, ready) for _ in range(n)]
    while len(ready) < n:
        gevent.sleep(0.01)
    print("ready", flush=True)
    gevent.joinall(jobs)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
