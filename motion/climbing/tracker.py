"""The climb tracker: pose messages in, hold touches and route progress out.

One :meth:`ClimbTracker.step` per pose message; everything runs on *message*
time (the camera's timestamps), so a replay or a delayed link gives the same
answer as the live stream.

Touch rules:

* a hand is *near* a hold when its hand point is within
  ``proximity_threshold`` wall units of the hold's shape (0 inside); it stays
  near until it is farther than ``proximity_threshold * (1 + hysteresis)``,
  so jitter at the edge neither ends a contact nor starts a new one;
* a hold is in *contact* while any hand is near it; a hidden hand keeps its
  contacts for ``hidden_hand_grace`` seconds (a camera dropout is not a
  release) but cannot confirm a touch;
* a contact becomes a *touch* once it has lasted ``touch_duration`` seconds
  and a visible hand is still near; the touch's time is when the contact
  began. A contact gives at most one touch.

Route rules: a route hold goes ``untouched`` → ``completed`` (with the time of
its first touch); holds off the route are reported as touched without
changing the route. The session goes ``started`` → ``completed`` when every
finish hold is touched, or → ``abandoned`` when nobody has been seen for
``abandon_after`` seconds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Mapping, Optional, Union


from motion.climbing.calibration import Calibration
from motion.climbing.hold_index import HoldIndex
from motion.climbing.holds import Wall
from motion.climbing.pose import (
    DEFAULT_VISIBILITY_THRESHOLD,
    HAND_NAMES,
    WallPose,
    parse_pose_message,
    pose_on_wall,
)
from motion.climbing.route import Route, format_time, new_climb, parse_route, parse_time
from motion.errors import InvalidInput, MotionError

STARTED, COMPLETED, ABANDONED = "started", "completed", "abandoned"
_EPS = 1e-9


@dataclass(frozen=True)
class TrackerParameters:
    """Everything that tunes the tracker; seed-000 defaults."""

    proximity_threshold: float = 300.0
    touch_duration: float = 0.5
    hysteresis: float = 0.2
    visibility_threshold: float = DEFAULT_VISIBILITY_THRESHOLD
    abandon_after: float = 60.0
    hidden_hand_grace: float = 1.0
    min_visible_landmarks: int = 3
    hand_extension_percent: Optional[float] = None  # None: the calibration's

    def __post_init__(self) -> None:
        checks = {
            "proximity_threshold": self.proximity_threshold > 0,
            "touch_duration": self.touch_duration >= 0,
            "hysteresis": self.hysteresis >= 0,
            "visibility_threshold": 0 <= self.visibility_threshold <= 1,
            "abandon_after": self.abandon_after > 0,
            "hidden_hand_grace": self.hidden_hand_grace >= 0,
        }
        for name, ok in checks.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not ok:
                raise InvalidInput(f"Tracker parameter {name} has an unusable value {value!r}.")

    @property
    def leave_distance(self) -> float:
        """Distance beyond which a near hand stops being near."""
        return self.proximity_threshold * (1.0 + self.hysteresis)


@dataclass(frozen=True)
class TouchEvent:
    """A confirmed touch: which hold, by which hand, when it began and when it was confirmed."""

    hold_id: str
    hand: str
    time: float
    confirmed_at: float
    on_route: bool
    first: bool


@dataclass(frozen=True)
class StepResult:
    """What one message did to the tracker."""

    accepted: bool
    reason: Optional[str] = None          # "malformed" | "out_of_order" when not accepted
    error: Optional[str] = None
    timestamp: Optional[float] = None
    pose: Optional[WallPose] = None
    touches: tuple[TouchEvent, ...] = ()
    status: str = STARTED
    status_changed: bool = False

    @property
    def climb_changed(self) -> bool:
        """True when the climb object (hold states or session status) changed."""
        return self.status_changed or any(t.first and t.on_route for t in self.touches)


@dataclass
class _Counters:
    messages: int = 0
    accepted: int = 0
    malformed: int = 0
    out_of_order: int = 0
    no_person: int = 0
    touches: int = 0


class ClimbTracker:
    """The climbing session state machine, stepped one pose message at a time."""

    def __init__(
        self,
        wall: Wall,
        calibration: Calibration,
        route: Union[None, Route, Mapping[str, Any], str] = None,
        parameters: Optional[TrackerParameters] = None,
        *,
        start_time: Optional[float] = None,
        index: Optional[HoldIndex] = None,
    ) -> None:
        self.wall = wall
        self.calibration = calibration
        self.parameters = parameters or TrackerParameters()
        self.index = index or HoldIndex.for_wall(wall)
        self.route: Optional[Route] = self._as_route(route)
        self._pending: dict[str, Any] = {}
        self.counters = _Counters()
        self._start_time = start_time
        self._last_timestamp: Optional[float] = None
        self._first_timestamp: Optional[float] = None
        self._reset_state()

    # -- public API ---------------------------------------------------------

    def step(self, message: Union[str, bytes, Mapping[str, Any]], arrival_time: Optional[float] = None) -> StepResult:
        """Process one pose message; never raises for bad messages (they are counted)."""
        self.counters.messages += 1
        try:
            frame = parse_pose_message(message, fallback_size=self.calibration.image_size, arrival_time=arrival_time)
        except MotionError as exc:
            self.counters.malformed += 1
            return StepResult(False, "malformed", str(exc), status=self.status)
        t = frame.timestamp
        if self._last_timestamp is not None and t < self._last_timestamp:
            self.counters.out_of_order += 1
            return StepResult(False, "out_of_order",
                              f"Message time {t:.3f} is older than the last accepted {self._last_timestamp:.3f}.",
                              timestamp=t, status=self.status)
        self._apply_pending()
        self.counters.accepted += 1
        self._last_timestamp = t
        if self._first_timestamp is None:
            self._first_timestamp = t
        if self._start_time is None:
            self._start_time = t
            self.climb["startTime"] = format_time(t)
        if self._last_person is None:
            self._last_person = t

        p = self.parameters
        pose = pose_on_wall(frame, self.calibration, self.wall, extension_percent=p.hand_extension_percent,
                            visibility_threshold=p.visibility_threshold)
        seen = int((frame.landmarks[:, 3] >= p.visibility_threshold).sum()) if frame.has_person else 0
        person = seen >= p.min_visible_landmarks
        if person:
            self._last_person = t
        else:
            self.counters.no_person += 1
        if self.status != STARTED:
            return StepResult(True, timestamp=t, pose=pose, status=self.status)

        touches = self._update_contacts(t, pose)
        status_changed = False
        finish = self.route.finish_wall_ids if self.route else frozenset()
        if finish and finish <= self.touched.keys():
            status_changed = self._finish(COMPLETED, t)
        elif t - self._last_person >= p.abandon_after:
            status_changed = self._finish(ABANDONED, t)
        return StepResult(True, timestamp=t, pose=pose, touches=tuple(touches),
                          status=self.status, status_changed=status_changed)

    def idle(self, now: float) -> bool:
        """Check abandonment when no message came; ``now`` is on the message clock (s). True if abandoned now."""
        if self.status != STARTED or self._last_person is None:
            return False
        if now - self._last_person >= self.parameters.abandon_after:
            return self._finish(ABANDONED, now)
        return False

    def resume(self, saved: Any) -> int:
        """Carry over what an earlier run on the same route saved: its start time and completed holds.

        A tracker started again on a session (after a failure, or a stop)
        goes on from the saved climb instead of writing every hold back to
        untouched. ``saved`` is the session's climb object; holds are matched
        by their route ids and need a valid time. Returns how many were restored.
        """
        if not self.route or not isinstance(saved, Mapping) or self.counters.accepted:
            return 0
        done = {h.get("id"): parse_time(h.get("time")) for h in saved.get("holds") or ()
                if isinstance(h, Mapping) and h.get("status") == "completed"}
        if not any(t is not None for t in done.values()):
            return 0  # nothing was climbed yet: the climb starts with the first message, as usual
        start = parse_time(saved.get("startTime"))
        if start is not None and self._start_time is None:
            self._start_time = start
            self.climb["startTime"] = format_time(start)
        restored = 0
        for entry, hold in zip(self.climb["holds"], self.route.holds):
            t = done.get(entry["id"])
            wall_id = hold.wall_id or hold.id
            if t is not None and wall_id not in self.touched:
                self._mark(wall_id, TouchEvent(wall_id, "restored", t, t, True, True))
                restored += 1
        return restored

    def reset_holds(self) -> dict:
        """Every hold back to untouched and the session back to started; returns the new climb object."""
        self._start_time = None
        self._reset_state()
        return self.climb

    def update_parameters(
        self,
        proximity_threshold: Optional[float] = None,
        touch_duration: Optional[float] = None,
        route: Union[None, Route, Mapping[str, Any], str] = None,
        **others: Any,
    ) -> None:
        """Change parameters (and the route) from the next message on. Bad values raise InvalidInput now."""
        changes = {k: v for k, v in dict(others, proximity_threshold=proximity_threshold,
                                          touch_duration=touch_duration).items() if v is not None}
        unknown = set(changes) - set(TrackerParameters.__dataclass_fields__)
        if unknown:
            raise InvalidInput(f"Unknown tracker parameters: {', '.join(sorted(unknown))}.")
        try:
            new_params = replace(self.parameters, **{**self._pending.get("parameters", {}), **changes})
        except TypeError as exc:
            raise InvalidInput(f"Bad tracker parameters ({exc}).") from None
        self._pending["parameters"] = {k: getattr(new_params, k) for k in TrackerParameters.__dataclass_fields__}
        if route is not None:
            self._pending["route"] = self._as_route(route)

    def get_status(self) -> dict:
        """Configuration and runtime figures, JSON-ready."""
        c = self.counters
        span = (self._last_timestamp - self._first_timestamp) if self._first_timestamp is not None else 0.0
        route_total = len(self.route.wall_ids) if self.route else 0
        route_done = len(self.route.wall_ids & self.touched.keys()) if self.route else 0
        return {
            "status": self.status,
            "startTime": self.climb["startTime"],
            "endTime": self.climb["endTime"],
            "parameters": {k: getattr(self.parameters, k) for k in TrackerParameters.__dataclass_fields__},
            "pending_changes": bool(self._pending),
            "messages": c.messages,
            "accepted": c.accepted,
            "malformed": c.malformed,
            "out_of_order": c.out_of_order,
            "no_person": c.no_person,
            "touches": c.touches,
            "holds_completed": route_done,
            "route_holds": route_total,
            "off_route_touched": len(self.touched.keys() - (self.route.wall_ids if self.route else set())),
            "last_timestamp": self._last_timestamp,
            "message_time_span": span,
            "message_rate": (c.accepted - 1) / span if span > 0 else 0.0,
            "holds_in_contact": sorted(self._hold_since),
        }

    @property
    def status(self) -> str:
        """started, completed or abandoned."""
        return self.climb["status"]

    @property
    def finished(self) -> bool:
        """True once the session is completed or abandoned."""
        return self.status != STARTED

    # -- internals ----------------------------------------------------------

    def _reset_state(self) -> None:
        self._reset_climb_only()
        self._hand_near: list[set[str]] = [set(), set()]
        self._hand_seen: list[Optional[float]] = [None, None]
        self._hold_since: dict[str, float] = {}
        self._confirmed: set[str] = set()
        self._last_person: Optional[float] = None

    def _as_route(self, route: Union[None, Route, Mapping[str, Any], str]) -> Optional[Route]:
        if route is None or isinstance(route, Route):
            if route is not None and any(h.wall_id is None for h in route.holds):
                return parse_route(route.to_dict(), self.wall)
            return route
        return parse_route(route, self.wall)

    def _apply_pending(self) -> None:
        if not self._pending:
            return
        if "parameters" in self._pending:
            self.parameters = TrackerParameters(**self._pending["parameters"])
        if "route" in self._pending:
            self.route = self._pending["route"]
            keep = dict(self.touched)
            status, start, end = self.climb["status"], self.climb["startTime"], self.climb["endTime"]
            self._reset_climb_only()
            self.climb.update(status=status, startTime=start, endTime=end)
            for hold_id, event in keep.items():
                self._mark(hold_id, replace(event, on_route=hold_id in self.route.wall_ids if self.route else False))
        self._pending = {}

    def _reset_climb_only(self) -> None:
        self.climb: dict = new_climb(self.route, self._start_time)
        self._entries: dict[str, list[dict]] = {}
        if self.route:
            for entry, hold in zip(self.climb["holds"], self.route.holds):
                self._entries.setdefault(hold.wall_id or hold.id, []).append(entry)
        self.touched: dict[str, TouchEvent] = {}

    def _update_contacts(self, t: float, pose: WallPose) -> list[TouchEvent]:
        p = self.parameters
        evidence: dict[str, str] = {}  # hold → a visible hand near it now
        for side in (0, 1):
            hand = pose.hand(side)
            if hand is None:
                seen = self._hand_seen[side]
                if seen is None or t - seen > p.hidden_hand_grace:
                    self._hand_near[side] = set()
                continue
            self._hand_seen[side] = t
            before = self._hand_near[side]
            near = {
                hold for hold, d in self.index.within(hand[0], hand[1], p.leave_distance).items()
                if d <= p.proximity_threshold or hold in before
            }
            self._hand_near[side] = near
            for hold in near:
                evidence.setdefault(hold, HAND_NAMES[side])

        active = self._hand_near[0] | self._hand_near[1]
        for hold in list(self._hold_since):
            if hold not in active:
                del self._hold_since[hold]
                self._confirmed.discard(hold)
        touches = []
        for hold in active:
            since = self._hold_since.setdefault(hold, t)
            if hold in evidence and hold not in self._confirmed and t - since >= p.touch_duration - _EPS:
                self._confirmed.add(hold)
                on_route = bool(self.route) and hold in self.route.wall_ids
                event = TouchEvent(hold, evidence[hold], since, t, on_route, hold not in self.touched)
                self.counters.touches += 1
                if event.first:
                    self._mark(hold, event)
                touches.append(event)
        touches.sort(key=lambda e: (e.time, e.hold_id))
        return touches

    def _mark(self, hold_id: str, event: TouchEvent) -> None:
        self.touched[hold_id] = event
        for entry in self._entries.get(hold_id, ()):
            entry["status"] = "completed"
            entry["time"] = format_time(event.time)

    def _finish(self, status: str, t: float) -> bool:
        self.climb["status"] = status
        self.climb["endTime"] = format_time(t)
        self._hold_since.clear()
        self._confirmed.clear()
        return True
