"""Wall SVGs → hold geometry: the real projectclimb wall and generated walls with exact answers."""
import math
from pathlib import Path

import pytest
import shapely
from hypothesis import example, given, settings, strategies as st

from motion.climbing import HoldIndex, parse_wall_svg, resolve_hold_id
from motion.errors import InvalidInput

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "walls"
REAL_SVG = DATA / "projectclimb" / "wall_2025-11-16.svg"
needs_real_wall = pytest.mark.skipif(
    not REAL_SVG.exists(),
    reason=f"real wall data not found at {REAL_SVG} (../shared/data is not part of the repository)",
)


def svg(body: str, attrs: str = 'viewBox="0 0 1000 1000" width="1000" height="1000"') -> str:
    return f'<svg xmlns="http://www.w3.org/2000/svg" {attrs}>{body}</svg>'


SQUARE = "M 0 0 L 100 0 L 100 100 L 0 100 Z"


def corners(hold):
    """The polygon's exterior vertices, rounded, as a set."""
    return {(round(x, 6), round(y, 6)) for x, y in hold.shape.exterior.coords}


# -- the real wall -------------------------------------------------------------

@needs_real_wall
def test_real_projectclimb_wall_loads_every_one_of_its_142_holds():
    wall = parse_wall_svg(REAL_SVG.read_bytes())
    expected = {f"hold_{n}" for n in [*range(0, 66), *range(100, 166), *range(200, 210)]}
    assert (wall.width, wall.height) == (2500, 3330)
    assert set(wall.hold_ids) == expected and len(wall.holds) == 142
    assert wall.skipped == ()
    for hold in wall.holds:
        assert hold.shape.is_valid and hold.area > 100
        minx, miny, maxx, maxy = hold.bbox
        assert 0 <= minx < maxx <= 2500 and 0 <= miny < maxy <= 3330
        assert hold.d.startswith("M")


@needs_real_wall
def test_real_wall_holds_match_the_bounding_box_svg_of_the_same_wall():
    wall = parse_wall_svg(REAL_SVG.read_bytes())
    boxes = parse_wall_svg((DATA / "projectclimb" / "wall_2025-11-16_bbox.svg").read_bytes(), include_shapes=True)
    assert set(boxes.hold_ids) == set(wall.hold_ids)
    worst = max(
        max(abs(a - b) for a, b in zip(wall.hold(i).bbox, boxes.hold(i).bbox)) for i in wall.hold_ids
    )
    assert worst < 3.0  # wall units, on a 2500-unit wall (the boxes were drawn from the control polygon)


def test_real_hangboard_with_two_outlines_both_named_path_is_rejected_naming_the_id():
    path = DATA / "hangboard" / "beastmaker2000_hangboard.svg"
    if not path.exists():
        pytest.skip(f"{path} not found (../shared/data is not part of the repository)")
    with pytest.raises(InvalidInput, match="used more than once: Path"):
        parse_wall_svg(path.read_bytes())


# -- generated walls: transforms -------------------------------------------------

@pytest.mark.parametrize(
    "transform, expected",
    [
        ("translate(10,20)", {(10, 20), (110, 20), (110, 120), (10, 120)}),
        ("scale(2,3)", {(0, 0), (200, 0), (200, 300), (0, 300)}),
        ("rotate(90)", {(0, 0), (0, 100), (-100, 100), (-100, 0)}),
        ("rotate(180 50 50)", {(100, 100), (0, 100), (0, 0), (100, 0)}),
        ("matrix(1,0,0.5,1,0,0)", {(0, 0), (100, 0), (150, 100), (50, 100)}),
        ("translate(100,0) scale(-1,1)", {(100, 0), (0, 0), (0, 100), (100, 100)}),
    ],
)
def test_path_transforms_are_applied_exactly(transform, expected):
    wall = parse_wall_svg(svg(f'<path id="a" transform="{transform}" d="{SQUARE}"/>'))
    assert corners(wall.hold("a")) == expected


def test_nested_group_transforms_compose_outer_first():
    body = (
        '<g transform="translate(500,0)"><g transform="scale(2)">'
        f'<path id="a" transform="translate(10,10)" d="{SQUARE}"/></g></g>'
    )
    hold = parse_wall_svg(svg(body)).hold("a")
    assert corners(hold) == {(520, 20), (720, 20), (720, 220), (520, 220)}
    assert hold.area == pytest.approx(40000)
    assert hold.centroid == pytest.approx((620, 120))
    assert hold.bbox == pytest.approx((520, 20, 720, 220))


def test_coordinates_are_viewbox_user_units_whatever_the_physical_size():
    body = f'<path id="a" transform="translate(50,60)" d="{SQUARE}"/>'
    wall = parse_wall_svg(svg(body, 'width="120mm" height="80mm" viewBox="0 0 1500 1000"'))
    assert (wall.width, wall.height) == (1500, 1000)
    assert corners(wall.hold("a")) == {(50, 60), (150, 60), (150, 160), (50, 160)}


def test_a_viewbox_with_an_origin_keeps_user_coordinates_and_normalises_from_the_origin():
    wall = parse_wall_svg(svg(f'<path id="a" d="{SQUARE}"/>', 'viewBox="-100 -200 400 800"'))
    assert wall.hold("a").bbox == pytest.approx((0, 0, 100, 100))
    assert wall.to_normalised([[100, 200]]).tolist() == [[0.5, 0.5]]
    assert wall.from_normalised([[0.5, 0.5]]).tolist() == [[100, 200]]


def test_relative_commands_and_h_v_shorthands_give_the_same_square():
    wall = parse_wall_svg(svg('<path id="a" d="m 10 10 h 100 v 100 h -100 z"/>'))
    assert corners(wall.hold("a")) == {(10, 10), (110, 10), (110, 110), (10, 110)}


# -- generated walls: curves -----------------------------------------------------

def test_arcs_are_flattened_to_a_circle_within_the_flatness():
    r = 50.0
    d = f"M {100 - r} 100 A {r} {r} 0 1 0 {100 + r} 100 A {r} {r} 0 1 0 {100 - r} 100 Z"
    hold = parse_wall_svg(svg(f'<path id="c" d="{d}"/>'), flatness=0.05).hold("c")
    assert hold.centroid == pytest.approx((100, 100), abs=1e-6)
    assert hold.area == pytest.approx(math.pi * r * r, rel=2e-3)
    radii = [math.hypot(x - 100, y - 100) for x, y in hold.shape.exterior.coords]
    assert min(radii) >= r - 0.05 - 1e-9 and max(radii) <= r + 1e-9


def test_cubic_curves_stay_within_the_flatness_of_the_true_curve():
    # a cubic "circle" of radius 100: k = 0.5523 is the classic four-arc approximation
    k = 0.5522847498 * 100
    d = (f"M 200 100 C 200 {100 + k} {100 + k} 200 100 200 C {100 - k} 200 0 {100 + k} 0 100 "
         f"C 0 {100 - k} {100 - k} 0 100 0 C {100 + k} 0 200 {100 - k} 200 100 Z")
    coarse = parse_wall_svg(svg(f'<path id="c" d="{d}"/>'), flatness=2.0).hold("c")
    fine = parse_wall_svg(svg(f'<path id="c" d="{d}"/>'), flatness=0.01).hold("c")
    assert fine.area == pytest.approx(math.pi * 100 * 100, rel=1e-3)
    assert shapely.hausdorff_distance(coarse.shape.exterior, fine.shape.exterior) <= 2.0 + 0.01
    assert len(coarse.shape.exterior.coords) < len(fine.shape.exterior.coords)


def test_quadratic_curve_hold_has_the_exact_area_of_its_parabolic_segment():
    # the region between y=0 and the parabola through (0,0),(100,0) with control (50,100): area 2/3·base·height
    hold = parse_wall_svg(svg('<path id="q" d="M 0 0 Q 50 100 100 0 Z"/>'), flatness=0.001).hold("q")
    assert hold.area == pytest.approx(2 / 3 * 100 * 50, rel=1e-4)


def test_a_path_with_a_hole_subtracts_the_hole():
    d = "M 0 0 L 100 0 L 100 100 L 0 100 Z M 25 25 L 25 75 L 75 75 L 75 25 Z"
    hold = parse_wall_svg(svg(f'<path id="ring" d="{d}"/>')).hold("ring")
    assert hold.area == pytest.approx(10000 - 2500)
    assert HoldIndex([hold]).within(50, 50, 1.0) == {}  # the hole is not part of the hold


# -- what is a hold, and what is rejected -----------------------------------------

def test_only_paths_with_ids_are_holds_and_shapes_only_on_request():
    body = f'<path d="{SQUARE}"/><path id="a" d="{SQUARE}"/><rect id="r" x="0" y="0" width="5" height="5"/>'
    assert parse_wall_svg(svg(body)).hold_ids == ("a",)
    assert parse_wall_svg(svg(body), include_shapes=True).hold_ids == ("a", "r")


def test_unparsable_path_data_is_rejected_naming_every_bad_id():
    body = f'<path id="good" d="{SQUARE}"/><path id="bad1" d="M 0 0 L 10 Q"/><path id="bad2" d="M 0 0 L 5 5 banana"/>'
    with pytest.raises(InvalidInput, match="bad1, bad2"):
        parse_wall_svg(svg(body))


def test_an_svg_without_usable_holds_is_rejected_and_says_which_ids_had_no_area():
    with pytest.raises(InvalidInput, match="no usable holds.*line"):
        parse_wall_svg(svg('<path id="line" d="M 0 0 L 100 100"/>'))
    with pytest.raises(InvalidInput, match="no usable holds"):
        parse_wall_svg(svg('<rect x="0" y="0" width="10" height="10"/>'))


def test_zero_area_paths_are_skipped_when_other_holds_are_usable():
    wall = parse_wall_svg(svg(f'<path id="a" d="{SQUARE}"/><path id="line" d="M 0 0 L 100 100"/>'))
    assert wall.hold_ids == ("a",) and wall.skipped == ("line",)


@pytest.mark.parametrize("document", [b"", b"not xml at all", b"<html><body/></html>", "<svg"])
def test_documents_that_are_not_svg_are_rejected_as_invalid_input(document):
    with pytest.raises(InvalidInput):
        parse_wall_svg(document)


# -- hold ids -------------------------------------------------------------------

@pytest.mark.parametrize(
    "ref, expected",
    [("17", "hold_17"), (17, "hold_17"), (" 17 ", "hold_17"), ("hold_17", "hold_17"),
     ("18", None), ("", None), (None, None), (True, None), ("x", "x")],
)
def test_route_references_resolve_bare_numbers_to_svg_ids(ref, expected):
    assert resolve_hold_id(ref, {"hold_17", "x"}) == expected


def test_svg_ids_resolve_to_bare_numbered_walls_too():
    assert resolve_hold_id("hold_5", ["5", "6"]) == "5"


@settings(deadline=None, database=None)
@given(st.one_of(st.text(max_size=12), st.integers(), st.none(), st.floats(), st.booleans()))
def test_resolving_any_value_returns_a_wall_id_or_none(ref):
    assert resolve_hold_id(ref, {"hold_1", "2"}) in (None, "hold_1", "2")


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(alphabet="MLHVCSQTAZmlhvcsqtaz0123456789 ,.-e", max_size=40))
@example("CZ")  # no moveto: svgelements builds segments without points
@example("M 0 0 C 10 0 10 10 Z")
def test_any_path_data_either_loads_or_raises_invalid_input(d):
    try:
        wall = parse_wall_svg(svg(f'<path id="h" d="{d}"/>'))
    except InvalidInput:
        return
    assert wall.hold("h").area > 0
