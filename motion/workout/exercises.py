"""The exercises the analyser knows, and how each one's repetitions are counted."""
from __future__ import annotations

from motion.workout.reps import RepSpec

PUSH_UP, SQUAT, LUNGE, JUMPING_JACK = "push-up", "squat", "lunge", "jumping-jack"
SIT_UP, CRUNCH, BICEP_CURL, SHOULDER_PRESS = "sit-up", "crunch", "bicep-curl", "shoulder-press"
PLANK, UNKNOWN = "plank", "unknown"

#: Every label the built-in classifier can give, ``unknown`` last.
EXERCISES = (PUSH_UP, SQUAT, LUNGE, JUMPING_JACK, SIT_UP, CRUNCH, BICEP_CURL,
             SHOULDER_PRESS, PLANK, UNKNOWN)

#: Exercises timed in seconds rather than counted in repetitions.
HOLDS = frozenset({PLANK})

#: The signal and band each counted exercise uses (see :class:`RepSpec`).
REP_SPECS: dict[str, RepSpec] = {
    PUSH_UP: RepSpec("shoulder", low_is_in=True, min_amplitude=30.0),
    SQUAT: RepSpec("hip", low_is_in=True, min_amplitude=35.0),
    # the shoulders drop by about a torso length, measured in torso lengths: seen from any side,
    # and when the legs leave the frame (walking lunges towards the camera)
    LUNGE: RepSpec("shoulder_y", low_is_in=False, min_amplitude=0.35, scale="torso"),
    JUMPING_JACK: RepSpec("shoulder", low_is_in=False, min_amplitude=50.0),
    SIT_UP: RepSpec("trunk", low_is_in=True, min_amplitude=30.0, count_on="enter"),
    CRUNCH: RepSpec("elbow_knee", low_is_in=True, min_amplitude=0.25),
    BICEP_CURL: RepSpec("elbow", low_is_in=True, min_amplitude=40.0),
    SHOULDER_PRESS: RepSpec("wrist_up", low_is_in=False, min_amplitude=0.5),
}
