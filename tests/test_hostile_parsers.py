"""Hostile input on every parser: the only outcomes are a valid result or the parser's own error.

Each test feeds one parser generated garbage (random text and bytes, deeply
nested JSON, huge numbers, NaN/inf, negative sizes, wrong types, unicode,
truncated or entity-laden SVG) and checks that it either returns something
satisfying the parser's invariants or raises the project's clear error type
(``MotionError`` in the domain, ``ValidationError`` for schemas, the socket
modules' own message errors). Any other exception fails the test.
"""
from __future__ import annotations

import base64
import json
import math
import time
from xml.sax.saxutils import quoteattr

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError

from motion.climbing.calibration import Calibration, compute_calibration, import_earlier_calibration
from motion.climbing.holds import parse_wall_svg, resolve_hold_id
from motion.climbing.output import build_session_message
from motion.climbing.pose import LANDMARK_COUNT, parse_pose_message
from motion.climbing.pose_source import jsonl_pose_messages
from motion.climbing.route import HOLD_TYPES, format_time, parse_route
from motion.climbing.tracker import ClimbTracker, TrackerParameters
from motion.errors import MotionError
from motion.video.frames import removed_indices
from motion.video.masks import MODES, compile_regions
from motion.video.presets import device_regions
from tests.climbing_support import GENERATED_SVG, SMALL_ROUTE

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow in numpy/shapely is expected here

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
QUICK = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- strategies ---------------------------------------------------------------

#: 10**5000 has more digits than ``str(int)`` converts by default (4300): built lazily so nothing reprs it.
HUGE_INTS = st.sampled_from([2**31, 2**63, -(2**63) - 1, 10**20, 10**400, -(10**400)]) | st.just(5000).map(
    lambda n: 10**n)
NUMBERS = st.one_of(
    st.integers(), HUGE_INTS,
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, -0.0, 1e308, -1e308, 5e-324, float("nan"), float("inf"), float("-inf")]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=20))
JSON_LIKE = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=15,
)
#: Values that survive ``json.dumps`` (ints of at most 4300 digits).
DUMPABLE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from([10**400, -(10**400)]),
              st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20)),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=15,
)
DEEP = st.integers(min_value=900, max_value=200_000).flatmap(lambda n: st.sampled_from([
    "[" * n, "[" * n + "]" * n, '{"a":' * n + "1" + "}" * n, '{"type":"pose","landmarks":' + "[" * n + "]" * n + "}",
]))
HOSTILE_TEXT = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200),
    DUMPABLE.map(json.dumps),
    DEEP,
    st.sampled_from(["1" * 5000, '{"x": ' + "9" * 5000 + "}", "NaN", "-Infinity", '{"a": NaN}', "\ufeff{}",
                     '{"type": "pose"', "", " ", "null", "[]", '"text"', "\x00", "{\"a\":\"\\ud800\"}"]),
)


def only(fn, *args, errors: tuple[type[BaseException], ...] = (MotionError,), **kwargs):
    """``fn(*args)``, or None when it raised one of ``errors`` (with a message for a person)."""
    try:
        return fn(*args, **kwargs)
    except errors as exc:
        text = str(exc)
        assert "Traceback" not in text and 'File "' not in text, text
        return None


def finite(*values) -> bool:
    return all(math.isfinite(float(v)) for v in values)


# -- the JSON reader every parser and socket uses ----------------------------------

@FAST
@given(st.one_of(HOSTILE_TEXT, DUMPABLE.map(json.dumps), st.text(max_size=30).map(lambda t: json.dumps({"k": t})),
                 st.sampled_from(['{"a": "\\u0000"}', '{"\\u0000": 1}', '["x\\u0000y"]', '"\\\\u0000"'])))
def test_json_text_reads_to_strict_shallow_nul_free_values_or_value_error(text) -> None:
    from motion import jsontext

    value = only(jsontext.loads, text, errors=(ValueError,))
    if value is None:
        return
    json.dumps(value, allow_nan=False)
    assert jsontext.depth(value) <= jsontext.MAX_DEPTH and not jsontext.has_nul(value)


# -- SVG walls ----------------------------------------------------------------

SVG_NUMBER = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**6, 10**6).map(str),
    st.sampled_from(["1e308", "-1e308", "1e999", "nan", "inf", "-0", "1e-320", "", "--1", "1..2", "0x10", "٣"]),
)
PATH_DATA = st.lists(
    st.tuples(st.sampled_from("MmLlHhVvCcSsQqTtAaZz"), st.lists(SVG_NUMBER, max_size=7)),
    max_size=8,
).map(lambda cmds: " ".join(c + " " + " ".join(args) for c, args in cmds))
TRANSFORM = st.one_of(
    st.just(""),
    st.tuples(st.sampled_from(["translate", "scale", "rotate", "matrix", "skewX", "bogus"]),
              st.lists(SVG_NUMBER, max_size=6)).map(lambda t: f"{t[0]}({' '.join(t[1])})"),
)
HOLD_ID = st.one_of(st.text(max_size=12), st.sampled_from(["hold_1", "17", "a", "hold_1"]))


@st.composite
def svg_element(draw) -> str:
    kind = draw(st.sampled_from(["path", "path", "path", "rect", "circle", "g", "polygon"]))
    attrs = {"id": draw(HOLD_ID)}
    if draw(st.booleans()):
        attrs["transform"] = draw(TRANSFORM)
    if kind == "path":
        attrs["d"] = draw(PATH_DATA | st.sampled_from(["M 0 0 h 10 v 10 h -10 Z", "M0 0 L 5 5"]))
        attrs["fill-rule"] = draw(st.sampled_from(["nonzero", "evenodd", "junk"]))
    elif kind == "rect":
        attrs.update(x=draw(SVG_NUMBER), y=draw(SVG_NUMBER), width=draw(SVG_NUMBER), height=draw(SVG_NUMBER))
    elif kind == "circle":
        attrs.update(cx=draw(SVG_NUMBER), cy=draw(SVG_NUMBER), r=draw(SVG_NUMBER))
    elif kind == "polygon":
        attrs["points"] = " ".join(draw(st.lists(SVG_NUMBER, max_size=8)))
    text = " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items())
    if kind == "g":
        inner = draw(st.lists(st.just('<path id="in" d="M 0 0 h 5 v 5 Z"/>'), max_size=2))
        return f"<g {text}>{''.join(inner)}</g>"
    return f"<{kind} {text}/>"


@st.composite
def svg_document(draw) -> str:
    box = " ".join(draw(st.lists(SVG_NUMBER, min_size=0, max_size=5)))
    size = draw(st.sampled_from(["", 'width="100" height="100"', 'width="-5" height="0"',
                                 'width="1e400mm" height="x"']))
    body = "".join(draw(st.lists(svg_element(), max_size=6)))
    return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox={quoteattr(box)} {size}>{body}</svg>'


def check_wall(wall) -> None:
    """A parsed wall: a finite positive size and holds with unique ids and finite, positive area."""
    assert finite(wall.width, wall.height, *wall.origin) and wall.width > 0 and wall.height > 0
    assert wall.holds and len(set(wall.hold_ids)) == len(wall.holds)
    for hold in wall.holds:
        assert isinstance(hold.id, str) and hold.id
        assert finite(hold.area, *hold.bbox, *hold.centroid) and hold.area > 0
        json.dumps(hold.to_dict(), allow_nan=False)


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "lollollollollollollollollollol">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    + ']><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><path id="&j;" d="M0 0 h5 v5 Z"/></svg>'
)
QUADRATIC_BLOWUP = (
    '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "' + "x" * 50_000 + '">]>'
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><path id="h" d="M0 0 h5 v5 Z">'
    + "&a;" * 2000 + "</path></svg>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><path id="a&x;" d="M0 0 h5 v5 Z"/></svg>'
)
PARAMETER_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><path id="a" d="M0 0 h5 v5 Z"/></svg>'
)
EXTERNAL_DTD = (
    '<?xml version="1.0"?><!DOCTYPE svg SYSTEM "http://127.0.0.1:9/evil.dtd">'
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><path id="a" d="M0 0 h5 v5 Z"/></svg>'
)


@FAST
@given(svg_document())
@example('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 -10 -10"><path id="a" d="M0 0 h5 v5 Z"/></svg>')
@example('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1e400 10"><path id="a" d="M0 0 h5 v5 Z"/></svg>')
@example('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><path id="a" d="M0 0 h1e308 v1e308 Z"/></svg>')
@example('<svg xmlns="http://www.w3.org/2000/svg" width="-3" height="-3"><path id="a" d="M0 0 h5 v5 Z"/></svg>')
# Found by a CI run: finite bounds and area, but the centroid overflowed to inf.
@example('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
         '<path id="0" d="M 0,0 L 1,0 L 1,7.7410015176E+153 L 0,7.7410015176E+153 Z"/></svg>')
def test_generated_svg_gives_a_valid_wall_or_invalid_input(document: str) -> None:
    wall = only(parse_wall_svg, document, include_shapes=True)
    if wall is not None:
        check_wall(wall)


@QUICK
@given(st.integers(min_value=0, max_value=len(GENERATED_SVG)))
def test_truncated_svg_gives_a_valid_wall_or_invalid_input(cut: int) -> None:
    wall = only(parse_wall_svg, GENERATED_SVG[:cut])
    if wall is not None:
        check_wall(wall)


@QUICK
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300), HOSTILE_TEXT))
def test_random_bytes_and_text_are_not_a_wall(data) -> None:
    wall = only(parse_wall_svg, data)
    if wall is not None:
        check_wall(wall)


@pytest.mark.parametrize("document", [BILLION_LAUGHS, QUADRATIC_BLOWUP, EXTERNAL_ENTITY, PARAMETER_ENTITY,
                                      EXTERNAL_DTD], ids=["billion-laughs", "quadratic-blowup",
                                                          "external-entity", "parameter-entity", "external-dtd"])
def test_xml_entity_attacks_are_refused_quickly_and_read_no_files(document: str) -> None:
    started = time.monotonic()
    wall = only(parse_wall_svg, document)
    assert time.monotonic() - started < 5
    if wall is not None:
        check_wall(wall)
        for hold in wall.holds:
            assert "root:" not in hold.id and len(hold.id) < 1000


def test_svg_parsing_fetches_no_external_dtd_or_entity() -> None:
    import http.server
    import threading

    requested: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            requested.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'<!ENTITY x "fetched">')

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        for doc in (
            f'<?xml version="1.0"?><!DOCTYPE svg SYSTEM "{url}/dtd">'
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><path id="a" d="M0 0 h5 v5 Z"/></svg>',
            f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "{url}/entity">]>'
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><path id="a&x;" d="M0 0 h5 v5 Z"/></svg>',
            f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY % p SYSTEM "{url}/param"> %p;]>'
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><path id="a" d="M0 0 h5 v5 Z"/></svg>',
        ):
            wall = only(parse_wall_svg, doc)
            assert wall is None or all("fetched" not in h.id for h in wall.holds)
    finally:
        server.shutdown()
    assert requested == []


# -- route data (the earlier system's format) -----------------------------------

WALL = parse_wall_svg(GENERATED_SVG)
ROUTE_HOLD = st.one_of(
    st.fixed_dictionaries({}, optional={
        "id": st.one_of(SCALARS, st.sampled_from(["0", "5", "hold_3", " 1 ", "17", "", "rect", "hold_hold_1"])),
        "type": st.one_of(st.sampled_from(HOLD_TYPES), SCALARS)}),
    JSON_LIKE,
)
ROUTE_DATA = st.one_of(
    st.fixed_dictionaries({}, optional={
        "grade": st.one_of(SCALARS, JSON_LIKE), "author": st.one_of(SCALARS, JSON_LIKE),
        "problem": st.one_of(JSON_LIKE, st.fixed_dictionaries({}, optional={
            "holds": st.one_of(st.lists(ROUTE_HOLD, max_size=6), JSON_LIKE)}))}),
    JSON_LIKE,
)


def check_route(route, wall) -> None:
    """A parsed route: at least one hold, each with a non-empty id, a known type, and on the wall."""
    assert route.holds and isinstance(route.grade, str) and isinstance(route.author, str)
    for hold in route.holds:
        assert isinstance(hold.id, str) and hold.id.strip() == hold.id and hold.id
        assert hold.type in HOLD_TYPES
        if wall is not None:
            assert hold.wall_id in wall.hold_ids
    json.dumps(route.to_dict(), allow_nan=False)
    assert parse_route(route.to_dict(), wall) == route


@FAST
@given(ROUTE_DATA, st.booleans())
@example({"grade": 10**5000, "problem": {"holds": [{"id": "0"}]}}, False)
@example({"problem": {"holds": [{"id": 10**5000}]}}, True)
@example(SMALL_ROUTE, True)
def test_route_data_gives_a_valid_route_or_invalid_input(data, on_wall: bool) -> None:
    wall = WALL if on_wall else None
    route = only(parse_route, data, wall)
    if route is not None:
        check_route(route, wall)


@FAST
@given(HOSTILE_TEXT)
def test_route_text_gives_a_valid_route_or_invalid_input(text) -> None:
    route = only(parse_route, text, WALL)
    if route is not None:
        check_route(route, WALL)


@QUICK
@given(SCALARS | JSON_LIKE)
def test_hold_references_resolve_to_a_wall_id_or_none(ref) -> None:
    resolved = resolve_hold_id(ref, WALL.hold_ids)
    assert resolved is None or resolved in WALL.hold_ids


# -- pose messages (the tracker's input) ------------------------------------------

COORD = st.one_of(st.floats(-2, 2), NUMBERS, SCALARS)
LANDMARK = st.one_of(
    st.fixed_dictionaries({"x": COORD, "y": COORD}, optional={"z": COORD, "visibility": COORD}),
    st.lists(COORD, min_size=3, max_size=4),
    JSON_LIKE,
)
VALID_LANDMARK = st.fixed_dictionaries({"x": st.floats(-1, 2), "y": st.floats(-1, 2), "z": st.floats(-1, 1),
                                        "visibility": st.floats(0, 1)})
POSE_MESSAGE = st.fixed_dictionaries({}, optional={
    "type": st.one_of(st.just("pose"), SCALARS),
    "timestamp": st.one_of(st.floats(0, 2e12), NUMBERS, SCALARS),
    "width": st.one_of(st.just(480), NUMBERS, SCALARS),
    "height": st.one_of(st.just(640), NUMBERS, SCALARS),
    "landmarks": st.one_of(st.lists(LANDMARK, min_size=33, max_size=33), st.lists(VALID_LANDMARK, min_size=33,
                           max_size=33), st.lists(LANDMARK, max_size=40), JSON_LIKE, st.none()),
})


def check_pose_frame(frame) -> None:
    """A parsed pose: finite time that formats as a date, a finite positive size, 0 or 33 finite landmarks."""
    assert finite(frame.timestamp) and frame.timestamp >= 0
    format_time(frame.timestamp)
    assert finite(frame.width, frame.height) and frame.width > 0 and frame.height > 0
    assert frame.landmarks.shape in ((0, 4), (LANDMARK_COUNT, 4))
    assert np.isfinite(frame.landmarks).all()


@FAST
@given(POSE_MESSAGE, st.booleans())
@example({"timestamp": 10**400, "width": 1, "height": 1}, False)
@example({"timestamp": 1, "width": 10**400, "height": 1}, False)
@example({"timestamp": 1e300, "width": 1, "height": 1}, False)
@example({"timestamp": 1, "width": 1, "height": 1, "landmarks": [{"x": 10**400, "y": 0}] * 33}, False)
def test_pose_messages_give_a_valid_frame_or_invalid_input(message, fallbacks: bool) -> None:
    kwargs = {"fallback_size": (640.0, 480.0), "arrival_time": 1_700_000_000.0} if fallbacks else {}
    frame = only(parse_pose_message, message, **kwargs)
    if frame is not None:
        check_pose_frame(frame)


@FAST
@given(HOSTILE_TEXT)
def test_pose_message_text_gives_a_valid_frame_or_invalid_input(text) -> None:
    frame = only(parse_pose_message, text, fallback_size=(640.0, 480.0), arrival_time=1_700_000_000.0)
    if frame is not None:
        check_pose_frame(frame)


# A calibration with strong perspective: its horizon lies within reach of hostile landmarks.
CALIBRATION = compute_calibration([[0, 0], [640, 0], [640, 480], [0, 480]],
                                  [[0, 0], [2000, 0], [1500, 1500], [500, 1500]], (640, 480))


@FAST
@given(st.lists(st.one_of(POSE_MESSAGE, HOSTILE_TEXT), min_size=1, max_size=6))
def test_tracker_steps_never_raise_and_its_output_is_strict_json(messages) -> None:
    tracker = ClimbTracker(WALL, CALIBRATION, SMALL_ROUTE, TrackerParameters(touch_duration=0.0))
    for n, message in enumerate(messages):
        result = tracker.step(message, arrival_time=1_700_000_000.0 + n)
        json.dumps(build_session_message(tracker, result), allow_nan=False)
    assert tracker.counters.messages == len(messages)


@QUICK
@given(st.lists(HOSTILE_TEXT.filter(lambda t: isinstance(t, str)), max_size=5))
def test_recorded_pose_lines_give_messages_or_invalid_input(lines) -> None:
    def read():
        return [(m.message, m.at) for m in jsonl_pose_messages(line.replace("\n", " ") for line in lines)]

    out = only(read)
    for message, at in out or ():
        assert isinstance(message, dict) and finite(at) and at >= 0


@QUICK
@given(st.fixed_dictionaries({}, optional={
    "manual_image_points": JSON_LIKE | st.lists(st.lists(NUMBERS, min_size=2, max_size=2), max_size=6),
    "manual_svg_points": JSON_LIKE | st.lists(st.lists(NUMBERS, min_size=2, max_size=2), max_size=6),
    "perspective_transform": JSON_LIKE | st.lists(st.lists(NUMBERS, min_size=3, max_size=3), min_size=3,
                                                  max_size=3),
    "camera_matrix": JSON_LIKE | st.lists(st.lists(NUMBERS, min_size=3, max_size=3), min_size=3, max_size=3),
    "hand_extension_percent": SCALARS}) | JSON_LIKE)
def test_earlier_calibration_exports_give_a_usable_calibration_or_invalid_input(data) -> None:
    cal = only(import_earlier_calibration, data, (2500.0, 3330.0))
    if cal is not None:
        assert isinstance(cal, Calibration) and np.isfinite(cal.homography).all()
        assert finite(*cal.image_size) and min(cal.image_size) > 0
        json.dumps(cal.to_dict(), allow_nan=False)


# -- mask configs -------------------------------------------------------------------

REGION = st.one_of(
    st.fixed_dictionaries({"shape": st.just("rect"), "x": NUMBERS, "y": NUMBERS, "width": NUMBERS,
                           "height": NUMBERS}, optional={"mode": SCALARS, "color": JSON_LIKE}),
    st.fixed_dictionaries({"shape": st.just("rect"), "x": st.floats(-50, 300), "y": st.floats(-50, 300),
                           "width": st.floats(-10, 400), "height": st.floats(-10, 400)},
                          optional={"mode": st.sampled_from(MODES)}),
    st.fixed_dictionaries({"shape": st.just("polygon"), "points": st.lists(
        st.lists(st.one_of(st.floats(-50, 300), NUMBERS), min_size=2, max_size=2), max_size=8)}),
    st.fixed_dictionaries({"points": JSON_LIKE}),
    JSON_LIKE,
)
MASK_SPEC = st.fixed_dictionaries({}, optional={
    "regions": st.one_of(st.lists(REGION, max_size=4), JSON_LIKE),
    "mode": st.one_of(st.sampled_from(MODES), SCALARS), "color": JSON_LIKE | st.lists(NUMBERS, max_size=4),
    "faces": SCALARS, "face_mode": SCALARS, "device": SCALARS, "segments": SCALARS})
FRAME_SIZE = st.tuples(st.integers(-5, 320), st.integers(-5, 240))


def check_regions(regions, width: int, height: int) -> None:
    for r in regions:
        assert 0 <= r.x0 < r.x1 <= width and 0 <= r.y0 < r.y1 <= height
        assert r.mode in MODES and all(isinstance(c, int) and 0 <= c <= 255 for c in r.color)
        if r.mask is not None:
            assert r.mask.shape == (r.y1 - r.y0, r.x1 - r.x0) and r.mask.any()
    frame = np.zeros((max(height, 1), max(width, 1), 3), np.uint8)
    for r in regions:
        r.apply(frame)


@FAST
@given(MASK_SPEC, FRAME_SIZE)
def test_mask_configs_compile_to_regions_inside_the_frame_or_are_refused(body, size) -> None:
    from app.schemas.videos import MaskJobSchema

    width, height = size
    spec = only(MaskJobSchema().load, body, errors=(ValidationError,))
    if spec is None:
        return
    regions = only(compile_regions, spec["regions"], width, height, spec["mode"], spec["color"])
    if regions is not None:
        check_regions(regions, width, height)


@FAST
@given(st.one_of(st.lists(REGION, max_size=4), JSON_LIKE), FRAME_SIZE, SCALARS, JSON_LIKE)
def test_region_specs_compile_or_raise_invalid_input(specs, size, mode, color) -> None:
    width, height = size
    for args in ((specs, width, height), (specs, width, height, mode, color)):
        regions = only(compile_regions, *args)
        if regions is not None:
            check_regions(regions, width, height)


@QUICK
@given(SCALARS, st.dictionaries(st.text(max_size=5), JSON_LIKE, max_size=3) | JSON_LIKE)
def test_device_presets_give_a_region_list_or_invalid_input(name, presets) -> None:
    regions = only(device_regions, name, presets if isinstance(presets, dict) else {"x": presets})
    assert regions is None or (isinstance(regions, list) and regions)


# -- frame ranges -------------------------------------------------------------------

INDEX = st.one_of(st.integers(-5, 400), NUMBERS, SCALARS)
REMOVAL_SPEC = st.fixed_dictionaries({}, optional={
    "frames": st.one_of(st.lists(INDEX, max_size=5), JSON_LIKE),
    "ranges": st.one_of(st.lists(st.lists(INDEX, min_size=2, max_size=2), max_size=4), JSON_LIKE),
    "times": st.one_of(st.lists(st.lists(st.one_of(st.floats(-1, 20), NUMBERS), min_size=2, max_size=2),
                                max_size=4), JSON_LIKE),
})
VIDEO = st.tuples(st.integers(-3, 400), st.one_of(st.floats(-5, 240), st.sampled_from([0.0, float("nan"),
                                                                                       float("inf")])))


def check_removed(removed, frames: int) -> None:
    assert removed and len(removed) < frames
    assert all(isinstance(i, int) and 0 <= i < frames for i in removed)


@FAST
@given(REMOVAL_SPEC, VIDEO)
def test_frame_ranges_resolve_to_frames_of_the_video_or_are_refused(body, video) -> None:
    from app.schemas.videos import RemoveFramesJobSchema

    frames, fps = video
    spec = only(RemoveFramesJobSchema().load, body, errors=(ValidationError,))
    if spec is None:
        return
    removed = only(removed_indices, spec, frames, fps)
    if removed is not None:
        check_removed(removed, frames)


@FAST
@given(REMOVAL_SPEC | JSON_LIKE, VIDEO)
def test_raw_frame_range_specs_resolve_or_raise_invalid_input(spec, video) -> None:
    frames, fps = video
    removed = only(removed_indices, spec, frames, fps)
    if removed is not None:
        check_removed(removed, frames)


# -- workout frames (data URLs) and socket messages ---------------------------------

JPEG, PNG = b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n"
IMAGE_BYTES = st.one_of(st.binary(max_size=64), st.binary(max_size=64).map(lambda b: JPEG + b),
                        st.binary(max_size=64).map(lambda b: PNG + b))
DATA_URL = st.one_of(
    st.tuples(st.sampled_from(["data:image/jpeg;base64,", "data:image/png;base64,", "data:text/plain;base64,",
                               "data:image/jpeg,", "data:;base64,", "data:image/jpeg;base64", ""]),
              IMAGE_BYTES.map(lambda b: base64.b64encode(b).decode())).map("".join),
    st.text(max_size=100), SCALARS, JSON_LIKE,
    st.sampled_from(["data:image/jpeg;base64,/9j/" + "A" * 3 + "=", "data:image/jpeg;base64,/9j/4AAQ\u00e9",
                     "data:image/png;base64," + "iVBORw0KGgo" + "=" * 5]),
)


@FAST
@given(DATA_URL, st.sampled_from([16, 1024]))
def test_workout_frame_payloads_are_images_within_the_cap_or_bad_frame(payload, cap: int) -> None:
    from app.sockets.workout import BadMessage, frame_data

    data = only(frame_data, payload, cap, errors=(BadMessage,))
    if data is not None:
        raw = base64.b64decode(data, validate=True)
        assert raw.startswith((JPEG[:3], PNG)) and len(raw) <= cap


def _dumps(value) -> str:
    """JSON text of ``value``; integers too long for ``json.dumps`` stay a hostile text of their own."""
    try:
        return json.dumps(value)
    except ValueError:
        return '{"type": "frame", "n": ' + "9" * 5000 + "}"


SOCKET_MESSAGE = st.one_of(
    HOSTILE_TEXT,
    st.fixed_dictionaries({"type": st.sampled_from(["frame", "reset", "get_summary", "climb_update", "pose_update",
                                                    "session_update", "play", "seek", "set_speed", "stop"])},
                          optional={"payload": DATA_URL, "action": SCALARS, "task_id": SCALARS, "speed": NUMBERS,
                                    "frame_number": NUMBERS, "climb": JSON_LIKE, "pose": JSON_LIKE,
                                    "session": JSON_LIKE}).map(_dumps),
    st.fixed_dictionaries({"action": st.sampled_from(["subscribe", "unsubscribe", "cancel"])},
                          optional={"task_id": st.one_of(SCALARS, st.text(max_size=100))}).map(_dumps),
)


@FAST
@given(SOCKET_MESSAGE)
def test_socket_message_parsers_answer_their_own_error_or_a_known_message(raw) -> None:
    from app.sockets import relay, tasks, workout
    from app.sockets.climbing import live, replay

    action = only(tasks.parse_action, raw, errors=(ValueError,))
    if action is not None:
        assert action[0] in tasks.ACTIONS and isinstance(action[1], str) and 0 < len(action[1]) <= 64
    message = only(workout.parse_message, raw, errors=(workout.BadMessage,))
    if message is not None:
        assert message["type"] in workout.TYPES
    parsed = only(live.parse, raw, errors=(live.BadMessage,))
    if parsed is not None:
        assert parsed[0] in live.MESSAGE_TYPES and isinstance(parsed[1], dict)
    problem = relay.validate(raw, 4096)
    assert problem is None or isinstance(problem, str)
    if problem is None:
        assert isinstance(json.loads(raw), dict)
    command = only(replay.parse, raw, errors=(ValueError,))
    if command is not None:
        assert isinstance(command, dict)
        sent: list = []
        player = replay.Player([{"frame_number": 0, "timestamp": 0.0, "kind": "pose", "data": {}}], sent.append)
        only(player.command, command, errors=(ValueError,))
        if sent:
            assert sent[-1]["type"] == "replay_state" and 0 < player.speed <= replay.MAX_SPEED


# -- schemas (REST bodies and socket messages) ------------------------------------------

def _schemas() -> list[Schema]:
    from app.schemas import climbing, tasks, tracker, videos
    from app.sockets.pose_recording import StartRecordingSchema

    return [
        videos.MaskJobSchema(), videos.RemoveFramesJobSchema(), videos.AnalyzeJobSchema(),
        tasks.TaskListQuerySchema(), tasks.PruneTasksSchema(),
        climbing.CalibrationCreateSchema(), climbing.ArucoCalibrationSchema(), climbing.RouteSchema(),
        climbing.ClimbSchema(), climbing.ClimbDataSchema(), climbing.SessionSchema(),
        climbing.SessionUpdateSchema(), climbing.LandmarkSchema(), climbing.RecordingSchema(),
        climbing.ListQuerySchema(), climbing.WallSchema(),
        tracker.TrackerStartSchema(), tracker.TrackerControlSchema(), StartRecordingSchema(),
    ]


#: Largest integer every database column can hold (PostgreSQL ``integer``).
INT_MAX = 2**31 - 1


def check_storable(value, path: str = "") -> None:
    """Loaded data holds no number a database column or a strict JSON encoder cannot take."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int):
        assert -INT_MAX - 1 <= value <= INT_MAX, f"{path} = {value} does not fit a database integer"
    elif isinstance(value, float):
        assert math.isfinite(value), f"{path} = {value} is not finite"
    elif isinstance(value, dict):
        for k, v in value.items():
            check_storable(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            check_storable(v, f"{path}[{i}]")


@pytest.mark.parametrize("schema", _schemas(), ids=lambda s: type(s).__name__)
def test_schemas_load_storable_data_or_raise_validation_error(schema: Schema) -> None:
    names = sorted(schema.fields)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.one_of(st.dictionaries(st.sampled_from(names), st.one_of(SCALARS, JSON_LIKE), max_size=6), JSON_LIKE))
    @example({name: 10**20 for name in names})
    @example({name: -(10**20) for name in names})
    def run(data) -> None:
        loaded = only(schema.load, data, errors=(ValidationError,))
        if loaded is not None:
            check_storable(loaded)

    run()


def _loadable_fields(schema: Schema, path: str = ""):
    """Every field a client can set, nested schemas and list items included, as ``(path, field)``."""
    from marshmallow import fields

    for name, field in schema.load_fields.items():
        stack = [(f"{path}{name}", field)]
        while stack:
            where, f = stack.pop()
            yield where, f
            if isinstance(f, fields.Nested):
                yield from _loadable_fields(f.schema, where + ".")
            elif isinstance(f, fields.List):
                stack.append((where + "[]", f.inner))
            elif isinstance(f, fields.Dict) and f.value_field is not None:
                stack.append((where + "{}", f.value_field))


@pytest.mark.parametrize("schema", _schemas(), ids=lambda s: type(s).__name__)
def test_every_number_a_client_sends_is_bounded_to_what_storage_takes(schema: Schema) -> None:
    from marshmallow import fields, validate

    for where, field in _loadable_fields(schema):
        if isinstance(field, fields.Integer):
            ranges = [v for v in field.validators if isinstance(v, validate.Range)]
            assert any(r.max is not None and r.max <= INT_MAX and r.min is not None and r.min >= -INT_MAX - 1
                       for r in ranges), f"{type(schema).__name__}.{where} takes integers of any size"
        elif isinstance(field, fields.Float):
            assert not field.allow_nan, f"{type(schema).__name__}.{where} takes NaN and infinity"
