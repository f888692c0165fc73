"""``/ws/session/<session_id>/``: replay a recorded session with the earlier system's protocol.

Client: ``play``, ``pause``, ``seek`` {frame_number}, ``set_speed`` {speed}.
Server: ``frame_data`` {frame_number, timestamp, pose_data} at the recorded
timing divided by the speed, ``climb_updated`` {climb} where the climb changed,
``replay_state`` after every command, ``replay_finished`` at the end, and
``error`` {message}. Commands act at once, also in the middle of playback.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Optional

from simple_websocket import ConnectionClosed

from app.errors import socket_error
from app.ownership import may_see_session
from app.sockets.guard import socket_route
from app.sockets.channel import SocketChannel
from app.sockets.climbing.hub import live_store
from models.climbing import RecordingFrame, Session, SessionRecording
from models.db import connected
from motion import jsontext

log = logging.getLogger(__name__)

CLOSE_NOT_FOUND = 4404
MAX_SPEED = 16.0
COMMANDS = ("play", "pause", "seek", "set_speed")


def parse(raw) -> dict:
    """A client command as a dict, or ValueError saying what is wrong."""
    try:
        msg = jsontext.loads(raw)
    except ValueError:
        raise ValueError('Messages must be JSON objects like {"type": "play"}.') from None
    if not isinstance(msg, dict):
        raise ValueError('Messages must be JSON objects like {"type": "play"}.')
    return msg


def load_timeline(session_id: str) -> Optional[tuple[Optional[int], list[dict]]]:
    """``(recording_id, entries)`` of the session's newest recording, else its live timeline; None if no session.

    Entries: ``{"frame_number", "timestamp", "kind", "data"}`` in time order.
    """
    with connected():
        session = Session.find(session_id)
        if session is None:
            return None
        recording = (SessionRecording.select().where(SessionRecording.session == session.id,
                                                     SessionRecording.frame_count > 0)
                     .order_by(SessionRecording.created_at.desc(), SessionRecording.id.desc()).first())
        if recording is not None:
            rows = (RecordingFrame.select().where(RecordingFrame.recording == recording.id)
                    .order_by(RecordingFrame.seq))
            return recording.id, [{"frame_number": r.frame_number, "timestamp": r.timestamp, "kind": r.kind,
                                   "data": r.data} for r in rows]
    raw = live_store().timeline(str(session.id))
    entries, frame = [], 0
    t0 = raw[0]["t"] if raw else 0.0
    for e in raw:
        entries.append({"frame_number": frame, "timestamp": round(e["t"] - t0, 4), "kind": e["kind"],
                        "data": e["data"]})
        frame += e["kind"] == "pose"
    return None, entries


@dataclass
class Player:
    """Playback position and timing; :meth:`step` sends what is due. One per socket."""

    entries: list[dict]
    send: callable
    speed: float = 1.0
    playing: bool = False
    index: int = 0
    _anchor_clock: float = 0.0
    _anchor_ts: float = 0.0
    frame_count: int = field(init=False)

    def __post_init__(self) -> None:
        self.frame_count = sum(1 for e in self.entries if e["kind"] == "pose")

    def _reanchor(self) -> None:
        self._anchor_clock = time.monotonic()
        self._anchor_ts = self.entries[self.index]["timestamp"] if self.index < len(self.entries) else 0.0

    def due_in(self) -> Optional[float]:
        """Seconds until the next entry is due (None: nothing to wait for)."""
        if not self.playing or self.index >= len(self.entries):
            return None
        due = self._anchor_clock + (self.entries[self.index]["timestamp"] - self._anchor_ts) / self.speed
        return max(0.0, due - time.monotonic())

    def step(self) -> None:
        """Send every entry that is due now."""
        while self.playing and self.index < len(self.entries) and self.due_in() == 0.0:
            self._send_entry(self.entries[self.index])
            self.index += 1
        if self.playing and self.index >= len(self.entries):
            self.playing = False
            self.send({"type": "replay_finished", "frame_count": self.frame_count})

    def _send_entry(self, e: dict) -> None:
        if e["kind"] == "pose":
            self.send({"type": "frame_data", "frame_number": e["frame_number"], "timestamp": e["timestamp"],
                       "pose_data": e["data"]})
        else:
            self.send({"type": "climb_updated", "climb": e["data"], "frame_number": e["frame_number"],
                       "timestamp": e["timestamp"]})

    def state(self) -> dict:
        """The ``replay_state`` message."""
        frame = self.entries[self.index]["frame_number"] if self.index < len(self.entries) else self.frame_count
        return {"type": "replay_state", "playing": self.playing, "speed": self.speed, "frame_number": frame,
                "frame_count": self.frame_count}

    def command(self, msg: dict) -> None:
        """Apply ``play`` / ``pause`` / ``seek`` / ``set_speed``; ValueError for bad ones."""
        action = msg.get("type", msg.get("action"))
        if action == "play":
            if self.index >= len(self.entries):
                self.index = 0
            self.playing = True
            self._reanchor()
        elif action == "pause":
            self.playing = False
        elif action == "set_speed":
            speed = msg.get("speed")
            if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not 0 < speed <= MAX_SPEED:
                raise ValueError(f"'speed' must be a number above 0 and at most {MAX_SPEED:g}.")
            self.speed = float(speed)
            self._reanchor()
        elif action == "seek":
            n = msg.get("frame_number")
            if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < max(self.frame_count, 1):
                raise ValueError(f"'frame_number' must be a whole number from 0 to {max(self.frame_count - 1, 0)}.")
            self._seek(n)
        else:
            raise ValueError(f"Unknown command {action!r}; expected one of {', '.join(COMMANDS)}.")
        self.send(self.state())

    def _seek(self, n: int) -> None:
        target = next((i for i, e in enumerate(self.entries) if e["kind"] == "pose" and e["frame_number"] >= n),
                      len(self.entries))
        climb = next((e for e in reversed(self.entries[:target]) if e["kind"] == "climb"), None)
        if climb is not None:
            self._send_entry(climb)
        self.index = target
        if target < len(self.entries):  # show the frame at once, also when paused
            self._send_entry(self.entries[target])
            self.index += 1
        self._reanchor()


@socket_route("/ws/session/<session_id>/", strict_slashes=False)
def session_replay_socket(ws, session_id: str):
    """Replay a recorded session: send play / pause / seek / set_speed; receive frame_data."""
    channel = SocketChannel(ws, path="/ws/session/").start()
    try:
        loaded = load_timeline(session_id) if may_see_session(session_id) else None
        if loaded is None or not loaded[1]:
            what = "No session" if loaded is None else "Nothing was recorded for session"
            channel.send(socket_error("not_found", f"{what} {session_id!r}.", session_id=session_id))
            channel.close()
            channel.join()
            ws.close(reason=CLOSE_NOT_FOUND, message="nothing to replay")
            return
        recording_id, entries = loaded
        player = Player(entries, channel.send)
        channel.send({"type": "replay_ready", "session_id": session_id, "recording": recording_id,
                      "frame_count": player.frame_count, "duration": entries[-1]["timestamp"]})
        while not channel.closed:
            raw = ws.receive(timeout=player.due_in())
            if raw is not None:
                try:
                    player.command(parse(raw))
                except ValueError as exc:
                    channel.send(socket_error("bad_message", str(exc)))
            player.step()
    except ConnectionClosed:
        pass
    except Exception:
        log.exception("replay of session %s failed", session_id)
        channel.send(socket_error("internal_error", "The replay stopped because of a server error."))
    finally:
        channel.close()
        channel.join()
