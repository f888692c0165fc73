"""Repetition counting on synthetic joint-angle signals with known answers."""
import json
import math

import numpy as np
import pytest

from motion.workout.reps import RepCounter, RepSpec, count_reps

ELBOW = RepSpec("elbow", low_is_in=True, min_amplitude=35.0)


def signal(reps: float, fps: float = 12.5, period: float = 2.0, top: float = 165.0, bottom: float = 80.0,
           noise: float = 0.0, phase: float = 0.0, seed: int = 0):
    """An angle that starts at the top and makes ``reps`` cosine dips."""
    n = int(round(reps * period * fps))
    t = np.arange(n + 1) / fps
    mid, amp = (top + bottom) / 2, (top - bottom) / 2
    x = mid + amp * np.cos(2 * math.pi * t / period + phase)
    x += np.random.default_rng(seed).normal(0, noise, len(x))
    return list(x), list(t)


@pytest.mark.parametrize("reps", [1, 3, 10])
def test_counts_clean_reps_exactly(reps):
    values, times = signal(reps)
    assert count_reps(values, times, ELBOW)[0] == reps


@pytest.mark.parametrize("seed", range(5))
def test_noise_does_not_add_reps(seed):
    values, times = signal(6, noise=6.0, seed=seed)
    assert count_reps(values, times, ELBOW)[0] == 6


def test_partial_last_rep_is_not_counted():
    values, times = signal(4.3)   # ends on the way down
    assert count_reps(values, times, ELBOW)[0] == 4


def test_a_clip_starting_at_the_bottom_does_not_count_the_half_rep():
    values, times = signal(3.5, phase=math.pi)  # starts at the bottom, 3 whole reps follow
    assert count_reps(values, times, ELBOW)[0] == 3


def test_small_movements_below_min_amplitude_are_not_reps():
    values, times = signal(8, top=150, bottom=125)
    assert count_reps(values, times, ELBOW)[0] == 0


def test_compressed_range_of_a_front_view_still_counts():
    values, times = signal(5, top=150, bottom=105)  # same movement, smaller projected angle
    assert count_reps(values, times, ELBOW)[0] == 5


def test_missing_samples_are_skipped():
    values, times = signal(5, noise=2.0)
    values = [math.nan if i % 7 == 3 else v for i, v in enumerate(values)]
    assert count_reps(values, times, ELBOW)[0] == 5


def test_a_long_gap_does_not_join_two_half_reps():
    values, times = signal(2.5)
    later_v, later_t = signal(0.5, phase=math.pi)
    values += later_v
    times += [times[-1] + 5 + t for t in later_t]
    assert count_reps(values, times, ELBOW)[0] == 2


def test_enter_counting_counts_on_reaching_the_pose():
    spec = RepSpec("trunk", low_is_in=True, min_amplitude=30.0, count_on="enter")
    values, times = signal(3.5, top=90, bottom=10)  # ends at the top of a 4th sit-up
    assert count_reps(values, times, spec)[0] == 4


def test_state_round_trip_mid_set_gives_the_same_count():
    values, times = signal(6, noise=3.0)
    whole = count_reps(values, times, ELBOW)[0]
    c = RepCounter(ELBOW)
    for i, (v, t) in enumerate(zip(values, times)):
        if i % 5 == 0:
            c = RepCounter.from_dict(ELBOW, c.to_dict())
        c.update(v, t)
    assert c.count == whole == 6


DROP = RepSpec("shoulder_y", low_is_in=False, min_amplitude=0.35, scale="torso")


def walking_lunges(reps: int, fps: float = 12.5, period: float = 1.0, grow: float = 3.0, seed: int = 0):
    """Shoulder height (frame units) and torso length of someone lunging towards the camera.

    Each lunge drops the shoulders by 0.9 torso lengths; the body grows ``grow``-fold over
    the set, the tops drift down the frame, and the torso is unmeasurable (hips out of frame)
    in the lower half of every late rep.
    """
    n = int(round((reps + 0.3) * period * fps))
    t = np.arange(n) / fps
    torso = 0.15 * grow ** (t / t[-1])
    depth = (1 - np.cos(2 * math.pi * t / period)) / 2
    depth[t > reps * period] = 0.0
    y = 0.35 + 0.05 * t / t[-1] + 0.9 * torso * depth + np.random.default_rng(seed).normal(0, 0.005, n)
    scale = np.where((t > t[-1] / 2) & (depth > 0.5), math.nan, torso)
    return list(y), list(t), list(scale)


@pytest.mark.parametrize("grow", [1.0, 3.0])
def test_a_drop_is_counted_in_body_lengths_while_the_body_grows_in_the_frame(grow):
    y, t, scale = walking_lunges(6, grow=grow)
    assert count_reps(y, t, DROP, scale)[0] == 6


def test_a_slow_drift_without_lunges_is_not_a_rep():
    t = list(np.arange(0, 20, 0.08))
    y = [0.3 + 0.02 * x for x in t]  # slides down the frame by 2.7 torso lengths
    assert count_reps(y, t, DROP, [0.15] * len(t))[0] == 0


def test_a_drop_without_any_scale_yet_is_not_counted():
    y, t, _ = walking_lunges(3)
    assert count_reps(y, t, DROP, [math.nan] * len(t))[0] == 0


def test_drop_counter_round_trip_mid_set_gives_the_same_count():
    y, t, scale = walking_lunges(5)
    c = RepCounter(DROP)
    for i, (v, ti, s) in enumerate(zip(y, t, scale)):
        if i % 4 == 0:
            c = RepCounter.from_dict(DROP, json.loads(json.dumps(c.to_dict())))
        c.update(v, ti, s)
    assert c.count == count_reps(y, t, DROP, scale)[0] == 5
