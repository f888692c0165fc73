"""Region specs compiled to per-frame masks: fill, blur or pixelate.

A region spec, in source pixels (as decoded, top-left origin)::

    {"shape": "rect", "x": 10, "y": 20, "width": 100, "height": 50}
    {"shape": "polygon", "points": [[x, y], [x, y], [x, y], ...]}

Either may carry its own ``"mode"`` (``"fill"``, ``"blur"``, ``"pixelate"``)
and ``"color"`` (``[b, g, r]``); otherwise the defaults passed to
:func:`compile_regions` apply. Regions reaching outside the frame are clipped
to it; a region with no area inside the frame is an error.

Compiling does the geometry once: each :class:`Region` keeps its clipped
bounding box (for numpy slicing) and, for polygons, a boolean mask of that box,
so applying a rect fill costs one slice assignment per frame.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

import cv2
import numpy as np
from shapely.geometry import Polygon, box

from motion.errors import InvalidInput, as_float, shown

MODES = ("fill", "blur", "pixelate")
Color = tuple[int, int, int]


@dataclass(frozen=True)
class Region:
    """A compiled region: bounding box ``[y0:y1, x0:x1]`` and optional inner mask."""

    x0: int
    y0: int
    x1: int
    y1: int
    mode: str = "fill"
    color: Color = (0, 0, 0)
    mask: Optional[np.ndarray] = None  # bool (y1-y0, x1-x0); None = whole box
    strength: float = 0.5  # blur kernel / pixelate block as a fraction of the smaller side

    def apply(self, frame: np.ndarray) -> None:
        """Mask this region of ``frame`` in place."""
        sub = frame[self.y0:self.y1, self.x0:self.x1]
        if self.mode == "fill":
            if self.mask is None:
                sub[:] = self.color
            else:
                sub[self.mask] = self.color
            return
        out = blur(sub, self.strength) if self.mode == "blur" else pixelate(sub, self.strength / 4)
        if self.mask is None:
            sub[:] = out
        else:
            np.copyto(sub, out, where=self.mask[..., None])


def blur(image: np.ndarray, strength: float = 0.5) -> np.ndarray:
    """A blur whose kernel is ``strength`` times the smaller side (0.5 by default).

    Uses ``cv2.stackBlur`` (a Gaussian approximation whose cost does not grow
    with the kernel), run twice. Only the pixels of ``image`` are used, so
    nothing from outside a region leaks in and nothing inside leaks out.
    """
    h, w = image.shape[:2]
    k = max(3, int(min(h, w) * strength) | 1)
    return cv2.stackBlur(cv2.stackBlur(image, (k, k)), (k, k))


def pixelate(image: np.ndarray, strength: float = 0.125) -> np.ndarray:
    """Average ``image`` over square blocks of ``strength`` times the smaller side (≥ 4 px)."""
    h, w = image.shape[:2]
    block = max(4, int(min(h, w) * strength))
    small = cv2.resize(image, (max(1, math.ceil(w / block)), max(1, math.ceil(h / block))),
                       interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)


#: Polygon vertices must lie within this many pixels of the origin (OpenCV draws with int32 coordinates).
MAX_POINT = 1e9



def _number(value: Any, what: str) -> float:
    number = as_float(value)
    if number is None or not math.isfinite(number):
        raise InvalidInput(f"{what} must be a finite number, got {shown(value)}.")
    return number


def parse_mode(value: Any, what: str = "mode") -> str:
    """Validate a mask mode name."""
    if value not in MODES:
        raise InvalidInput(f"{what} must be one of {', '.join(MODES)}; got {shown(value)}.")
    return value


def parse_color(value: Any, what: str = "color") -> Color:
    """Validate a ``[b, g, r]`` colour of three integers in 0..255."""
    if (not isinstance(value, (list, tuple)) or len(value) != 3
            or any(isinstance(c, bool) or not isinstance(c, int) or not 0 <= c <= 255
                   for c in value)):
        raise InvalidInput(f"{what} must be [b, g, r] with integers 0-255; got {shown(value)}.")
    return (int(value[0]), int(value[1]), int(value[2]))


def _rect(spec: dict, what: str, width: int, height: int) -> tuple[int, int, int, int]:
    x = _number(spec.get("x"), f"{what}.x")
    y = _number(spec.get("y"), f"{what}.y")
    w = _number(spec.get("width"), f"{what}.width")
    h = _number(spec.get("height"), f"{what}.height")
    if w <= 0 or h <= 0:
        raise InvalidInput(f"{what} has width {w:g} and height {h:g}; both must be positive.")
    # Clamp before rounding: x + w may overflow to inf, which round() cannot take.
    x0, y0 = round(min(max(x, 0.0), width)), round(min(max(y, 0.0), height))
    x1, y1 = round(min(max(x + w, 0.0), width)), round(min(max(y + h, 0.0), height))
    if x1 <= x0 or y1 <= y0:
        raise InvalidInput(f"{what} lies outside the {width}x{height} frame.")
    return x0, y0, x1, y1


def _polygon(spec: dict, what: str, width: int, height: int):
    points = spec.get("points")
    if not isinstance(points, (list, tuple)) or len(points) < 3:
        raise InvalidInput(f"{what}.points must be a list of at least 3 [x, y] points.")
    pts = []
    for i, p in enumerate(points):
        if not isinstance(p, (list, tuple)) or len(p) != 2:
            raise InvalidInput(f"{what}.points[{i}] must be [x, y], got {shown(p)}.")
        pts.append((_number(p[0], f"{what}.points[{i}][0]"), _number(p[1], f"{what}.points[{i}][1]")))
        if not (abs(pts[-1][0]) <= MAX_POINT and abs(pts[-1][1]) <= MAX_POINT):
            raise InvalidInput(f"{what}.points[{i}] lies more than {MAX_POINT:g} px from the frame.")
    shape = Polygon(pts)
    if not shape.is_valid:
        shape = shape.buffer(0)
    if shape.area <= 0:
        raise InvalidInput(f"{what} is degenerate: its points enclose no area.")
    inside = shape.intersection(box(0, 0, width, height))
    if inside.is_empty or inside.area <= 0:
        raise InvalidInput(f"{what} lies outside the {width}x{height} frame.")
    bx0, by0, bx1, by1 = inside.bounds
    x0, y0 = max(0, math.floor(bx0)), max(0, math.floor(by0))
    x1, y1 = min(width, math.ceil(bx1)), min(height, math.ceil(by1))
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    poly = np.round(np.array(pts) - (x0, y0)).astype(np.int32)
    cv2.fillPoly(mask, [poly], 1)
    if not mask.any():
        raise InvalidInput(f"{what} covers no whole pixel inside the frame.")
    full = bool(mask.all())
    return (x0, y0, x1, y1), None if full else mask.astype(bool)


def compile_regions(
    specs: Iterable[Any],
    width: int,
    height: int,
    mode: str = "fill",
    color: Sequence[int] = (0, 0, 0),
    label: str = "regions",
) -> list[Region]:
    """Validate region specs against a ``width`` x ``height`` frame and compile them.

    Raises:
        InvalidInput: a spec is malformed, degenerate, or entirely outside the
            frame; the message names it (``regions[2].width ...``).
    """
    if not isinstance(specs, (list, tuple)):
        raise InvalidInput(f"{label} must be a list of region objects.")
    if isinstance(width, bool) or isinstance(height, bool) or not (
            isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        raise InvalidInput(f"The frame size must be positive whole numbers of pixels, not {shown(width)} × "
                           f"{shown(height)}.")
    default_mode = parse_mode(mode)
    default_color = parse_color(list(color))
    out = []
    for i, spec in enumerate(specs):
        what = f"{label}[{i}]"
        if not isinstance(spec, dict):
            raise InvalidInput(f"{what} must be an object, got {shown(spec)}.")
        shape = spec.get("shape", "polygon" if "points" in spec else "rect")
        region_mode = parse_mode(spec.get("mode", default_mode), f"{what}.mode")
        region_color = parse_color(spec["color"], f"{what}.color") if "color" in spec else default_color
        if shape == "rect":
            (x0, y0, x1, y1), mask = _rect(spec, what, width, height), None
        elif shape == "polygon":
            (x0, y0, x1, y1), mask = _polygon(spec, what, width, height)
        else:
            raise InvalidInput(f"{what}.shape must be 'rect' or 'polygon', got {shown(shape)}.")
        out.append(Region(x0, y0, x1, y1, region_mode, region_color, mask))
    return out


def apply_regions(frame: np.ndarray, regions: Sequence[Region]) -> np.ndarray:
    """Apply every region to ``frame`` in place, in order, and return it."""
    for region in regions:
        region.apply(frame)
    return frame
