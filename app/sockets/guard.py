"""Every socket route goes through here: refuse bad credentials or origins, cap sockets per user.

:func:`socket_route` replaces ``sock.route``. The handshake itself always
succeeds; a refused socket is then closed at once with an application close
code and a reason, which browsers and clients can show (an HTTP 401 during
the handshake reaches a browser's script as a bare "connection failed").
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from functools import wraps
from typing import Optional

from flask import current_app, g

from app.auth import CLOSE_TOO_MANY
from app.sockets import sock
from models.redis_client import REDIS_ERRORS, make_redis

log = logging.getLogger(__name__)

#: A socket's slot lasts this long unless its web process refreshes it: a crashed
#: process's sockets stop counting against their users after this many seconds.
SLOT_TTL = 90
_REFRESH_EVERY = 30

_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if tonumber(ARGV[3]) > 0 and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class SocketQuota:
    """Open sockets per user, counted in Redis across web processes."""

    def __init__(self, client, limit: int, ttl: int = SLOT_TTL) -> None:
        self.client, self.limit, self.ttl = client, limit, ttl
        self._acquire = client.register_script(_ACQUIRE)
        self._mine: dict[str, int] = {}  # slot -> user, for the refresher
        self._lock = threading.Lock()
        self._refresher: Optional[threading.Thread] = None

    @staticmethod
    def key(user_id: int) -> str:
        return f"pq:sockets:user:{user_id}"

    def acquire(self, user_id: int) -> Optional[str]:
        """A slot id, or None when the user already holds ``limit`` sockets. Fails open if Redis is down."""
        slot = uuid.uuid4().hex
        now = time.time()
        try:
            ok = self._acquire(keys=[self.key(user_id)], args=[now, now + self.ttl, self.limit, slot, self.ttl * 2])
        except REDIS_ERRORS:
            log.warning("socket quota not checked: Redis unavailable")
            return slot
        if not ok:
            return None
        with self._lock:
            self._mine[slot] = user_id
        self._ensure_refresher()
        return slot

    def release(self, user_id: int, slot: str) -> None:
        """Give the slot back."""
        with self._lock:
            self._mine.pop(slot, None)
        try:
            self.client.zrem(self.key(user_id), slot)
        except REDIS_ERRORS:
            pass  # it expires by itself

    def refresh(self) -> None:
        """Push back the expiry of every slot this process holds."""
        with self._lock:
            held = list(self._mine.items())
        if not held:
            return
        expiry = time.time() + self.ttl
        try:
            pipe = self.client.pipeline(transaction=False)
            for slot, user_id in held:
                pipe.zadd(self.key(user_id), {slot: expiry}, xx=True)
            pipe.execute()
        except REDIS_ERRORS:
            pass

    def _ensure_refresher(self) -> None:
        if self._refresher is not None:
            return
        with self._lock:
            if self._refresher is None:
                self._refresher = threading.Thread(target=self._refresh_forever, name="socket-quota", daemon=True)
                self._refresher.start()

    def _refresh_forever(self) -> None:
        while True:
            time.sleep(_REFRESH_EVERY)
            self.refresh()


_quota: Optional[SocketQuota] = None


def quota() -> SocketQuota:
    """This process's socket quota."""
    global _quota
    if _quota is None:
        config = current_app.config["POSEQUEUE"]
        _quota = SocketQuota(make_redis(config.effective_redis_url, timeout=config.redis_timeout),
                             config.max_sockets_per_user)
    return _quota


def socket_route(path: str, **options):
    """``sock.route`` with the handshake checks of :mod:`app.auth` and the per-user socket cap."""

    def decorator(handler):
        @wraps(handler)
        def guarded(ws, *args, **kwargs):
            refusal = g.get("socket_refusal")
            if refusal:
                ws.close(reason=refusal[0], message=refusal[1])
                return None
            principal = g.get("principal")
            config = current_app.config["POSEQUEUE"]
            if principal is None or principal.id is None or not config.max_sockets_per_user:
                return handler(ws, *args, **kwargs)
            slot = quota().acquire(principal.id)
            if slot is None:
                ws.close(reason=CLOSE_TOO_MANY, message=f"too many open sockets for {principal.name[:40]} "
                                                        f"(limit {config.max_sockets_per_user})")
                return None
            try:
                return handler(ws, *args, **kwargs)
            finally:
                quota().release(principal.id, slot)

        guarded.socket_guarded = True
        return sock.route(path, **options)(guarded)

    return decorator
