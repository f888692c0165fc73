"""Routes (problems) on a wall, and the seed-001 climb object built from them.

Route data is the earlier system's: ``{"grade", "author", "problem": {"holds":
[{"id": "17", "type": "start"}, …]}}`` with hold ids that may be bare numbers
(``"17"`` is ``hold_17``). The climb object is the seed-001 format:
``{"holds": [{"id", "type", "status", "time"}], "startTime", "endTime",
"status"}`` with times as ISO-8601 UTC strings with milliseconds.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from datetime import datetime, timezone
import math
from typing import Any, Mapping, Optional, Union

from motion import jsontext
from motion.climbing.holds import Wall, hold_ref_text
from motion.errors import InvalidInput, shown

HOLD_TYPES = ("start", "normal", "finish")
SESSION_STATUSES = ("started", "completed", "abandoned")


@dataclass(frozen=True)
class RouteHold:
    """One entry of a route: the id as the route names it, its role, its SVG id."""

    id: str
    type: str
    wall_id: Optional[str] = None


@dataclass(frozen=True)
class Route:
    """A route: grade, author and its holds in the route's own order."""

    holds: tuple[RouteHold, ...]
    grade: str = ""
    author: str = ""

    @cached_property
    def wall_ids(self) -> frozenset[str]:
        """SVG ids of every hold on the route (resolved against a wall)."""
        return frozenset(h.wall_id for h in self.holds if h.wall_id)

    @cached_property
    def finish_wall_ids(self) -> frozenset[str]:
        """SVG ids of the finish holds: touching them all completes the climb."""
        return frozenset(h.wall_id for h in self.holds if h.type == "finish" and h.wall_id)

    def type_of(self, wall_id: str) -> Optional[str]:
        """The role of a wall hold on this route (start/finish before normal), or None."""
        return self._types.get(wall_id)

    @cached_property
    def _types(self) -> dict[str, str]:
        rank = {"start": 0, "finish": 1, "normal": 2}
        types: dict[str, str] = {}
        for h in self.holds:
            if h.wall_id and (h.wall_id not in types or rank[h.type] < rank[types[h.wall_id]]):
                types[h.wall_id] = h.type
        return types

    def to_dict(self) -> dict:
        """The route data in the earlier system's format."""
        return {
            "grade": self.grade,
            "author": self.author,
            "problem": {"holds": [{"id": h.id, "type": h.type} for h in self.holds]},
        }


def parse_route(data: Union[str, bytes, Mapping[str, Any]], wall: Optional[Wall] = None) -> Route:
    """Validate route data (a dict or its JSON text), resolving hold ids against ``wall``.

    Holds may appear more than once (the earlier system's routes do, e.g. a
    start hold listed again as normal); every entry is kept.

    Raises:
        InvalidInput: not JSON, wrong structure, an unknown hold type, or hold
            ids that are not on the wall (all of them are listed).
    """
    if isinstance(data, (str, bytes, bytearray)):
        try:
            data = jsontext.loads(data)
        except ValueError as exc:
            where = f"{exc.msg} at position {exc.pos}" if hasattr(exc, "msg") and hasattr(exc, "pos") else str(exc)
            raise InvalidInput(f"The route data is not valid JSON ({where}).") from None
    if not isinstance(data, Mapping):
        raise InvalidInput('The route data must be an object: {"grade", "author", "problem": {"holds": [...]}}.')
    problem = data.get("problem")
    holds = problem.get("holds") if isinstance(problem, Mapping) else None
    if not isinstance(holds, list):
        raise InvalidInput('The route data needs "problem": {"holds": [{"id": "17", "type": "start"}, ...]}.')
    grade, author = data.get("grade", ""), data.get("author", "")
    for name, value in (("grade", grade), ("author", author)):
        if value is None or isinstance(value, str):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not abs(value) < 1e18 \
                or not math.isfinite(value):
            raise InvalidInput(f'The route\'s "{name}" must be text.')

    entries: list[RouteHold] = []
    problems: list[str] = []
    unknown: list[str] = []
    for n, item in enumerate(holds, start=1):
        if not isinstance(item, Mapping):
            problems.append(f"hold {n} is not an object")
            continue
        ref, kind = item.get("id"), item.get("type", "normal")
        text = hold_ref_text(ref)
        if text is None:
            blank = ref is None or (isinstance(ref, str) and not ref.strip())
            problems.append(f"hold {n} has no id" if blank else
                            f"hold {n} has the id {shown(ref)}, which is neither text nor a hold number")
            continue
        if kind not in HOLD_TYPES:
            problems.append(f"hold {n} ({shown(text)}) has type {shown(kind)}, not one of {', '.join(HOLD_TYPES)}")
            continue
        wall_id = None
        if wall is not None:
            wall_id = wall.resolve(ref)
            if wall_id is None:
                unknown.append(text)
        entries.append(RouteHold(id=text, type=kind, wall_id=wall_id))
    if problems:
        raise InvalidInput("The route's holds are malformed: " + "; ".join(problems) + ".")
    if unknown:
        seen = list(dict.fromkeys(unknown))
        raise InvalidInput("These route holds are not on the wall: " + ", ".join(seen) + ".")
    if not entries:
        raise InvalidInput("The route has no holds.")
    return Route(holds=tuple(entries), grade="" if grade is None else str(grade),
                 author="" if author is None else str(author))


def format_time(t: Union[None, float, datetime]) -> Optional[str]:
    """Seconds since the epoch (or a datetime) as ``2025-01-01T12:00:02.000Z``."""
    if t is None:
        return None
    dt = t if isinstance(t, datetime) else datetime.fromtimestamp(float(t), tz=timezone.utc)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_time(text: Any) -> Optional[float]:
    """A climb time (ISO 8601, as :func:`format_time` writes) as seconds since the epoch; None if it is not one."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def new_climb(route: Optional[Route], start_time: Union[None, float, datetime] = None) -> dict:
    """A fresh seed-001 climb object: every route hold untouched, time null, status started."""
    return {
        "holds": [
            {"id": h.id, "type": h.type, "status": "untouched", "time": None}
            for h in (route.holds if route else ())
        ],
        "startTime": format_time(start_time),
        "endTime": None,
        "status": "started",
    }


def new_climb_data(route: Optional[Route], start_time: Union[None, float, datetime] = None) -> dict:
    """A new session's ``climb_data`` exactly as seed 001 shows it: ``{"climb": …, "pose": []}``."""
    return {"climb": new_climb(route, start_time), "pose": []}
