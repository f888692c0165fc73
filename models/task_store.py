"""Live task state: one Redis hash per task, and one channel announcing changes.

Every write goes through one Lua script that merges the change, bumps a
``version``, refreshes the TTL and publishes the whole new state, so readers
(socket handlers in any web process) see changes in order and can drop stale
ones by version. A final state (SUCCESS, FAILURE, CANCELLED) is sticky: later
non-forced writes are refused, which keeps a slow progress report from
resurrecting a cancelled task.
"""
from __future__ import annotations

import json
import threading
import time
from typing import Iterator, Optional, Protocol

from models.tasks import FINAL_STATES

KEY_PREFIX = "pq:task:"
EVENTS_CHANNEL = "pq:task-events"

_FINAL = ",".join(json.dumps(s) for s in FINAL_STATES)

_UPDATE = """
local key, cancel_key = KEYS[1], KEYS[2]
local ttl, channel, force = tonumber(ARGV[1]), ARGV[2], ARGV[3] == '1'
local want_state = ARGV[5] == '1'
local rising = ARGV[6]
local cancel = redis.call('EXISTS', cancel_key)
if not force then
  local state = redis.call('HGET', key, 'state')
  if state and string.find(ARGV[4], state, 1, true) then
    if want_state then return {0, cancel, redis.call('HGETALL', key)} end
    return {0, cancel}
  end
end
if rising ~= '' then
  -- a field that must not go down (progress merged from several writers)
  local old = tonumber(redis.call('HGET', key, rising) or '')
  for i = 7, #ARGV, 2 do
    if ARGV[i] == rising and old and tonumber(ARGV[i + 1]) < old then
      if want_state then return {0, cancel, redis.call('HGETALL', key)} end
      return {0, cancel}
    end
  end
end
for i = 7, #ARGV, 2 do
  redis.call('HSET', key, ARGV[i], ARGV[i + 1])
end
redis.call('HINCRBY', key, 'version', 1)
local now = redis.call('TIME')
redis.call('HSET', key, 'updated_ts', string.format('%d.%06d', now[1], now[2]))
redis.call('EXPIRE', key, ttl)
local all = redis.call('HGETALL', key)
redis.call('PUBLISH', channel, cjson.encode(all))
if want_state then return {1, cancel, all} end
return {1, cancel}
"""


_REPORT_PART = """
local key, part, done = KEYS[1], ARGV[1], tonumber(ARGV[2])
redis.call('HSETNX', key, '~since', ARGV[3])
local old = tonumber(redis.call('HGET', key, part) or '0')
if done > old then redis.call('HSET', key, part, ARGV[2]) end
redis.call('EXPIRE', key, tonumber(ARGV[4]))
local total = 0
local all = redis.call('HGETALL', key)
for i = 1, #all, 2 do
  if all[i] ~= '~since' then total = total + tonumber(all[i + 1]) end
end
return {tostring(total), redis.call('HGET', key, '~since')}
"""


def _decode(flat: list) -> dict:
    """A HGETALL reply (flat list of JSON-encoded values) as a state dict."""
    state = {}
    for name, raw in zip(flat[0::2], flat[1::2]):
        state[name] = int(raw) if name == "version" else json.loads(raw)
    return state


class TaskStore(Protocol):
    """Where live task state is kept; Redis in every process, memory in unit tests."""

    def put(self, task_id: str, patch: dict, *, force: bool = False,
            with_state: bool = False, rising: str = "") -> tuple[bool, bool, Optional[dict]]:
        """Merge ``patch``; return (applied, cancel_requested, state after if ``with_state``).

        ``rising`` names a numeric field the patch may not lower (the patch
        is refused when it would): progress merged from several writers.
        """

    def get(self, task_id: str) -> Optional[dict]:
        """The current state, or None when Redis holds none."""

    def request_cancel(self, task_id: str) -> None:
        """Flag the task so its next progress report stops it."""

    def cancel_requested(self, task_id: str) -> bool:
        """Whether cancellation was asked for."""

    def add_children(self, parent_id: str, child_ids: list[str]) -> None:
        """Record tasks that do part of ``parent_id``'s work (cancelling it cancels them)."""

    def children(self, parent_id: str) -> list[str]:
        """The child tasks of ``parent_id``, in the order they were added."""

    def report_part(self, parent_id: str, part: str, done: float) -> tuple[float, float]:
        """Record that ``part`` of ``parent_id`` has reached ``done`` (a share of 0..1, never
        lowered); return (sum of every part's share, time the first part was reported)."""

    def ping(self) -> bool:
        """Whether the store answers."""


class RedisTaskStore:
    """The production store (see the module docstring for the layout)."""

    def __init__(self, client, *, ttl: int = 7 * 24 * 3600) -> None:
        self.client = client
        self.ttl = ttl
        self._update = client.register_script(_UPDATE)
        self._report_part = client.register_script(_REPORT_PART)

    @staticmethod
    def key(task_id: str) -> str:
        """The hash holding a task's state."""
        return KEY_PREFIX + task_id

    def put(self, task_id: str, patch: dict, *, force: bool = False,
            with_state: bool = False, rising: str = "") -> tuple[bool, bool, Optional[dict]]:
        args = [self.ttl, EVENTS_CHANNEL, "1" if force else "0", _FINAL, "1" if with_state else "0", rising]
        for name, value in patch.items():
            args += [name, json.dumps(value, separators=(",", ":"))]
        args += ["task_id", json.dumps(task_id)]
        reply = self._update(keys=[self.key(task_id), self.key(task_id) + ":cancel"], args=args)
        return bool(reply[0]), bool(reply[1]), _decode(reply[2]) if with_state else None

    def get(self, task_id: str) -> Optional[dict]:
        flat = self.client.hgetall(self.key(task_id))
        if not flat:
            return None
        return _decode([x for pair in flat.items() for x in pair])

    def request_cancel(self, task_id: str) -> None:
        self.client.set(self.key(task_id) + ":cancel", "1", ex=self.ttl)

    def cancel_requested(self, task_id: str) -> bool:
        return bool(self.client.exists(self.key(task_id) + ":cancel"))

    def add_children(self, parent_id: str, child_ids: list[str]) -> None:
        key = self.key(parent_id) + ":children"
        with self.client.pipeline() as pipe:
            pipe.rpush(key, *child_ids)
            pipe.expire(key, self.ttl)
            pipe.execute()

    def children(self, parent_id: str) -> list[str]:
        return [c.decode() if isinstance(c, bytes) else c
                for c in self.client.lrange(self.key(parent_id) + ":children", 0, -1)]

    def report_part(self, parent_id: str, part: str, done: float) -> tuple[float, float]:
        total, since = self._report_part(keys=[self.key(parent_id) + ":parts"],
                                         args=[part, repr(float(done)), repr(time.time()), self.ttl])
        return float(total), float(since)

    def ping(self) -> bool:
        return bool(self.client.ping())

    def open_events(self, pubsub_client):
        """A pub/sub connection subscribed to the events channel (connects now)."""
        pubsub = pubsub_client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(EVENTS_CHANNEL)
        return pubsub

    @staticmethod
    def iter_events(pubsub) -> Iterator[dict]:
        """Every state change announced on ``pubsub``, as state dicts (blocks)."""
        for message in pubsub.listen():
            if message.get("type") == "message":
                yield _decode(json.loads(message["data"]))


class MemoryTaskStore:
    """An in-process store with the same semantics, for small unit tests only."""

    def __init__(self) -> None:
        self._states: dict[str, dict] = {}
        self._cancel: set[str] = set()
        self._children: dict[str, list[str]] = {}
        self._parts: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()
        self.published: list[dict] = []

    def put(self, task_id: str, patch: dict, *, force: bool = False,
            with_state: bool = False, rising: str = "") -> tuple[bool, bool, Optional[dict]]:
        with self._lock:
            state = self._states.setdefault(task_id, {})
            cancel = task_id in self._cancel
            if not force and state.get("state") in FINAL_STATES:
                return False, cancel, dict(state) if with_state else None
            if rising and rising in patch and state.get(rising) is not None and patch[rising] < state[rising]:
                return False, cancel, dict(state) if with_state else None
            state.update(json.loads(json.dumps(patch)), task_id=task_id)
            state["version"] = state.get("version", 0) + 1
            self.published.append(dict(state))
            return True, cancel, dict(state) if with_state else None

    def get(self, task_id: str) -> Optional[dict]:
        with self._lock:
            state = self._states.get(task_id)
            return dict(state) if state else None

    def request_cancel(self, task_id: str) -> None:
        self._cancel.add(task_id)

    def cancel_requested(self, task_id: str) -> bool:
        return task_id in self._cancel

    def add_children(self, parent_id: str, child_ids: list[str]) -> None:
        self._children.setdefault(parent_id, []).extend(child_ids)

    def children(self, parent_id: str) -> list[str]:
        return list(self._children.get(parent_id, ()))

    def report_part(self, parent_id: str, part: str, done: float) -> tuple[float, float]:
        with self._lock:
            parts = self._parts.setdefault(parent_id, {"~since": time.time()})
            parts[part] = max(parts.get(part, 0.0), float(done))
            return sum(v for k, v in parts.items() if k != "~since"), parts["~since"]

    def ping(self) -> bool:
        return True
