"""Route data (seed 000) against a wall, and the seed-001 climb object it starts."""
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from motion.climbing import format_time, new_climb, new_climb_data, parse_route, parse_wall_svg
from motion.errors import InvalidInput

PROJECTCLIMB = Path(__file__).resolve().parents[3] / "shared" / "data" / "walls" / "projectclimb"
needs_real_data = pytest.mark.skipif(
    not PROJECTCLIMB.exists(), reason=f"real wall data not found at {PROJECTCLIMB} (not part of the repository)"
)

SEED_ROUTE = {
    "grade": "V5",
    "author": "Test User",
    "problem": {"holds": [
        {"id": "17", "type": "start"}, {"id": "91", "type": "start"}, {"id": "6", "type": "normal"},
        {"id": "101", "type": "normal"}, {"id": "55", "type": "normal"}, {"id": "133", "type": "normal"},
        {"id": "89", "type": "normal"}, {"id": "41", "type": "normal"}, {"id": "72", "type": "finish"},
        {"id": "11", "type": "finish"},
    ]},
}


def numbered_wall(numbers):
    body = "".join(f'<path id="hold_{n}" d="M {n} 0 h 1 v 1 h -1 z"/>' for n in numbers)
    return parse_wall_svg(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 10">{body}</svg>')


SEED_WALL = numbered_wall([6, 11, 17, 41, 55, 72, 89, 91, 101, 133, 200])


def test_the_seed_route_validates_and_resolves_bare_numbers_to_svg_ids():
    route = parse_route(json.dumps(SEED_ROUTE), SEED_WALL)
    assert (route.grade, route.author) == ("V5", "Test User")
    assert [h.id for h in route.holds][:3] == ["17", "91", "6"]
    assert route.holds[0].wall_id == "hold_17"
    assert route.finish_wall_ids == {"hold_72", "hold_11"}
    assert route.type_of("hold_17") == "start" and route.type_of("hold_200") is None
    assert route.to_dict() == SEED_ROUTE


def test_unknown_holds_are_all_listed_once():
    data = json.loads(json.dumps(SEED_ROUTE))
    data["problem"]["holds"] += [{"id": "999", "type": "normal"}, {"id": "hold_5", "type": "finish"},
                                 {"id": "999", "type": "normal"}]
    with pytest.raises(InvalidInput, match=r"not on the wall: 999, hold_5\.$"):
        parse_route(data, SEED_WALL)


@pytest.mark.parametrize(
    "data, message",
    [
        ("{not json", "not valid JSON"),
        ([], "must be an object"),
        ({"grade": "V1"}, 'needs "problem"'),
        ({"problem": {"holds": "17"}}, 'needs "problem"'),
        ({"problem": {"holds": []}}, "no holds"),
        ({"problem": {"holds": [{"id": "17", "type": "top"}]}}, "type 'top'"),
        ({"problem": {"holds": [{"type": "start"}]}}, "hold 1 has no id"),
        ({"problem": {"holds": ["17"]}}, "hold 1 is not an object"),
        ({"grade": {"x": 1}, "problem": {"holds": [{"id": "17"}]}}, '"grade" must be text'),
    ],
)
def test_malformed_route_data_is_rejected_with_a_reason(data, message):
    with pytest.raises(InvalidInput, match=message):
        parse_route(data, SEED_WALL)


def test_a_new_climb_is_exactly_the_seed_001_format():
    route = parse_route(SEED_ROUTE, SEED_WALL)
    start = datetime(2025, 10, 19, 17, 44, 37, 187000, tzinfo=timezone.utc)
    data = new_climb_data(route, start)
    assert data == {
        "climb": {
            "holds": [{"id": h["id"], "type": h["type"], "status": "untouched", "time": None}
                      for h in SEED_ROUTE["problem"]["holds"]],
            "startTime": "2025-10-19T17:44:37.187Z",
            "endTime": None,
            "status": "started",
        },
        "pose": [],
    }
    assert list(data["climb"]["holds"][0]) == ["id", "type", "status", "time"]
    assert new_climb(None)["holds"] == [] and new_climb(None)["startTime"] is None


def test_times_are_iso_utc_with_milliseconds_and_z():
    assert format_time(1735732802.0) == "2025-01-01T12:00:02.000Z"
    assert format_time(1735732802.9999) == "2025-01-01T12:00:02.999Z"
    assert format_time(None) is None


@needs_real_data
def test_the_real_route_with_repeated_holds_validates_against_the_real_wall():
    wall = parse_wall_svg((PROJECTCLIMB / "wall_2025-11-16.svg").read_bytes())
    route = parse_route((PROJECTCLIMB / "route_session.json").read_text(), wall)
    assert len(route.holds) == 145 and len(route.wall_ids) == 142
    assert route.type_of("hold_3") == "start" and route.finish_wall_ids == {"hold_209"}
    climb = new_climb(route)
    assert len(climb["holds"]) == 145 and all(h["status"] == "untouched" for h in climb["holds"])


@settings(deadline=None, database=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.sampled_from(
                        ["grade", "author", "problem", "holds", "id", "type", "start"]), c, max_size=4),
                    max_leaves=12))
def test_any_json_value_is_a_route_or_invalid_input(data):
    try:
        route = parse_route(data, SEED_WALL)
    except InvalidInput:
        return
    assert route.holds and all(h.wall_id for h in route.holds)
