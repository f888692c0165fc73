"""Wall geometry: an SVG of holds parsed into shapely shapes in wall units.

The wall coordinate space is the SVG's user space as its ``viewBox`` defines
it (the real projectclimb wall: ``0 0 2500 3330``). Every ``<path>`` with an
``id`` is a hold; its transforms (own and every enclosing group's) are
applied, curves and arcs are flattened to polylines within ``flatness`` wall
units of the true curve, and the result is a shapely (Multi)Polygon.
Parsing uses :mod:`svgelements`; this module only checks its work and turns
segments into polygons.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional, Union

import numpy as np
import shapely
import shapely.errors
import svgelements as se
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from motion.errors import InvalidInput

#: SVG shapes besides <path> that ``parse_wall_svg(include_shapes=True)`` also takes.
BASIC_SHAPES = (se.Rect, se.Circle, se.Ellipse, se.Polygon, se.SimpleLine, se.Polyline)

DEFAULT_FLATNESS = 0.25  # wall units; the real wall is 2500 units wide


@dataclass(frozen=True)
class Hold:
    """One hold: its SVG id, original path data and its shape in wall units."""

    id: str
    d: str
    shape: BaseGeometry
    wall_d: str = ""

    @property
    def centroid(self) -> tuple[float, float]:
        """Centre of mass of the hold's area, in wall units."""
        c = self.shape.centroid
        return (c.x, c.y)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """``(min_x, min_y, max_x, max_y)`` in wall units."""
        return tuple(self.shape.bounds)  # type: ignore[return-value]

    @property
    def area(self) -> float:
        """Area in square wall units."""
        return float(self.shape.area)

    def to_dict(self) -> dict:
        """The JSON shape the API returns for a hold."""
        return {
            "id": self.id,
            "d": self.d,
            "centroid": list(self.centroid),
            "bbox": list(self.bbox),
            "area": self.area,
        }


@dataclass(frozen=True)
class Wall:
    """A wall: its viewBox size (the wall coordinate space) and its holds."""

    width: float
    height: float
    holds: tuple[Hold, ...]
    origin: tuple[float, float] = (0.0, 0.0)
    skipped: tuple[str, ...] = ()
    _by_id: Mapping[str, Hold] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self._by_id:
            object.__setattr__(self, "_by_id", {h.id: h for h in self.holds})

    def hold(self, hold_id: str) -> Hold:
        """The hold with this exact SVG id (KeyError when absent)."""
        return self._by_id[hold_id]

    @property
    def hold_ids(self) -> tuple[str, ...]:
        """Every hold id, in document order."""
        return tuple(h.id for h in self.holds)

    def resolve(self, ref: Union[str, int]) -> Optional[str]:
        """The SVG id a route's hold reference names, or None (see :func:`resolve_hold_id`)."""
        return resolve_hold_id(ref, self._by_id)

    def to_normalised(self, points: np.ndarray) -> np.ndarray:
        """Wall units → ``[0, 1]`` of the viewBox (vectorised over the last axis)."""
        pts = np.asarray(points, dtype=np.float64)
        return (pts - self.origin) / (self.width, self.height)

    def from_normalised(self, points: np.ndarray) -> np.ndarray:
        """``[0, 1]`` of the viewBox → wall units."""
        pts = np.asarray(points, dtype=np.float64)
        return pts * (self.width, self.height) + self.origin


def resolve_hold_id(ref: Union[str, int], hold_ids: Iterable[str]) -> Optional[str]:
    """Map a route's hold reference to a wall's SVG id, or None if it names no hold.

    Routes of the earlier system name holds by bare numbers: ``"17"`` (or 17)
    means ``hold_17``. An exact id always wins; then ``hold_<ref>``; then, for
    walls whose ids are bare numbers, ``hold_17`` resolves to ``17``.
    """
    ids = hold_ids if isinstance(hold_ids, (Mapping, set, frozenset)) else set(hold_ids)
    text = hold_ref_text(ref)
    if text is None:
        return None
    if text in ids:
        return text
    candidate = f"hold_{text}"
    if candidate in ids:
        return candidate
    if text.startswith("hold_") and text[5:] in ids:
        return text[5:]
    return None


#: Hold numbers larger than this are no hold's (and ``str()`` of a huge int can fail).
MAX_HOLD_NUMBER = 10**18
#: Largest hold coordinate accepted, in wall units (a wall in any unit is far smaller).
MAX_COORD = 1e9


def hold_ref_text(ref: object) -> Optional[str]:
    """A route's hold reference as stripped text (``17`` → ``"17"``), or None when it names nothing.

    Text and whole numbers are references; booleans, other types, blank text and
    numbers too large to be a hold's are not.
    """
    if isinstance(ref, bool):
        return None
    if isinstance(ref, int):
        return str(ref) if abs(ref) < MAX_HOLD_NUMBER else None
    if isinstance(ref, str):
        return ref.strip() or None
    return None


def parse_wall_svg(
    svg: Union[bytes, str],
    *,
    flatness: float = DEFAULT_FLATNESS,
    include_shapes: bool = False,
) -> Wall:
    """Parse an SVG document into a :class:`Wall`.

    Parameters:
        svg: the document, as bytes or text.
        flatness: largest distance, in wall units, between a curve and the
            polyline that replaces it.
        include_shapes: also take ``<rect>``, ``<circle>``, ``<ellipse>``,
            ``<polygon>`` with an id as holds (the contract is ``<path>`` only).

    Raises:
        InvalidInput: the document is not SVG, a hold's path data cannot be
            parsed (the ids are named), two holds share an id, or no element
            gives a usable hold.
    """
    data = svg.encode("utf-8") if isinstance(svg, str) else bytes(svg)
    try:
        doc = se.SVG.parse(io.BytesIO(data), reify=True)
    except Exception as exc:  # svgelements raises ElementTree and value errors
        raise InvalidInput(f"The file is not a readable SVG document ({type(exc).__name__}).") from None
    if not isinstance(doc, se.SVG):
        raise InvalidInput("The file is not an SVG document: no <svg> root element.")

    width, height, origin = _wall_size(doc)
    # svgelements folds the viewport (viewBox → width/height) into every
    # element; undo it so coordinates are the viewBox's user units.
    try:
        undo_viewport = ~se.Matrix(doc.viewbox_transform) if doc.viewbox_transform else None
    except (ValueError, ZeroDivisionError, OverflowError):
        raise InvalidInput("The SVG's width, height and viewBox give it no usable size (a zero or "
                           "non-finite scale).") from None

    holds: list[Hold] = []
    unparsable: list[str] = []
    unusable: list[str] = []
    out_of_range: list[str] = []
    seen: dict[str, int] = {}
    for element in doc.elements():
        hold_id = element.values.get("id") if hasattr(element, "values") else None
        if not hold_id or not isinstance(element, se.Shape):
            continue
        is_path = isinstance(element, se.Path) and not isinstance(element, BASIC_SHAPES)
        if not is_path and not (include_shapes and isinstance(element, BASIC_SHAPES)):
            continue
        if element.values.get("visibility") == "hidden" or element.values.get("display") == "none":
            continue
        seen[hold_id] = seen.get(hold_id, 0) + 1
        raw_d = element.values.get("d", "") if is_path else ""
        if is_path and not _path_data_parses(raw_d):
            unparsable.append(hold_id)
            continue
        try:
            path = se.Path(element)
            if undo_viewport is not None:
                path *= undo_viewport
                path.reify()
            shape = _shape_of(path, flatness, element.values.get("fill-rule", "nonzero"))
        except _NotFinite:
            out_of_range.append(hold_id)
            continue
        except (AttributeError, TypeError, ValueError, ZeroDivisionError, OverflowError, IndexError,
                shapely.errors.GEOSException):
            unparsable.append(hold_id)  # segments svgelements or GEOS could not place
            continue
        if shape is None:
            unusable.append(hold_id)
            continue
        # Bounded, not just finite: a centroid or distance of coordinates near 1e154 overflows later.
        if not all(abs(v) <= MAX_COORD for v in shape.bounds) or not math.isfinite(shape.area) \
                or not all(math.isfinite(v) for v in (shape.centroid.x, shape.centroid.y)):
            out_of_range.append(hold_id)
            continue
        holds.append(Hold(id=hold_id, d=raw_d or path.d(), shape=shape, wall_d=path.d()))

    if unparsable:
        raise InvalidInput(
            "These holds have path data that cannot be parsed: "
            + ", ".join(unparsable)
            + ". Fix their 'd' attributes (or remove their ids) and upload again."
        )
    if out_of_range:
        raise InvalidInput(
            "These holds have coordinates too large to compute with: " + ", ".join(out_of_range)
            + ". Fix their path data or transforms and upload again."
        )
    duplicates = sorted(i for i, n in seen.items() if n > 1)
    if duplicates:
        raise InvalidInput(
            "Hold ids must be unique; these are used more than once: " + ", ".join(duplicates) + "."
        )
    if not holds:
        detail = f" (elements with ids but no area: {', '.join(unusable)})" if unusable else ""
        raise InvalidInput(
            "The SVG has no usable holds: every hold must be a <path> with an id "
            "enclosing some area" + detail + "."
        )
    return Wall(width=width, height=height, holds=tuple(holds), origin=origin, skipped=tuple(unusable))


def _wall_size(doc: se.SVG) -> tuple[float, float, tuple[float, float]]:
    """Width, height and origin of the wall space (the viewBox, else width/height)."""
    vb = doc.viewbox
    if vb is not None and vb.width and vb.height:
        size, origin = (float(vb.width), float(vb.height)), (float(vb.x), float(vb.y))
        what = "viewBox"
    elif doc.width and doc.height:
        size, origin, what = (float(doc.width), float(doc.height)), (0.0, 0.0), "width and height"
    else:
        raise InvalidInput("The SVG has neither a viewBox nor a width and height: its size is unknown.")
    if not all(math.isfinite(v) for v in (*size, *origin)) or min(size) <= 0:
        raise InvalidInput(f"The SVG's {what} must give a finite, positive width and height "
                           f"(got {size[0]:g} × {size[1]:g}).")
    return size[0], size[1], origin


def _path_data_parses(d: str) -> bool:
    """True when svgelements' path lexer consumes all of ``d`` without error."""
    if not d or not d.strip() or d.lstrip()[0] not in "Mm":  # path data must start with a moveto
        return False
    lexer = se.SVGLexicalParser()
    try:
        lexer.parse(se.Path(), d)
    except (ValueError, TypeError, IndexError):
        return False
    return d[lexer.pos:].strip(" \t\r\n,") == ""


class _NotFinite(ValueError):
    """A hold's points overflow to infinity or NaN (huge coordinates or transforms)."""


def _shape_of(path: se.Path, flatness: float, fill_rule: str) -> Optional[BaseGeometry]:
    """The filled area of a (transformed) path, or None when it encloses none."""
    rings: list[Polygon] = []
    for sub in path.as_subpaths():
        pts = _flatten(sub, flatness)
        if not all(math.isfinite(v) for p in pts for v in p):
            raise _NotFinite()
        if len(pts) >= 3:
            ring = Polygon(pts)
            if not ring.is_valid:
                ring = shapely.make_valid(ring)
            if ring.area > 0:
                rings.append(ring)
    if not rings:
        return None
    shape = rings[0]
    if fill_rule == "evenodd":
        for ring in rings[1:]:
            shape = shape.symmetric_difference(ring)
    else:
        # nonzero: rings wound against the first cut holes, the others add area.
        ccw = _is_ccw(rings[0])
        for ring in rings[1:]:
            shape = shape.union(ring) if _is_ccw(ring) == ccw else shape.difference(ring)
    shape = _polygonal(shape)
    if shape is None or shape.area <= 0:
        return None
    return shape


def _is_ccw(geom: BaseGeometry) -> bool:
    if isinstance(geom, Polygon):
        return geom.exterior.is_ccw
    return True


def _polygonal(geom: BaseGeometry) -> Optional[BaseGeometry]:
    """Keep only the polygon parts of a geometry (make_valid may add lines)."""
    if isinstance(geom, (Polygon, MultiPolygon)):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, (Polygon, MultiPolygon))]
    if not parts:
        return None
    return shapely.union_all(parts)


def _flatten(sub: se.Path, flatness: float) -> list[tuple[float, float]]:
    """Points of one subpath, curves replaced by polylines within ``flatness``."""
    pts: list[tuple[float, float]] = []
    for seg in sub:
        if isinstance(seg, se.Move):
            pts.append((seg.end.x, seg.end.y))
        elif isinstance(seg, (se.Line, se.Close)):
            if seg.end is not None:
                pts.append((seg.end.x, seg.end.y))
        elif isinstance(seg, se.Arc):
            for cubic in seg.as_cubic_curves():
                pts.extend(_sample_curve(cubic, flatness))
        elif isinstance(seg, (se.CubicBezier, se.QuadraticBezier)):
            pts.extend(_sample_curve(seg, flatness))
    # drop consecutive duplicates (a Close back to the start adds one)
    out: list[tuple[float, float]] = []
    for p in pts:
        if not out or p != out[-1]:
            out.append(p)
    if len(out) > 1 and out[0] == out[-1]:
        out.pop()
    return out


def _sample_curve(seg: Union[se.CubicBezier, se.QuadraticBezier], flatness: float) -> list[tuple[float, float]]:
    """Points along a Bézier after its start, spaced by Wang's formula."""
    ctrl = np.array([(p.x, p.y) for p in seg], dtype=np.float64)
    degree = len(ctrl) - 1
    second = ctrl[:-2] - 2 * ctrl[1:-1] + ctrl[2:]
    m = float(np.max(np.hypot(second[:, 0], second[:, 1]))) if len(second) else 0.0
    n = math.ceil(math.sqrt(degree * (degree - 1) * m / (8 * max(flatness, 1e-9)))) if m > 0 else 1
    n = min(max(n, 1), 256)
    ts = np.linspace(0.0, 1.0, n + 1)[1:]
    return [tuple(p) for p in np.asarray(seg.npoint(ts), dtype=np.float64)]
