"""The climb tracker on synthetic pose traces with exactly known touches.

A generated 1000×1000 wall has 25 round holds (radius 20) on a 200-unit
grid; a perspective calibration maps a 640×480 camera onto it. Hands are
moved along straight paths in wall units; each message places the hand
landmarks at the camera pixel that the calibration maps to the hand's wall
position. The expected touches are computed here independently, from the
exact circle distances, and the tracker must agree within one message
interval (0.1 s).
"""
import json
import math
from pathlib import Path

import pytest

from motion.climbing import (
    ClimbTracker,
    TrackerParameters,
    build_session_message,
    compute_calibration,
    import_earlier_calibration,
    parse_route,
    parse_wall_svg,
)
from motion.errors import InvalidInput

PROJECTCLIMB = Path(__file__).resolve().parents[3] / "shared" / "data" / "walls" / "projectclimb"
R = 20.0
T0 = 1_763_000_000.0  # message clock, seconds
DT = 0.1              # 10 messages a second, the seed's rate
CAMERA = (640, 480)


def centre(n: int) -> tuple[float, float]:
    return ((n % 5) * 200 + 100.0, (n // 5) * 200 + 100.0)


def circle_path(cx, cy, r=R):
    return f"M {cx - r} {cy} A {r} {r} 0 1 0 {cx + r} {cy} A {r} {r} 0 1 0 {cx - r} {cy} Z"


WALL_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1000 1000">'
            + "".join(f'<path class="hold" id="hold_{n}" d="{circle_path(*centre(n))}"/>' for n in range(25))
            + '<path id="hold_big" d="M 0 990 h 1000 v 10 h -1000 z"/></svg>')
WALL = parse_wall_svg(WALL_SVG, flatness=0.05)
CAL = compute_calibration([[0, 0], [640, 0], [640, 480], [0, 480]],
                          [[50, 30], [980, 80], [940, 990], [20, 950]], CAMERA)
ROUTE = {"grade": "6a", "author": "test", "problem": {"holds": [
    {"id": "20", "type": "start"}, {"id": "21", "type": "start"}, {"id": "15", "type": "normal"},
    {"id": "11", "type": "normal"}, {"id": "6", "type": "finish"}, {"id": "8", "type": "finish"}]}}


def pose_message(t, left=None, right=None, *, hidden=(), person=True, ms=True):
    """A message with the hands at wall points (None: hand not visible)."""
    body = CAL.wall_to_image([500, 500]) / CAMERA
    lms = [{"x": body[0], "y": body[1], "z": 0.0, "visibility": 0.99 if person else 0.01} for _ in range(33)]
    for hand, (wrist, pinky, index, thumb, elbow) in ((left, (15, 17, 19, 21, 13)), (right, (16, 18, 20, 22, 14))):
        if hand is None:
            for i in (wrist, pinky, index, thumb):
                lms[i]["visibility"] = 0.1
            continue
        x, y = CAL.wall_to_image(hand) / CAMERA
        for i in (wrist, pinky, index, thumb):
            lms[i] = {"x": float(x), "y": float(y), "z": 0.0, "visibility": 0.95}
    stamp = round(t * 1000) if ms else t
    return {"type": "pose", "timestamp": stamp, "width": CAMERA[0], "height": CAMERA[1], "landmarks": lms}


def path(waypoints):
    """Position at time t along (t, (x, y)) waypoints, linear between them, held after the last."""
    def at(t):
        if t <= waypoints[0][0]:
            return waypoints[0][1]
        for (t0, p0), (t1, p1) in zip(waypoints, waypoints[1:]):
            if t <= t1:
                f = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
                return (p0[0] + f * (p1[0] - p0[0]), p0[1] + f * (p1[1] - p0[1]))
        return waypoints[-1][1]
    return at


def expected_touches(times, left, right, threshold, duration):
    """Independent reference: first time each hold's contact (any hand within threshold) lasts `duration`."""
    first = {}
    since = {}
    for t in times:
        near = set()
        for hand in (left, right):
            x, y = hand(t)
            near |= {f"hold_{n}" for n in range(25) if math.hypot(x - centre(n)[0], y - centre(n)[1]) - R <= threshold}
        for h in list(since):
            if h not in near:
                del since[h]
        for h in near:
            since.setdefault(h, t)
            if t - since[h] >= duration - 1e-9 and h not in first:
                first[h] = since[h]
    return dict(sorted(first.items(), key=lambda kv: (kv[1], kv[0])))


def run(tracker, times, left, right, **kw):
    results = []
    for t in times:
        results.append(tracker.step(pose_message(T0 + t, left(t) if left else None, right(t) if right else None, **kw)))
    return results


def new_tracker(route=ROUTE, **params):
    p = dict(proximity_threshold=30.0, touch_duration=0.5)
    p.update(params)
    return ClimbTracker(WALL, CAL, route, TrackerParameters(**p))


LEFT = path([(0, centre(20)), (1.0, centre(20)), (2.0, centre(15)), (3.0, centre(15)), (4.5, centre(6))])
RIGHT = path([(0, centre(21)), (2.0, centre(21)), (3.5, centre(11)), (4.5, centre(11)), (6.0, centre(8))])
TIMES = [round(i * DT, 6) for i in range(0, 75)]


def test_a_climb_touches_the_route_in_order_at_the_right_times_and_completes_on_the_finish_holds():
    tracker = new_tracker()
    results = run(tracker, TIMES, LEFT, RIGHT)
    expected = expected_touches(TIMES, LEFT, RIGHT, 30.0, 0.5)
    assert list(expected) == ["hold_20", "hold_21", "hold_15", "hold_11", "hold_6", "hold_8"]
    assert set(tracker.touched) == set(expected)
    for hold, t in expected.items():
        assert abs(tracker.touched[hold].time - (T0 + t)) <= DT + 1e-6, hold
    order = [e.hold_id for r in results for e in r.touches]
    assert order == list(expected)
    # the climb object is seed 001's, with the route's own ids and ISO times
    climb = tracker.climb
    assert [(h["id"], h["status"]) for h in climb["holds"]] == [
        ("20", "completed"), ("21", "completed"), ("15", "completed"), ("11", "completed"),
        ("6", "completed"), ("8", "completed")]
    assert all(h["time"].endswith("Z") for h in climb["holds"])
    assert climb["status"] == "completed" and tracker.finished
    done = next(r for r in results if r.status_changed)
    assert done.timestamp == pytest.approx(T0 + expected["hold_8"] + 0.5, abs=DT + 1e-6)
    assert climb["endTime"] is not None and climb["startTime"] is not None
    # messages that changed the climb: both start holds, 15, 11, 6, and 8 together with the completion
    assert sum(r.climb_changed for r in results) == 5


def test_timestamps_in_seconds_give_the_same_climb_as_milliseconds():
    a, b = new_tracker(), new_tracker()
    run(a, TIMES, LEFT, RIGHT)
    run(b, TIMES, LEFT, RIGHT, ms=False)
    assert a.climb == b.climb


def test_distance_is_to_the_hold_shape_so_a_hand_inside_a_long_hold_touches_it():
    tracker = new_tracker(route=None, proximity_threshold=5.0)
    far_end = path([(0, (950.0, 995.0))])  # 450 units from the long hold's centroid, but inside it
    run(tracker, TIMES[:8], far_end, None)
    assert "hold_big" in tracker.touched and not tracker.touched["hold_big"].on_route


# -- the threshold edge ---------------------------------------------------------------

def edge_path(offsets, hold=12):
    """Right hand at distance R + offset[i] from the hold centre (to its right), one offset per message."""
    cx, cy = centre(hold)
    return lambda t: (cx + R + offsets[min(int(round(t / DT)), len(offsets) - 1)], cy)


def test_jitter_at_the_threshold_edge_neither_drops_nor_double_counts_the_touch():
    wobble = [28.0, 32.0] * 10  # 2 s alternating just inside / just outside a threshold of 30
    times = TIMES[:20]
    tracker = new_tracker()
    results = run(tracker, times, None, edge_path(wobble))
    events = [e for r in results for e in r.touches]
    assert [(e.hold_id, e.first) for e in events] == [("hold_12", True)]
    assert events[0].time == pytest.approx(T0) and events[0].confirmed_at == pytest.approx(T0 + 0.5)

    # without hysteresis the same wobble keeps restarting the contact and the touch is lost
    naive = new_tracker(hysteresis=0.0)
    assert not [e for r in run(naive, times, None, edge_path(wobble)) for e in r.touches]


def test_a_real_release_and_return_is_a_second_touch_that_keeps_the_first_time():
    offsets = [0.0] * 8 + [60.0] * 4 + [0.0] * 8
    tracker = new_tracker()
    events = [e for r in run(tracker, TIMES[:20], None, edge_path(offsets)) for e in r.touches]
    assert [(e.first, round(e.time - T0, 3)) for e in events] == [(True, 0.0), (False, 1.2)]
    assert tracker.touched["hold_12"].time == pytest.approx(T0)


def test_a_contact_shorter_than_touch_duration_is_no_touch():
    offsets = [0.0] * 4 + [80.0] * 10
    tracker = new_tracker()
    assert not [e for r in run(tracker, TIMES[:14], None, edge_path(offsets)) for e in r.touches]


def test_a_finish_hold_brushed_for_less_than_touch_duration_does_not_complete_the_climb():
    route = {"problem": {"holds": [{"id": "12", "type": "finish"}]}}
    brush = new_tracker(route=route)
    run(brush, TIMES[:12], None, edge_path([0.0] * 4 + [80.0] * 8))
    assert brush.status == "started" and brush.climb["holds"][0]["status"] == "untouched"
    hold = new_tracker(route=route)
    run(hold, TIMES[:12], None, edge_path([0.0] * 12))
    assert hold.status == "completed" and hold.climb["endTime"] is not None


# -- hidden hands and people -----------------------------------------------------------

def test_a_hidden_hand_does_not_drop_the_frame_for_the_other_hand():
    tracker = new_tracker()
    run(tracker, TIMES[:10], None, path([(0, centre(21))]))
    assert set(tracker.touched) == {"hold_21"}


def test_a_hand_hidden_briefly_on_a_hold_keeps_its_contact():
    tracker = new_tracker()
    on = centre(20)
    msgs = [pose_message(T0 + t, None if 0.2 <= t <= 0.4 else on) for t in TIMES[:8]]
    results = [tracker.step(m) for m in msgs]
    events = [e for r in results for e in r.touches]
    assert [(e.hold_id, e.time) for e in events] == [("hold_20", pytest.approx(T0))]
    assert events[0].confirmed_at == pytest.approx(T0 + 0.5)


def test_a_hand_hidden_longer_than_the_grace_period_starts_a_new_contact():
    tracker = new_tracker(hidden_hand_grace=0.3)
    on = centre(20)
    times = [round(i * DT, 6) for i in range(16)]
    results = [tracker.step(pose_message(T0 + t, None if 0.2 <= t <= 0.8 else on)) for t in times]
    events = [e for r in results for e in r.touches]
    assert [(e.hold_id, round(e.time - T0, 3)) for e in events] == [("hold_20", 0.9)]


def test_nobody_in_view_for_abandon_after_abandons_the_session():
    tracker = new_tracker(abandon_after=2.0)
    run(tracker, TIMES[:5], LEFT, RIGHT)
    results = [tracker.step(pose_message(T0 + 0.5 + i * DT, person=False)) for i in range(25)]
    changed = [r for r in results if r.status_changed]
    assert len(changed) == 1 and changed[0].status == "abandoned"
    assert changed[0].timestamp == pytest.approx(T0 + 0.4 + 2.0, abs=DT + 1e-6)
    assert tracker.get_status()["no_person"] == 25
    # no touch after the end
    assert not tracker.step(pose_message(T0 + 10, centre(0))).touches


def test_empty_landmarks_count_as_nobody_and_idle_time_abandons_too():
    tracker = new_tracker(abandon_after=5.0)
    tracker.step(pose_message(T0, centre(0)))
    tracker.step({"type": "pose", "timestamp": (T0 + 1) * 1000, "width": 640, "height": 480, "landmarks": []})
    assert tracker.status == "started" and tracker.get_status()["no_person"] == 1
    assert tracker.idle(T0 + 4.9) is False and tracker.idle(T0 + 5.0) is True
    assert tracker.status == "abandoned"


# -- bad input ---------------------------------------------------------------------------

def test_out_of_order_messages_are_rejected_counted_and_change_nothing():
    tracker = new_tracker()
    stale_on_hold = pose_message(T0 + 0.05, None, centre(3))
    for t in TIMES[:3]:
        tracker.step(pose_message(T0 + t, None, centre(21)))
    result = tracker.step(stale_on_hold)
    assert not result.accepted and result.reason == "out_of_order"
    for t in TIMES[3:10]:
        tracker.step(pose_message(T0 + t, None, centre(21)))
    assert set(tracker.touched) == {"hold_21"}
    status = tracker.get_status()
    assert (status["messages"], status["accepted"], status["out_of_order"]) == (11, 10, 1)


@pytest.mark.parametrize("bad", [
    "not json",
    b"\xff\xfe",
    {"type": "pose"},
    {"type": "pose", "timestamp": 1, "width": 640, "height": 480, "landmarks": [{"x": 0.5, "y": 0.5}] * 32},
    {"type": "pose", "timestamp": 1, "width": 640, "height": 480,
     "landmarks": [{"x": float("nan"), "y": 0.5, "z": 0, "visibility": 1}] * 33},
    {"type": "pose", "timestamp": 1, "width": 640, "height": 480,
     "landmarks": [{"x": "0.5", "y": 0.5, "z": 0, "visibility": 1}] * 33},
    None,
    42,
])
def test_malformed_messages_are_counted_and_never_fatal(bad):
    tracker = new_tracker()
    results = []
    for i, t in enumerate(TIMES[:10]):
        results.append(tracker.step(pose_message(T0 + t, centre(20))))
        if i % 3 == 1:
            results.append(tracker.step(bad))
    rejected = [r for r in results if not r.accepted]
    assert len(rejected) == 3 and {r.reason for r in rejected} == {"malformed"} and all(r.error for r in rejected)
    assert set(tracker.touched) == {"hold_20"} and tracker.get_status()["malformed"] == 3


def test_a_message_without_timestamp_uses_the_arrival_time():
    tracker = new_tracker()
    msg = pose_message(T0, centre(20))
    del msg["timestamp"]
    result = tracker.step(msg, arrival_time=T0 + 3)
    assert result.accepted and result.timestamp == T0 + 3
    assert not tracker.step(pose_message(T0, centre(20))).accepted  # older than that arrival


# -- off-route, reset, parameters ------------------------------------------------------------

def test_off_route_holds_are_reported_without_changing_route_progress():
    tracker = new_tracker()
    results = run(tracker, TIMES[:10], path([(0, centre(0))]), None)
    events = [e for r in results for e in r.touches]
    assert [(e.hold_id, e.on_route, e.first) for e in events] == [("hold_0", False, True)]
    assert all(h["status"] == "untouched" for h in tracker.climb["holds"])
    assert not any(r.climb_changed for r in results)
    status = tracker.get_status()
    assert (status["holds_completed"], status["off_route_touched"], status["route_holds"]) == (0, 1, 6)


def test_reset_holds_makes_every_hold_untouched_and_touches_count_again():
    tracker = new_tracker()
    run(tracker, TIMES[:10], path([(0, centre(20))]), None)
    assert tracker.climb["holds"][0]["status"] == "completed"
    climb = tracker.reset_holds()
    assert all(h["status"] == "untouched" and h["time"] is None for h in climb["holds"])
    assert climb["status"] == "started" and tracker.touched == {}
    assert build_session_message(tracker, reset=True)["reset"] is True
    run(tracker, [1.0 + t for t in TIMES[:10]], path([(0, centre(20))]), None)
    assert tracker.touched["hold_20"].time == pytest.approx(T0 + 1.0)


def test_update_parameters_apply_from_the_next_message():
    tracker = new_tracker()
    near = (centre(12)[0] + R + 50.0, centre(12)[1])  # 50 units from the hold: outside 30
    run(tracker, TIMES[:10], None, lambda t: near)
    assert tracker.touched == {}
    tracker.update_parameters(proximity_threshold=60.0, touch_duration=0.2)
    assert tracker.parameters.proximity_threshold == 30.0 and tracker.get_status()["pending_changes"]
    run(tracker, [1.0 + t for t in TIMES[:3]], None, lambda t: near)
    assert tracker.touched["hold_12"].time == pytest.approx(T0 + 1.0)
    assert tracker.parameters.touch_duration == 0.2
    with pytest.raises(InvalidInput, match="proximity_threshold"):
        tracker.update_parameters(proximity_threshold=-1)
    with pytest.raises(InvalidInput, match="Unknown tracker parameters: colour"):
        tracker.update_parameters(colour="red")


def test_a_new_route_applies_from_the_next_message_and_keeps_touches_already_made():
    tracker = new_tracker()
    run(tracker, TIMES[:10], path([(0, centre(0))]), None)
    tracker.update_parameters(route={"problem": {"holds": [{"id": "0", "type": "start"},
                                                           {"id": "1", "type": "finish"}]}})
    assert tracker.climb["holds"][0]["id"] == "20"
    run(tracker, [1.0 + t for t in TIMES[:10]], path([(0, centre(1))]), None)
    assert [(h["id"], h["status"]) for h in tracker.climb["holds"]] == [("0", "completed"), ("1", "completed")]
    assert tracker.status == "completed"
    with pytest.raises(InvalidInput, match="not on the wall: 99"):
        tracker.update_parameters(route={"problem": {"holds": [{"id": "99"}]}})


def test_a_route_naming_holds_off_the_wall_is_refused_when_the_tracker_is_built():
    with pytest.raises(InvalidInput, match="not on the wall: 77"):
        new_tracker(route={"problem": {"holds": [{"id": "77", "type": "start"}]}})


# -- output --------------------------------------------------------------------------

def test_the_output_message_has_the_earlier_display_shape_and_honours_its_options():
    tracker = new_tracker()
    results = run(tracker, TIMES[:10], path([(0, centre(20))]), path([(0, centre(0))]))
    msg = build_session_message(tracker, results[-1])
    assert set(msg["session"]) == {"holds", "startTime", "endTime", "status"}
    holds = {h["id"]: h for h in msg["session"]["holds"]}
    assert len(holds) == 26
    assert holds["hold_20"]["status"] == "completed" and holds["hold_20"]["type"] == "start"
    assert holds["hold_0"] == {"id": "hold_0", "type": "normal", "status": "completed",
                               "time": holds["hold_0"]["time"], "onRoute": False}
    assert holds["hold_1"]["status"] == "untouched" and holds["hold_1"]["time"] is None
    assert len(msg["pose"]) == 35
    left = msg["pose"][33]
    assert (left["x"], left["y"]) == pytest.approx((centre(20)[0] / 1000, centre(20)[1] / 1000), abs=1e-6)
    assert msg["climb"] == tracker.climb and msg["climb"] is not tracker.climb
    json.dumps(msg)
    assert build_session_message(tracker, results[-1], no_stream_landmarks=True)["pose"] == []
    only = build_session_message(tracker, results[-1], stream_svg_only=True)["session"]["holds"]
    assert {h["id"] for h in only} == {"hold_20", "hold_0"} and all(h["d"].startswith("M") for h in only)


# -- the real wall ------------------------------------------------------------------

@pytest.mark.skipif(not PROJECTCLIMB.exists(), reason=f"real data not found at {PROJECTCLIMB}")
def test_the_real_wall_calibration_route_and_pose_message_run_through_the_tracker():
    wall = parse_wall_svg((PROJECTCLIMB / "wall_2025-11-16.svg").read_bytes())
    cal = import_earlier_calibration(json.loads((PROJECTCLIMB / "calibration_manual_points.json").read_text()),
                                     (wall.width, wall.height))
    route = parse_route((PROJECTCLIMB / "route_session.json").read_text(), wall)
    tracker = ClimbTracker(wall, cal, route, TrackerParameters(proximity_threshold=40.0, touch_duration=0.5))
    msg = json.loads((PROJECTCLIMB / "pose_message_in.json").read_text())
    for i in range(8):
        result = tracker.step(dict(msg, timestamp=msg["timestamp"] + 100 * i))
        assert result.accepted
    # the hands rest on hold_156 (right, ~21 units away) — the left is ~51 units from hold_56, beyond 40
    assert set(tracker.touched) == {"hold_156"}
    entries = [h for h in tracker.climb["holds"] if h["id"] == "156"]
    assert entries and all(h["status"] == "completed" for h in entries)
    out = build_session_message(tracker, result)
    earlier = json.loads((PROJECTCLIMB / "session_message_out.json").read_text())
    assert set(earlier) <= set(out) and set(earlier["session"]) <= set(out["session"])
    assert set(earlier["session"]["holds"][0]) <= set(out["session"]["holds"][0])
    # the earlier output numbered holds 0..141 by position (its "ids never matched the SVG" bug); ours are SVG ids
    assert len(out["session"]["holds"]) == len(earlier["session"]["holds"]) == 142
    assert {h["id"] for h in out["session"]["holds"]} == set(wall.hold_ids)


def test_a_tracker_started_again_goes_on_from_the_saved_climb_and_completes_it():
    first = new_tracker()
    half = [t for t in TIMES if t <= 3.0]  # start holds and hold 15 done, then the tracker dies
    run(first, half, LEFT, RIGHT)
    saved = json.loads(json.dumps(first.climb))  # as stored with the session
    assert [h["status"] for h in saved["holds"]][:3] == ["completed"] * 3

    second = new_tracker()
    assert second.resume(saved) == 3
    assert second.climb["holds"][:3] == saved["holds"][:3]  # same times, to the millisecond
    assert second.climb["startTime"] == saved["startTime"]
    results = run(second, [t for t in TIMES if t > 3.0], LEFT, RIGHT)
    assert second.climb["status"] == "completed"
    assert [e.hold_id for r in results for e in r.touches if e.first] == ["hold_11", "hold_6", "hold_8"]
    assert second.climb["holds"][:3] == saved["holds"][:3]


def test_resume_ignores_a_climb_with_nothing_completed_or_garbage():
    tracker = new_tracker()
    fresh = json.loads(json.dumps(tracker.climb))
    assert tracker.resume(fresh) == 0 and tracker.climb["startTime"] is None
    assert tracker.resume({"holds": [{"id": "20", "status": "completed", "time": "not a time"}]}) == 0
    assert tracker.resume("nonsense") == 0 and tracker.resume(None) == 0
    assert not tracker.touched
