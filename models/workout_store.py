"""Live workout connections in Redis: a newest-frame slot, one job in flight, the session state.

Each ``/ws/workout/`` connection has an id and these keys (all expire after
``ttl`` seconds of silence):

* ``pq:wo:<id>`` hash: ``epoch`` (bumped by reset), ``reply`` (the pub/sub
  channel of the web process holding the socket), ``dropped`` (frames
  overwritten in the slot since the last analysis);
* ``pq:wo:<id>:frame`` hash: the one waiting frame (``seq``, ``t``, ``data``);
  a newer frame overwrites it: under overload the newest frame wins;
* ``pq:wo:<id>:busy``: set while one analysis job of the connection is queued
  or running (expires after ``busy_ms``, so a killed worker cannot wedge the
  connection); frames of one connection are thus analysed one at a time, in
  order, by whichever worker takes the job;
* ``pq:wo:<id>:state``: the ``WorkoutSession`` JSON and the last analysed seq;
* ``pq:wo:<id>:summary``: the seed-003 summary after the last analysed frame.

Every transition is one Lua script, so web processes and workers never see a
half-made change. A result is published only if the connection's epoch is
still the one its frame was taken in: a reset discards in-flight work.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterator, Optional

PREFIX = "pq:wo:"
REPLY_PREFIX = "pq:wo-reply:"

_OFFER = """
local meta, frame, busy = KEYS[1], KEYS[2], KEYS[3]
local ttl, busy_ms = tonumber(ARGV[5]), tonumber(ARGV[6])
local replaced = redis.call('EXISTS', frame)
if replaced == 1 then redis.call('HINCRBY', meta, 'dropped', 1) end
redis.call('HSET', meta, 'reply', ARGV[4])
redis.call('HSETNX', meta, 'epoch', 0)
redis.call('EXPIRE', meta, ttl)
redis.call('HSET', frame, 'seq', ARGV[1], 't', ARGV[2], 'data', ARGV[3])
redis.call('EXPIRE', frame, ttl)
local start = redis.call('SET', busy, '1', 'NX', 'PX', busy_ms)
return {start and 1 or 0, replaced}
"""

_TAKE = """
local meta, frame, busy, state = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local f = redis.call('HMGET', frame, 'seq', 't', 'data')
if not f[1] then return false end
redis.call('DEL', frame)
redis.call('PEXPIRE', busy, tonumber(ARGV[1]))
local dropped = redis.call('HGET', meta, 'dropped') or '0'
redis.call('HSET', meta, 'dropped', 0)
return {f[1], f[2], f[3], dropped, redis.call('HGET', meta, 'epoch') or '0', redis.call('GET', state) or ''}
"""

_FINISH = """
local meta, state, summary = KEYS[1], KEYS[2], KEYS[3]
if (redis.call('HGET', meta, 'epoch') or '0') ~= ARGV[1] then return 0 end
local ttl = tonumber(ARGV[5])
if ARGV[2] ~= '' then
  redis.call('SET', state, ARGV[2], 'EX', ttl)
  redis.call('SET', summary, ARGV[3], 'EX', ttl)
end
local reply = redis.call('HGET', meta, 'reply')
if reply then redis.call('PUBLISH', reply, ARGV[4]) end
return 1
"""

_RELEASE = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[1]))
  return 1
end
redis.call('DEL', KEYS[2])
return 0
"""

_RESET = """
local meta = KEYS[1]
local epoch = redis.call('HINCRBY', meta, 'epoch', 1)
redis.call('HSET', meta, 'dropped', 0)
redis.call('EXPIRE', meta, tonumber(ARGV[1]))
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
return epoch
"""


@dataclass
class FrameJob:
    """One waiting frame, taken by a worker, with what it needs to analyse it."""

    connection_id: str
    seq: int
    t: float
    data: str            # the image, base64 (as the client sent it, without the data-URL prefix)
    dropped: int         # frames overwritten since the previous analysis
    epoch: int
    state: Optional[dict]  # {"session": WorkoutSession.to_dict(), "seq": last analysed seq} or None


def encode_reply(connection_id: str, epoch: int, seq: int, message_json: str) -> str:
    """A result as published to the web process: routing header, then the socket message text."""
    return f"{connection_id}|{epoch}|{seq}|{message_json}"


def decode_reply(raw: str) -> tuple[str, int, int, str]:
    """``(connection_id, epoch, seq, message_json)`` from :func:`encode_reply` text."""
    connection_id, epoch, seq, text = raw.split("|", 3)
    return connection_id, int(epoch), int(seq), text


class WorkoutStore:
    """The Redis side of live workout analysis (see the module docstring)."""

    def __init__(self, client, *, ttl: int = 3600, busy_ms: int = 15_000) -> None:
        self.client = client
        self.ttl = ttl
        self.busy_ms = busy_ms
        self._offer = client.register_script(_OFFER)
        self._take = client.register_script(_TAKE)
        self._finish = client.register_script(_FINISH)
        self._release = client.register_script(_RELEASE)
        self._reset = client.register_script(_RESET)

    @staticmethod
    def _keys(cid: str) -> dict[str, str]:
        base = PREFIX + cid
        return {"meta": base, "frame": base + ":frame", "busy": base + ":busy",
                "state": base + ":state", "summary": base + ":summary"}

    # -- web side ------------------------------------------------------------------------------
    def offer(self, cid: str, seq: int, t: float, data: str, reply: str) -> tuple[bool, bool]:
        """Put a frame in the connection's slot.

        Returns ``(start_job, replaced)``: ``start_job`` when no job of this
        connection is queued or running, so the caller must enqueue one;
        ``replaced`` when an unanalysed frame was overwritten (it counts as dropped).
        """
        k = self._keys(cid)
        start, replaced = self._offer(keys=[k["meta"], k["frame"], k["busy"]],
                                      args=[seq, repr(float(t)), data, reply, self.ttl, self.busy_ms])
        return bool(start), bool(replaced)

    def abandon(self, cid: str) -> None:
        """Clear the busy flag after a failed enqueue, so the next frame tries again."""
        self.client.delete(self._keys(cid)["busy"])

    def reset(self, cid: str) -> int:
        """Start the connection's session afresh; returns the new epoch. In-flight results are discarded."""
        k = self._keys(cid)
        return int(self._reset(keys=[k["meta"], k["frame"], k["state"], k["summary"]], args=[self.ttl]))

    def summary(self, cid: str) -> Optional[dict]:
        """The summary after the last analysed frame, or None before any."""
        raw = self.client.get(self._keys(cid)["summary"])
        return json.loads(raw) if raw else None

    def pending_dropped(self, cid: str) -> int:
        """Frames dropped since the last analysis (not yet in the session state)."""
        return int(self.client.hget(self._keys(cid)["meta"], "dropped") or 0)

    def forget(self, cid: str) -> None:
        """Delete a closed connection's state; a job still in flight then publishes and saves nothing."""
        k = self._keys(cid)
        pipe = self.client.pipeline()
        pipe.hset(k["meta"], "epoch", "closed")
        pipe.expire(k["meta"], 60)
        pipe.delete(k["frame"], k["state"], k["summary"])
        pipe.execute()

    # -- worker side ---------------------------------------------------------------------------
    def take(self, cid: str) -> Optional[FrameJob]:
        """Take the waiting frame (and the session state), or None when the slot is empty."""
        k = self._keys(cid)
        row = self._take(keys=[k["meta"], k["frame"], k["busy"], k["state"]], args=[self.busy_ms])
        if not row:
            return None
        seq, t, data, dropped, epoch, state = row
        return FrameJob(cid, int(seq), float(t), data, int(dropped), int(epoch), json.loads(state) if state else None)

    def finish(self, job: FrameJob, message_json: str, *, state: Optional[dict] = None,
               summary: Optional[dict] = None) -> bool:
        """Save the new state (if given) and publish ``message_json`` to the socket's web process.

        Returns False (and changes nothing) when the connection was reset since ``job`` was taken.
        """
        k = self._keys(job.connection_id)
        state_json = "" if state is None else json.dumps(state, separators=(",", ":"))
        summary_json = "" if summary is None else json.dumps(summary, separators=(",", ":"))
        return bool(self._finish(keys=[k["meta"], k["state"], k["summary"]],
                                 args=[job.epoch, state_json, summary_json,
                                       encode_reply(job.connection_id, job.epoch, job.seq, message_json),
                                       self.ttl]))

    def release(self, cid: str) -> bool:
        """End this job; True when a newer frame is waiting, so the caller must enqueue another job."""
        k = self._keys(cid)
        return bool(self._release(keys=[k["frame"], k["busy"]], args=[self.busy_ms]))

    # -- results -------------------------------------------------------------------------------
    @staticmethod
    def open_replies(client, channel: str):
        """A pub/sub subscribed to ``channel`` (a web process's reply channel)."""
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(channel)
        return pubsub

    @staticmethod
    def iter_replies(pubsub) -> Iterator[tuple[str, int, int, str]]:
        """Decoded replies from :meth:`open_replies`, until the connection fails."""
        for item in pubsub.listen():
            if item.get("type") == "message":
                yield decode_reply(item["data"])
