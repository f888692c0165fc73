"""Live climbing sessions: current state in Redis, changes on one pub/sub channel, SQL as the record.

Layout:

- ``pq:session:<id>`` (hash): ``session`` and ``climb`` (JSON) and ``version``.
  Every change goes through one Lua script that writes the field, bumps the
  version and publishes the ready-to-send message, so every web process sees
  the changes of a session in one order and sockets can drop stale copies.
- ``pq:session-events`` (channel): ``{"type": "climb_updated", "session_id",
  "version", "climb": {…}}`` (or ``session_updated`` / ``pose_updated``),
  exactly the text sent to clients.
- ``pq:session:<id>:timeline`` (list): climb changes and pose frames (at most
  ``pose_rate`` per second) with their times, for replay; written to a
  :class:`~models.climbing.SessionRecording` when the session ends.

The SQL row is written after Redis on every session and climb change (never
for pose), guarded by ``version`` so a late write cannot undo a newer one;
when Redis has lost the state it is seeded again from SQL.
"""
from __future__ import annotations

import json
import time
from typing import Iterator, Optional

from models.climbing import (FINAL_SESSION_STATUSES, RecordingFrame, Session, SessionRecording)
from models.db import connected
from models.tasks import naive_utc, utcnow

KEY_PREFIX = "pq:session:"
EVENTS_CHANNEL = "pq:session-events"
MESSAGE_TYPES = {"session": "session_updated", "climb": "climb_updated", "pose": "pose_updated"}

# KEYS: state hash. ARGV: ttl, channel, field, value, message prefix (ends before the version).
_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
local v = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
redis.call('PUBLISH', ARGV[2], ARGV[5] .. v .. '}')
if ARGV[6] ~= '' then
  redis.call('RPUSH', KEYS[2], ARGV[6])
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[7]), -1)
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[1]))
end
return v
"""

# KEYS: state hash, pose tick key, timeline. ARGV: channel, message, tick ms, entry, max entries, ttl.
_POSE = """
redis.call('PUBLISH', ARGV[1], ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('SET', KEYS[2], '1', 'PX', tonumber(ARGV[3]), 'NX') then
  redis.call('RPUSH', KEYS[3], ARGV[4])
  redis.call('LTRIM', KEYS[3], -tonumber(ARGV[5]), -1)
  redis.call('EXPIRE', KEYS[3], tonumber(ARGV[6]))
  return 1
end
return 0
"""

# KEYS: state hash. ARGV: ttl, session, climb, version.
_SEED = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'session', ARGV[2], 'climb', ARGV[3], 'version', ARGV[4])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
"""


def _dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"))


class SessionNotFound(LookupError):
    """No session has this id."""


def message(kind: str, session_id: str, payload, version: Optional[int] = None) -> dict:
    """A live message: ``climb_updated`` carries ``climb``, ``session_updated`` ``session``, …"""
    out = {"type": MESSAGE_TYPES[kind], "session_id": session_id, kind: payload}
    if version is not None:
        out["version"] = version
    return out


class SessionLiveStore:
    """Live session state in Redis with SQL behind it (see the module docstring)."""

    def __init__(self, client, *, ttl: int = 24 * 3600, pose_rate: float = 10.0,
                 max_timeline: int = 100_000) -> None:
        self.client = client
        self.ttl = ttl
        self.pose_rate = pose_rate
        self.max_timeline = max_timeline
        self._update = client.register_script(_UPDATE)
        self._pose = client.register_script(_POSE)
        self._seed = client.register_script(_SEED)

    @staticmethod
    def key(session_id: str) -> str:
        """The hash holding a session's live state."""
        return KEY_PREFIX + session_id

    def timeline_key(self, session_id: str) -> str:
        """The list holding a session's recorded timeline."""
        return self.key(session_id) + ":timeline"

    # reading -----------------------------------------------------------------

    def state(self, session_id: str) -> dict:
        """``{"session", "climb", "version"}``, from Redis or (seeding Redis) from SQL.

        Raises:
            SessionNotFound: no such session.
        """
        raw = self.client.hgetall(self.key(session_id))
        if raw:
            return {"session": json.loads(raw["session"]), "climb": json.loads(raw["climb"]),
                    "version": int(raw["version"])}
        return self.seed(session_id)

    def seed(self, session_id: str) -> dict:
        """Load the session from SQL into Redis (unless Redis already has it); return the state."""
        with connected():
            record = Session.find(session_id)
        if record is None:
            raise SessionNotFound(session_id)
        session, climb = record.to_dict(climb=False), (record.climb_data or {}).get("climb") or {}
        self._seed(keys=[self.key(session_id)],
                   args=[self.ttl, _dumps(session), _dumps(climb), record.version])
        raw = self.client.hgetall(self.key(session_id))
        return {"session": json.loads(raw["session"]), "climb": json.loads(raw["climb"]),
                "version": int(raw["version"])}

    def snapshot_messages(self, session_id: str) -> list[dict]:
        """What a client that just connected is sent: the session, then the climb."""
        state = self.state(session_id)
        return [message("session", session_id, state["session"], state["version"]),
                message("climb", session_id, state["climb"], state["version"])]

    # writing -----------------------------------------------------------------

    def _write(self, session_id: str, kind: str, payload: dict, record: bool, extra: Optional[dict] = None) -> int:
        prefix = _dumps({**message(kind, session_id, payload), **(extra or {})})[:-1] + ',"version":'
        entry = _dumps({"t": time.time(), "kind": kind, "data": payload}) if record else ""
        for _ in range(2):
            version = self._update(keys=[self.key(session_id), self.timeline_key(session_id)],
                                   args=[self.ttl, EVENTS_CHANNEL, kind, _dumps(payload), prefix, entry,
                                         self.max_timeline])
            if version is not None:
                return int(version)
            self.seed(session_id)  # Redis lost it (restart, flush, TTL): reload and try again
        raise SessionNotFound(session_id)

    def update_climb(self, session_id: str, climb: dict, extra: Optional[dict] = None) -> int:
        """Replace the climb object: publish ``climb_updated`` (plus ``extra`` fields, e.g. ``reset``), record it,
        persist it; return the version."""
        version = self._write(session_id, "climb", climb, record=True, extra=extra)
        with connected():
            Session.update(climb_data={"climb": climb, "pose": []}, version=version,
                           updated_at=naive_utc(utcnow())).where(
                (Session.id == _uuid(session_id)) & (Session.version < version)).execute()
        return version

    def update_session(self, session_id: str, changes: dict) -> tuple[dict, int]:
        """Apply ``changes`` (status, end_time, start_time, route, user) to the session; publish and persist.

        Ending the session (completed/abandoned) sets its end time when none is
        given and writes the recorded timeline to a SessionRecording.
        """
        with connected():
            record = Session.find(session_id)
            if record is None:
                raise SessionNotFound(session_id)
            values = {name: naive_utc(value) if name in ("start_time", "end_time") else value
                      for name, value in changes.items()}
            ending = values.get("status") in FINAL_SESSION_STATUSES
            if ending and values.get("end_time", record.end_time) is None:
                values["end_time"] = naive_utc(utcnow())
            values["updated_at"] = naive_utc(utcnow())
            for name, value in values.items():
                setattr(record, name, value)
            session = record.to_dict(climb=False)
            # Only these columns: a climb change made meanwhile must not be overwritten.
            Session.update(**values).where(Session.id == record.id).execute()
        if ending:
            self.save_timeline(session_id)  # before the broadcast: whoever sees "completed" finds the recording
        version = self._write(session_id, "session", session, record=False)
        with connected():
            Session.update(version=version).where((Session.id == record.id) & (Session.version < version)).execute()
        return session, version

    def publish_pose(self, session_id: str, pose) -> bool:
        """Relay a pose to every watcher (not stored); record it when the timeline is due one."""
        entry = _dumps({"t": time.time(), "kind": "pose", "data": pose})
        tick_ms = max(1, int(900 / self.pose_rate))  # 10 % slack: a steady 10 Hz source keeps every frame
        return bool(self._pose(keys=[self.key(session_id), self.key(session_id) + ":pose-tick",
                                     self.timeline_key(session_id)],
                               args=[EVENTS_CHANNEL, _dumps(message("pose", session_id, pose)), tick_ms, entry,
                                     self.max_timeline, self.ttl]))

    def forget(self, session_id: str) -> None:
        """Drop a session's live state (it was deleted)."""
        self.client.delete(self.key(session_id), self.timeline_key(session_id), self.key(session_id) + ":pose-tick")

    # timeline ----------------------------------------------------------------

    def timeline(self, session_id: str) -> list[dict]:
        """The recorded timeline still in Redis: ``[{"t", "kind", "data"}]``."""
        return [json.loads(x) for x in self.client.lrange(self.timeline_key(session_id), 0, -1)]

    def save_timeline(self, session_id: str, *, name: str = "", description: str = "") -> Optional[SessionRecording]:
        """Move the timeline from Redis into a SessionRecording with its frames (None when empty)."""
        key = self.timeline_key(session_id)
        pipe = self.client.pipeline()
        pipe.lrange(key, 0, -1)
        pipe.delete(key)
        raw, _ = pipe.execute()
        if not raw:
            return None
        with connected():
            return save_recording(Session.find(session_id), [json.loads(x) for x in raw],
                                  name=name or "Live session timeline", description=description)

    # events ------------------------------------------------------------------

    def open_events(self, pubsub_client):
        """A pub/sub connection subscribed to the events channel (connects now)."""
        pubsub = pubsub_client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(EVENTS_CHANNEL)
        return pubsub

    @staticmethod
    def iter_events(pubsub) -> Iterator[str]:
        """The text of every live message on ``pubsub`` (blocks)."""
        for item in pubsub.listen():
            if item.get("type") == "message":
                yield item["data"]


def save_recording(session: Optional[Session], entries: list[dict], *, name: str = "",
                   description: str = "", video: Optional[str] = None) -> SessionRecording:
    """Store timeline ``entries`` (``{"t", "kind", "data"}``, time-ordered) as a recording with frames."""
    from datetime import datetime, timezone

    entries = sorted(entries, key=lambda e: e["t"])
    t0 = entries[0]["t"] if entries else time.time()
    t1 = entries[-1]["t"] if entries else t0
    poses = sum(1 for e in entries if e["kind"] == "pose")
    db = SessionRecording._meta.database
    with db.atomic():
        recording = SessionRecording.create(
            session=session, name=name, description=description, video=video, owner=session.owner,
            start_time=naive_utc(datetime.fromtimestamp(t0, timezone.utc)),
            end_time=naive_utc(datetime.fromtimestamp(t1, timezone.utc)),
            frame_count=poses, duration=round(t1 - t0, 3))
        rows, frame = [], 0
        for seq, e in enumerate(entries):
            rows.append({"recording": recording.id, "seq": seq, "frame_number": frame,
                         "timestamp": round(e["t"] - t0, 4), "kind": e["kind"], "data": e["data"]})
            if e["kind"] == "pose":
                frame += 1
        for start in range(0, len(rows), 500):
            RecordingFrame.insert_many(rows[start:start + 500]).execute()
    return recording


def _uuid(session_id):
    import uuid

    return uuid.UUID(str(session_id))
