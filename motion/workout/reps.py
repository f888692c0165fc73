"""Repetition counting: a smoothed joint signal through a hysteresis band.

The approach of MediaPipe's repetition counter: a repetition is one pass into
the "in" pose (bottom of a push-up, top of a sit-up) and out again, decided
with two thresholds (enter > exit) so noise around one threshold cannot count
twice. Where MediaPipe thresholds a k-NN class score, the band here sits on the
signal's own observed range (``lo``/``hi``, slowly forgetting), so the same
counter works for side and front views where the same movement projects onto
different angle ranges. Nothing is counted until the range exceeds the
exercise's minimum amplitude; samples seen before that are replayed once it is
known. A rep counts only when it was seen whole: out, in, out again (or out
then in, for exercises counted on reaching the pose), so a clip that starts
or ends in the middle of a rep does not count that partial rep.

A missing sample (joint out of frame) is skipped; a gap longer than
``max_gap`` seconds drops the phase, so half a rep before and half after a
gap never make one.

Some movements show best as a displacement rather than an angle: in a walking
lunge towards the camera the legs leave the frame, but the shoulders still
drop by about a torso length each step. For such a spec (``scale`` set) the
counter follows the signal's displacement measured in the body's own size,
summing each step's change divided by the current scale (the last one seen
when it is momentarily unmeasurable), so a person walking towards or away
from the camera, who grows or shrinks in the frame, keeps the same amplitude.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RepSpec:
    """How one exercise's repetitions show in its signal.

    Attributes:
        signal: a feature name from :data:`motion.workout.features.FEATURES`.
        low_is_in: the "in" pose has the low values (push-up: small elbow angle).
        min_amplitude: the smallest range (signal units) that is a real movement.
        count_on: ``"exit"`` counts when leaving the pose (push-up, squat),
            ``"enter"`` when reaching it (sit-up: the rep ends at the top).
        enter, exit: the band, as fractions of the range measured towards "in".
        scale: a feature name: when set, the counted signal is the displacement
            of ``signal`` in units of this feature (see the module doc), and
            ``min_amplitude`` is in those units.
    """

    signal: str
    low_is_in: bool
    min_amplitude: float
    count_on: str = "exit"
    enter: float = 0.65
    exit: float = 0.35
    scale: str | None = None


@dataclass
class RepCounter:
    """Counts repetitions of one :class:`RepSpec` from ``update(value, t)`` calls."""

    spec: RepSpec
    tau: float = 0.06          # smoothing time constant, seconds
    forget: float = 0.04       # per second: how fast lo/hi relax towards the signal
    max_gap: float = 1.5       # seconds without a sample that drop the phase
    unit_tau: float = 1.0      # seconds: smoothing of a displacement spec's scale
    drift_tau: float = 4.0     # seconds: how long a displacement spec remembers its origin
    count: int = 0
    phase: int = 0             # 0 unknown, -1 out of the pose, 1/2 in it (see _step)
    smooth: float = math.nan
    lo: float = math.nan
    hi: float = math.nan
    t: float = math.nan
    raw: float = math.nan      # displacement specs: the last raw value...
    unit: float = math.nan     # ...the last scale seen...
    pos: float = 0.0           # ...and the displacement so far, in scale units
    recent: list[float] = field(default_factory=list)   # last raw values (median of 3)
    pending: list[float] = field(default_factory=list)  # smoothed values before the range is known
    events: list[float] = field(default_factory=list)   # times of counted reps (not persisted)

    MAX_PENDING = 90

    @property
    def ready(self) -> bool:
        """True once the signal moved by at least the minimum amplitude."""
        return not math.isnan(self.lo) and self.hi - self.lo >= self.spec.min_amplitude

    def level(self) -> float:
        """Where the smoothed signal sits in its range: 0 out, 1 fully in (NaN if unknown)."""
        if not self.ready or math.isnan(self.smooth):
            return math.nan
        u = (self.smooth - self.lo) / (self.hi - self.lo)
        return 1.0 - u if self.spec.low_is_in else u

    def update(self, value: float, t: float, scale: float = math.nan) -> bool:
        """Feed one sample at time ``t`` (seconds); True when it completed a rep.

        ``scale`` is the body's size in this frame, for a displacement spec.
        """
        if value is None or math.isnan(value):
            return False
        if self.spec.scale is not None and scale is not None and scale > 0:  # NaN compares False
            # the body's size changes slowly; the torso's projected length also changes with the pose
            # within a rep, so the unit follows a slow average (``unit_tau``)
            if math.isnan(self.unit) or math.isnan(self.t):
                self.unit = float(scale)
            else:
                self.unit += (float(scale) - self.unit) * (1.0 - math.exp(-max(0.0, t - self.t) / self.unit_tau))
        gap = not math.isnan(self.t) and t - self.t > self.max_gap
        if gap:
            self.phase, self.recent = 0, []
        if self.spec.scale is not None:
            if math.isnan(self.unit):
                return False
            if not (gap or math.isnan(self.raw)):
                # leaky: forgets where it started over ``drift_tau``, so a slow drift (walking
                # towards a camera that sits below or above the shoulders) does not pile up
                leak = math.exp(-max(0.0, t - self.t) / self.drift_tau)
                self.pos = self.pos * leak + (float(value) - self.raw) / self.unit
            self.raw, value = float(value), self.pos
        dt = 0.0 if math.isnan(self.t) else max(0.0, t - self.t)
        self.t = t
        self.recent = (self.recent + [float(value)])[-3:]
        x = sorted(self.recent)[len(self.recent) // 2] if len(self.recent) == 3 else float(value)
        if math.isnan(self.smooth):
            self.smooth = x
        else:
            self.smooth += (x - self.smooth) * (1.0 - math.exp(-dt / self.tau) if dt > 0 else 1.0)
        s = self.smooth
        if math.isnan(self.lo):
            self.lo = self.hi = s
        else:
            k = min(1.0, self.forget * dt)
            self.lo = min(s, self.lo + (s - self.lo) * k)
            self.hi = max(s, self.hi + (s - self.hi) * k)
        if not self.ready:
            self.pending = (self.pending + [round(s, 3)])[-self.MAX_PENDING:]
            return False
        if self.pending:  # the range just became known: replay what came before
            pending, self.pending = self.pending, []
            for p in pending:
                self._step(p, t)
        return self._step(s, t)

    def _step(self, s: float, t: float) -> bool:
        u = (s - self.lo) / (self.hi - self.lo)
        u = 1.0 - u if self.spec.low_is_in else u
        counted = False
        if self.phase <= 0 and u >= self.spec.enter:
            # 2: in the pose, entered from out of it (a whole rep so far); 1: started inside
            counted = self.spec.count_on == "enter" and self.phase == -1
            self.phase = 2 if self.phase == -1 else 1
        elif self.phase != -1 and u <= self.spec.exit:
            counted = self.spec.count_on == "exit" and self.phase == 2
            self.phase = -1
        if counted:
            self.count += 1
            self.events = (self.events + [t])[-1000:]
        return counted

    def to_dict(self) -> dict[str, Any]:
        """Compact JSON-able state (the spec is not included: it is known by name)."""
        r = lambda x: None if math.isnan(x) else round(x, 3)  # noqa: E731
        return {"c": self.count, "p": self.phase, "s": r(self.smooth), "lo": r(self.lo),
                "hi": r(self.hi), "t": r(self.t), "r": [round(x, 3) for x in self.recent],
                "q": self.pending,
                **({"d": [r(self.raw), r(self.unit), round(self.pos, 4)]} if self.spec.scale else {})}

    @classmethod
    def from_dict(cls, spec: RepSpec, d: dict[str, Any]) -> "RepCounter":
        """Rebuild a counter saved by :meth:`to_dict`."""
        f = lambda x: math.nan if x is None else float(x)  # noqa: E731
        raw, unit, pos = d.get("d", (None, None, 0.0))
        return cls(spec=spec, count=int(d["c"]), phase=int(d["p"]), smooth=f(d["s"]),
                   lo=f(d["lo"]), hi=f(d["hi"]), t=f(d["t"]), recent=list(d["r"]),
                   pending=list(d["q"]), raw=f(raw), unit=f(unit), pos=float(pos))


def count_reps(values: list[float], times: list[float], spec: RepSpec,
               scales: list[float] | None = None) -> tuple[int, list[float]]:
    """Count repetitions in a whole signal; returns the count and the rep times."""
    c = RepCounter(spec)
    for i, (v, t) in enumerate(zip(values, times)):
        c.update(v, t, math.nan if scales is None else scales[i])
    return c.count, list(c.events)
