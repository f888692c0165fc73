"""WebSocket routes (flask-sock)."""
from flask import Flask
from flask_sock import Sock

sock = Sock()


def init_app(app: Flask) -> None:
    """Configure flask-sock and register every socket route."""
    config = app.config["POSEQUEUE"]
    app.config["SOCK_SERVER_OPTIONS"] = {
        "ping_interval": config.ws_ping_interval or None,
        "max_message_size": config.ws_max_message_bytes,
        # simple-websocket reads 4 KB per recv by default: a 17 KB tracker output message took five
        # recv + select + wsproto passes. recv returns what is there, so a bigger size costs nothing idle.
        "receive_bytes": 65536,
    }
    # Routes must be declared before the first init_app so they land on
    # flask-sock's blueprint, which every app (tests build several) registers.
    from app.sockets import climbing, lingering, relay, tasks, workout  # noqa: F401

    lingering.install()
    sock.init_app(app)
