"""The tracker's output message, in the shape the earlier system's displays read.

::

    {"session": {"holds": [{"id": "hold_17", "type": "start", "status": "completed",
                            "time": "2025-…Z", "onRoute": true}, …],
                 "startTime": "…Z", "endTime": null, "status": "started"},
     "pose": [35 × {"x", "y", "z", "visibility"}],   # normalised wall coordinates
     "climb": {seed-001 climb object, route ids as the route names them},
     "touches": [touches confirmed by this message]}

``session.holds`` lists every wall hold by its SVG id (as the earlier
system's displays expect); holds not on the route have type ``normal``,
``onRoute: false``, and become ``completed`` when touched. With
``stream_svg_only`` only touched holds are listed, each with its path ``d``
(wall units, transforms applied). ``no_stream_landmarks`` sends ``pose: []``.
A message after :meth:`ClimbTracker.reset_holds` carries ``"reset": true``.
"""
from __future__ import annotations

import json
from typing import Optional

from motion.climbing.pose import WallPose
from motion.climbing.tracker import ClimbTracker, StepResult, TouchEvent
from motion.climbing.route import format_time


def session_holds(tracker: ClimbTracker, *, stream_svg_only: bool = False) -> list[dict]:
    """Every wall hold with its state (only touched ones, with paths, when ``stream_svg_only``)."""
    route = tracker.route
    out = []
    for hold in tracker.wall.holds:
        event = tracker.touched.get(hold.id)
        if stream_svg_only and event is None:
            continue
        kind = route.type_of(hold.id) if route else None
        item = {
            "id": hold.id,
            "type": kind or "normal",
            "status": "completed" if event else "untouched",
            "time": format_time(event.time) if event else None,
            "onRoute": kind is not None,
        }
        if stream_svg_only:
            item["d"] = hold.wall_d or hold.d
        out.append(item)
    return out


def touch_json(event: TouchEvent) -> dict:
    """One touch as JSON."""
    return {
        "id": event.hold_id,
        "hand": event.hand,
        "time": format_time(event.time),
        "confirmedAt": format_time(event.confirmed_at),
        "onRoute": event.on_route,
        "first": event.first,
    }


def build_session_message(
    tracker: ClimbTracker,
    result: Optional[StepResult] = None,
    *,
    no_stream_landmarks: bool = False,
    stream_svg_only: bool = False,
    reset: bool = False,
) -> dict:
    """The output-socket message for the tracker's current state (and the step's pose)."""
    climb = tracker.climb
    pose: Optional[WallPose] = result.pose if result is not None else None
    message = {
        "session": {
            "holds": session_holds(tracker, stream_svg_only=stream_svg_only),
            "startTime": climb["startTime"],
            "endTime": climb["endTime"],
            "status": climb["status"],
        },
        "pose": [] if no_stream_landmarks or pose is None else pose.landmarks_json(),
        "climb": {**climb, "holds": [dict(h) for h in climb["holds"]]},
        "touches": [touch_json(t) for t in (result.touches if result is not None else ())],
    }
    if reset:
        message["reset"] = True
    return message


_COMPACT = {"separators": (",", ":")}


class SessionMessageEncoder:
    """:func:`build_session_message` plus its JSON text, with the hold list built and encoded only when it changed.

    ``session.holds`` (every wall hold: ~75 bytes each, 15 KB for 200 holds)
    changes only when a hold is touched, the holds are reset or the route
    changes; the encoder keeps that list and its JSON text until then, and
    encodes the rest of the message (pose, climb, touches) per frame. The text
    is exactly ``json.dumps(message, separators=(",", ":"))``. The cached list is
    shared between messages: treat it as read-only.
    """

    def __init__(self, tracker: ClimbTracker, *, no_stream_landmarks: bool = False,
                 stream_svg_only: bool = False) -> None:
        self.tracker = tracker
        self.no_stream_landmarks = no_stream_landmarks
        self.stream_svg_only = stream_svg_only
        self._route = None
        self._touched: Optional[tuple] = None
        self._holds: list[dict] = []
        self._holds_json = "[]"
        self.hold_encodes = 0

    def _session_holds(self) -> tuple[list[dict], str]:
        tracker = self.tracker
        touched = tuple(tracker.touched.items())
        if tracker.route is not self._route or touched != self._touched:
            self._holds = session_holds(tracker, stream_svg_only=self.stream_svg_only)
            self._holds_json = json.dumps(self._holds, **_COMPACT)
            self._route, self._touched = tracker.route, touched
            self.hold_encodes += 1
        return self._holds, self._holds_json

    def encode(self, result: Optional[StepResult] = None, *, reset: bool = False,
               extra: Optional[dict] = None) -> tuple[dict, str]:
        """``(message, text)``: the message as :func:`build_session_message` makes it (plus ``extra`` fields)."""
        tracker = self.tracker
        climb = tracker.climb
        holds, holds_json = self._session_holds()
        pose: Optional[WallPose] = result.pose if result is not None else None
        session_rest = {"startTime": climb["startTime"], "endTime": climb["endTime"], "status": climb["status"]}
        rest = {
            "pose": [] if self.no_stream_landmarks or pose is None else pose.landmarks_json(),
            "climb": {**climb, "holds": [dict(h) for h in climb["holds"]]},
            "touches": [touch_json(t) for t in (result.touches if result is not None else ())],
        }
        if reset:
            rest["reset"] = True
        if extra:
            rest.update(extra)
        text = ('{"session":{"holds":' + holds_json + "," + json.dumps(session_rest, **_COMPACT)[1:] + ","
                + json.dumps(rest, **_COMPACT)[1:])
        return {"session": {"holds": holds, **session_rest}, **rest}, text
