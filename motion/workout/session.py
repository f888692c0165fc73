"""A workout session: one connection's analysis state, one frame at a time.

``WorkoutSession.step(landmarks, t)`` returns the seed-003 ``workout`` payload;
``summary()`` the ``summary`` payload. ``to_dict()``/``from_dict()`` keep the
whole state as compact JSON so consecutive frames may be analysed by
different worker processes (the state lives in Redis between them).

Every counted exercise has a :class:`RepCounter` running from the start, so
when the classifier settles on an exercise its repetitions since the start of
the set are already counted; the reps of a set are those its counter made
since shortly before the set was recognised.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from motion.errors import InvalidInput
from motion.workout import exercises as ex
from motion.workout.classifier import Stabiliser, classify_window, window_row
from motion.workout.features import INDEX, frame_features
from motion.workout.form import GOOD, depth_extreme, depth_penalty, form_color, frame_form
from motion.workout.pose import landmarks_from_message, landmarks_to_message
from motion.workout.reps import RepCounter

WINDOW_SECONDS = 3.0      # classifier window
LOOKBACK_SECONDS = 4.0    # reps this long before a set is recognised still belong to it
MAX_DT = 1.0              # a longer pause does not count as exercise time

#: The joint angle reported as ``angle`` for each exercise.
DISPLAY_ANGLE = {ex.PUSH_UP: "elbow", ex.SQUAT: "knee", ex.LUNGE: "knee_min", ex.JUMPING_JACK: "shoulder",
                 ex.SIT_UP: "hip", ex.CRUNCH: "hip", ex.BICEP_CURL: "elbow", ex.SHOULDER_PRESS: "elbow",
                 ex.PLANK: "body_line"}


class WorkoutSession:
    """Exercise, reps and form for one stream of poses.

    Parameters:
        model: an optional :class:`motion.workout.model.UserModel` whose label
            replaces the built-in classifier's raw decision.
    """

    def __init__(self, model: Any = None) -> None:
        self.model = model
        self.reset()

    def reset(self) -> None:
        """Forget everything: a new session starts with the next frame."""
        self.t0: float | None = None
        self.t: float | None = None
        self.frames = 0
        self.detected = 0
        self.dropped = 0
        self.window: list[list[float]] = []     # [t, *window features]
        self.poses: list[list[float]] = []      # flattened landmarks, only with a user model
        self.stable = Stabiliser()
        self.counters = {name: RepCounter(spec) for name, spec in ex.REP_SPECS.items()}
        self.recent: dict[str, list[float]] = {name: [] for name in ex.REP_SPECS}  # recent rep times
        self.exercise = ex.UNKNOWN
        self.base = 0                  # the current set's counter value at its start
        self.claimed: dict[str, int] = {}  # counter values reached while another exercise was shown
        self.totals: dict[str, dict[str, float]] = {}  # name -> reps (closed sets), duration, best
        self.rep = {"sum": 0.0, "n": 0, "worst": 100.0, "msg": GOOD, "ext": math.nan}
        self.last_score: float | None = None
        self.last_feedback = "Get into position"
        self.hold = 0.0                # seconds in the current hold (plank)
        self.rep_events: list[dict[str, Any]] = []  # reps completed by the last step (not persisted)

    # -- one frame -------------------------------------------------------------------------
    def step(self, landmarks: Any, t: float, aspect: float = 1.0) -> dict[str, Any]:
        """Analyse one frame's pose (or None: nobody seen) taken at ``t`` seconds.

        ``landmarks`` is a ``(33, 4)`` array or the wire list of 33
        ``{x, y, z, visibility}``; ``aspect`` is the frame's width / height.

        Raises:
            InvalidInput: malformed landmarks.
        """
        arr = None if landmarks is None else landmarks_from_message(landmarks)
        t = float(t)
        if self.t0 is None:
            self.t0 = t
        dt = 0.0 if self.t is None else min(MAX_DT, max(0.0, t - self.t))
        self.t = max(t, self.t or t)
        self.frames += 1
        self.rep_events = []
        if arr is None:
            self.hold = 0.0
            return self._payload(None, None, "No person detected: step into the frame")
        self.detected += 1
        f = frame_features(arr, aspect)
        self.window = [r for r in self.window if t - r[0] <= WINDOW_SECONDS] + [[round(t, 3)] + window_row(f)]
        label, conf = classify_window(np.array(self.window, dtype=float))
        if self.model is not None:
            self.poses = (self.poses + [[round(float(x), 4) for x in arr.ravel()]])[-self.model.window:]
            if len(self.poses) == self.model.window:
                label, conf = self.model.predict(np.array(self.poses, np.float32).reshape(-1, 33, 4))
        done = set()
        for name, counter in self.counters.items():
            scale = math.nan if counter.spec.scale is None else float(f[INDEX[counter.spec.scale]])
            if counter.update(float(f[INDEX[counter.spec.signal]]), t, scale):
                self.recent[name] = (self.recent[name] + [round(t, 3)])[-6:]
                done.add(name)
        shown, confidence = self.stable.update(label, conf)
        if shown != self.exercise:
            self._switch(shown, t)
        if self.exercise != ex.UNKNOWN:
            for name, counter in self.counters.items():
                if name != self.exercise:
                    self.claimed[name] = counter.count
        if self.exercise != ex.UNKNOWN:
            tot = self.totals[self.exercise]
            tot["duration"] = round(tot["duration"] + dt, 3)
        feedback = self._form(f, dt, self.exercise in done)
        return self._payload(arr, f, feedback, confidence)

    def note_dropped(self, n: int = 1) -> None:
        """Count frames the caller dropped under load (reported in payloads and summary)."""
        self.dropped += int(n)

    def _switch(self, new: str, t: float) -> None:
        self._close_set()
        self.exercise = new
        self.hold = 0.0
        self.rep = {"sum": 0.0, "n": 0, "worst": 100.0, "msg": GOOD, "ext": math.nan}
        if new == ex.UNKNOWN:
            return
        self.totals.setdefault(new, {"reps": 0, "duration": 0.0, "best": None})
        if new in self.counters:
            # Reps made while another exercise was shown are not this set's, except those just
            # before the switch (the classifier needs a few seconds to recognise a new set);
            # reps already given to an earlier set of the same exercise are never counted twice.
            count = self.counters[new].count
            late = sum(1 for r in self.recent[new] if r >= t - LOOKBACK_SECONDS - WINDOW_SECONDS)
            self.base = max(self.totals[new].get("upto", 0), min(self.claimed.get(new, 0), count - late))

    def _close_set(self) -> None:
        if self.exercise in self.counters:
            self.totals[self.exercise]["reps"] += self._set_reps()
            self.totals[self.exercise]["upto"] = self.counters[self.exercise].count

    def _set_reps(self) -> int:
        return max(0, self.counters[self.exercise].count - self.base) if self.exercise in self.counters else 0

    def _form(self, f: np.ndarray, dt: float, completed: bool) -> str:
        name = self.exercise
        if name == ex.UNKNOWN:
            return "Start an exercise: push-ups, squats, lunges, jumping jacks, sit-ups, crunches, curls, presses or a plank"
        score, msg = frame_form(name, f)
        if name in ex.HOLDS:
            self.hold += dt
            self._best(name, score)
            self.last_score = round(score)
            return msg if msg != GOOD else f"Hold it: {self.hold:.0f} s"
        r = self.rep
        r["sum"] += score
        r["n"] += 1
        if score < r["worst"]:
            r["worst"], r["msg"] = score, msg
        feat, keep = depth_extreme(name)
        if feat is not None and not math.isnan(f[INDEX[feat]]):
            r["ext"] = float(f[INDEX[feat]]) if math.isnan(r["ext"]) else keep(r["ext"], float(f[INDEX[feat]]))
        if completed:  # this frame completed a rep
            penalty, depth_msg = depth_penalty(name, r["ext"])
            rep_score = max(0.0, r["sum"] / max(1, r["n"]) - penalty)
            feedback = depth_msg if penalty > (100 - r["worst"]) and depth_msg else r["msg"]
            self.last_score, self.last_feedback = round(rep_score), feedback
            self._best(name, rep_score)
            self.rep_events.append({"exercise": name, "rep": self._set_reps() + self.totals[name]["reps"],
                                    "time": round(self.t - (self.t0 or 0.0), 3), "form_score": round(rep_score),
                                    "feedback": feedback})
            self.rep = {"sum": 0.0, "n": 0, "worst": 100.0, "msg": GOOD, "ext": math.nan}
            return feedback
        return msg if score < 80 else self.last_feedback

    def _best(self, name: str, score: float) -> None:
        tot = self.totals[name]
        tot["best"] = round(score) if tot["best"] is None else max(tot["best"], round(score))

    def _payload(self, arr: np.ndarray | None, f: np.ndarray | None, feedback: str,
                 confidence: float = 0.0) -> dict[str, Any]:
        name = self.exercise
        angle = None
        if f is not None and name in DISPLAY_ANGLE and not math.isnan(f[INDEX[DISPLAY_ANGLE[name]]]):
            angle = round(float(f[INDEX[DISPLAY_ANGLE[name]]]))
        reps = self.totals.get(name, {}).get("reps", 0) + self._set_reps()
        return {
            "exercise": name,
            "confidence": round(float(confidence), 3) if arr is not None else 0.0,
            "feedback": feedback,
            "angle": angle,
            "reps": int(reps),
            "hold_seconds": round(self.hold, 1) if name in ex.HOLDS else None,
            "form_score": self.last_score,
            "landmarks_detected": arr is not None,
            "form_color": form_color(self.last_score if arr is not None else None),
            "session_time": round((self.t or 0.0) - (self.t0 or 0.0), 2),
            "frame_count": self.frames,
            "dropped_frames": self.dropped,
            "landmarks": landmarks_to_message(arr) if arr is not None else [],
        }

    # -- the whole session -----------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """The seed-003 ``summary`` payload for the session so far."""
        details = {}
        for name, tot in self.totals.items():
            reps = tot["reps"] + (self._set_reps() if name == self.exercise else 0)
            if reps == 0 and tot["duration"] < 1.0 and name not in ex.HOLDS:
                continue  # a label that flashed by without a set
            details[name] = {"total_reps": int(reps), "duration": round(tot["duration"], 1),
                             "best_form_score": tot["best"]}
        return {
            "session_duration": round((self.t or 0.0) - (self.t0 or 0.0), 1),
            "total_frames": self.frames,
            "frames_with_pose": self.detected,
            "dropped_frames": self.dropped,
            "exercises_performed": len(details),
            "exercise_details": details,
        }

    # -- persistence -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The whole state as compact JSON-able data (see :meth:`from_dict`)."""
        return {
            "v": 1, "t0": self.t0, "t": self.t, "n": self.frames, "d": self.detected, "x": self.dropped,
            "w": self.window, "p": self.poses, "s": self.stable.to_dict(),
            "c": {k: c.to_dict() for k, c in self.counters.items()}, "r": self.recent,
            "e": self.exercise, "b": self.base, "cl": self.claimed, "tot": self.totals,
            "rep": {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in self.rep.items()},
            "ls": self.last_score, "lf": self.last_feedback, "h": round(self.hold, 3),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], model: Any = None) -> "WorkoutSession":
        """Rebuild a session saved with :meth:`to_dict`.

        Raises:
            InvalidInput: the data is not a saved session of this version.
        """
        if not isinstance(d, dict) or d.get("v") != 1:
            raise InvalidInput("not a saved workout session (version 1)")
        s = cls(model=model)
        try:
            s.t0, s.t, s.frames, s.detected, s.dropped = d["t0"], d["t"], d["n"], d["d"], d["x"]
            s.window, s.poses = [list(r) for r in d["w"]], [list(r) for r in d["p"]]
            s.stable = Stabiliser.from_dict(d["s"])
            s.counters = {k: RepCounter.from_dict(ex.REP_SPECS[k], v) for k, v in d["c"].items()}
            s.recent = {k: list(v) for k, v in d["r"].items()}
            s.exercise, s.base, s.totals = d["e"], d["b"], {k: dict(v) for k, v in d["tot"].items()}
            s.claimed = dict(d["cl"])
            s.rep = {k: (math.nan if v is None else v) for k, v in d["rep"].items()}
            s.last_score, s.last_feedback, s.hold = d["ls"], d["lf"], d["h"]
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"saved workout session is damaged ({exc.__class__.__name__})") from None
        return s
