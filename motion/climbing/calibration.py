"""Wall calibration: the perspective transform from camera pixels to wall units.

A :class:`Calibration` holds a 3×3 homography that maps pixels of the
calibration image (``image_size``) onto the wall's coordinate space (SVG user
units). Points of a frame of another size are rescaled to the calibration
image first, so a camera streaming at a lower resolution than the photo it was
calibrated on still lands on the wall.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

import cv2
import numpy as np

from motion.errors import InvalidInput

DEFAULT_HAND_EXTENSION_PERCENT = 20.0
COLLINEAR_TOLERANCE = 0.02  # a triangle's height below 2 % of its longest side is flat


@dataclass(frozen=True)
class Calibration:
    """A perspective transform from image pixels to wall units, and how well it fits."""

    homography: np.ndarray
    image_size: tuple[float, float]
    reprojection_error: float = 0.0
    max_error: float = 0.0
    method: str = "exact"
    hand_extension_percent: float = DEFAULT_HAND_EXTENSION_PERCENT
    inliers: tuple[bool, ...] = ()
    _inverse: np.ndarray = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        h = np.asarray(self.homography, dtype=np.float64).reshape(3, 3)
        if not np.all(np.isfinite(h)) or abs(np.linalg.det(h)) < 1e-12:
            raise InvalidInput("The perspective transform is singular or not finite; calibrate again.")
        h = h / h[2, 2] if abs(h[2, 2]) > 1e-12 else h
        h.setflags(write=False)
        object.__setattr__(self, "homography", h)
        object.__setattr__(self, "_inverse", np.linalg.inv(h))
        w, hh = self.image_size
        if not (0 < w < math.inf and 0 < hh < math.inf):
            raise InvalidInput("The calibration image size must be two positive, finite numbers.")

    def image_to_wall(self, points: Any, image_size: Optional[tuple[float, float]] = None) -> np.ndarray:
        """Map pixel points (…, 2) to wall units; ``image_size`` rescales another frame size."""
        pts = np.asarray(points, dtype=np.float64)
        if image_size is not None and tuple(image_size) != tuple(self.image_size):
            pts = pts * (self.image_size[0] / image_size[0], self.image_size[1] / image_size[1])
        return apply_homography(self.homography, pts)

    def normalised_to_wall(self, points: Any) -> np.ndarray:
        """Map points in ``[0, 1]`` of the image (…, 2) to wall units."""
        pts = np.asarray(points, dtype=np.float64) * self.image_size
        return apply_homography(self.homography, pts)

    def wall_to_image(self, points: Any) -> np.ndarray:
        """Map wall points (…, 2) back to pixels of the calibration image."""
        return apply_homography(self._inverse, np.asarray(points, dtype=np.float64))

    def to_dict(self) -> dict:
        """A JSON-ready record of this calibration (inverse of :meth:`from_dict`)."""
        return {
            "perspective_transform": self.homography.tolist(),
            "image_width": float(self.image_size[0]),
            "image_height": float(self.image_size[1]),
            "reprojection_error": float(self.reprojection_error),
            "max_error": float(self.max_error),
            "method": self.method,
            "hand_extension_percent": float(self.hand_extension_percent),
            "inliers": list(self.inliers),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Calibration":
        """Rebuild a calibration stored with :meth:`to_dict`."""
        try:
            return cls(
                homography=np.asarray(data["perspective_transform"], dtype=np.float64),
                image_size=(float(data["image_width"]), float(data["image_height"])),
                reprojection_error=float(data.get("reprojection_error", 0.0)),
                max_error=float(data.get("max_error", 0.0)),
                method=str(data.get("method", "exact")),
                hand_extension_percent=float(data.get("hand_extension_percent", DEFAULT_HAND_EXTENSION_PERCENT)),
                inliers=tuple(bool(x) for x in data.get("inliers", ())),
            )
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise InvalidInput(f"The stored calibration is incomplete or malformed ({type(exc).__name__}).") from None


def apply_homography(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 3×3 homography to points of shape (…, 2), vectorised."""
    pts = np.asarray(points, dtype=np.float64)
    flat = pts.reshape(-1, 2)
    w = flat @ h[2, :2] + h[2, 2]
    x = (flat @ h[0, :2] + h[0, 2]) / w
    y = (flat @ h[1, :2] + h[1, 2]) / w
    return np.stack([x, y], axis=-1).reshape(pts.shape)


def compute_calibration(
    image_points: Sequence[Sequence[float]],
    wall_points: Sequence[Sequence[float]],
    image_size: tuple[float, float],
    *,
    method: str = "ransac",
    ransac_threshold: Optional[float] = None,
    hand_extension_percent: float = DEFAULT_HAND_EXTENSION_PERCENT,
) -> Calibration:
    """Fit the transform image pixels → wall units from four or more point pairs.

    Parameters:
        image_points: pixel positions in the calibration image.
        wall_points: the same points in wall units, in the same order.
        image_size: ``(width, height)`` of the calibration image in pixels.
        method: for more than four pairs, ``"ransac"`` or ``"lmeds"`` (robust
            fits that ignore badly clicked points); four pairs fit exactly.
        ransac_threshold: largest error, in wall units, of an inlier (default
            1 % of the diagonal spanned by the wall points).

    Raises:
        InvalidInput: fewer than four pairs, mismatched lists, non-numbers,
            duplicate points, (nearly) collinear points, or no sane transform.
    """
    img = _as_points(image_points, "image")
    wall = _as_points(wall_points, "wall")
    if len(img) != len(wall):
        raise InvalidInput(
            f"Got {len(img)} image points but {len(wall)} wall points; give one wall point per image point."
        )
    if len(img) < 4:
        raise InvalidInput(f"A perspective calibration needs at least 4 point pairs; got {len(img)}.")
    try:
        size = (float(image_size[0]), float(image_size[1]))
    except (TypeError, ValueError, IndexError):
        raise InvalidInput("image_size must be (width, height) in pixels.") from None
    if not (size[0] > 0 and size[1] > 0 and math.isfinite(size[0]) and math.isfinite(size[1])):
        raise InvalidInput("image_size must be two positive numbers of pixels.")
    for name, pts in (("image", img), ("wall", wall)):
        _reject_duplicates(pts, name)
        _reject_collinear(pts, name)

    n = len(img)
    if n == 4:
        h, mask, used = _exact_homography(img, wall), None, "exact"
    else:
        if method not in ("ransac", "lmeds"):
            raise InvalidInput(f"Unknown fitting method {method!r}; use 'ransac' or 'lmeds'.")
        if ransac_threshold is None:
            span = wall.max(axis=0) - wall.min(axis=0)
            ransac_threshold = 0.01 * float(np.hypot(*span))
        flag = cv2.RANSAC if method == "ransac" else cv2.LMEDS
        h, mask = cv2.findHomography(img, wall, flag, ransac_threshold, maxIters=5000, confidence=0.999)
        used = method
    if h is None or not np.all(np.isfinite(h)) or abs(np.linalg.det(h)) < 1e-12:
        raise InvalidInput("No perspective transform fits these points; check that image and wall points correspond.")
    inliers = np.ones(n, dtype=bool) if mask is None else mask.ravel().astype(bool)
    if inliers.sum() < 4:
        raise InvalidInput("Fewer than 4 points agree on one transform; check the point pairs.")

    # A real view of a plane keeps every point on the same side of the horizon;
    # a sign change means pairs were swapped or mirrored.
    w = img @ h[2, :2] + h[2, 2]
    if not (np.all(w[inliers] > 0) or np.all(w[inliers] < 0)):
        raise InvalidInput("The point pairs do not describe one view of the wall (are some pairs swapped?).")

    errors = np.linalg.norm(apply_homography(h, img) - wall, axis=1)
    rms = float(np.sqrt(np.mean(errors[inliers] ** 2)))
    return Calibration(
        homography=h,
        image_size=size,
        reprojection_error=rms,
        max_error=float(errors[inliers].max()),
        method=used,
        hand_extension_percent=float(hand_extension_percent),
        inliers=tuple(bool(x) for x in inliers),
    )


def import_earlier_calibration(
    data: Mapping[str, Any],
    wall_size: tuple[float, float],
    image_size: Optional[tuple[float, float]] = None,
) -> Calibration:
    """Import the earlier system's calibration export as is.

    Its ``manual_image_points`` and ``manual_svg_points`` are normalised to
    ``[0, 1]`` of the camera frame and of the SVG viewBox; ``wall_size`` (the
    viewBox width and height) scales the wall side. The image size comes from
    ``image_size``, else from the export's ``camera_matrix`` (twice its
    principal point), else 1000×1000 (any size works: frames are rescaled).
    Without manual points its ``perspective_transform`` (normalised →
    normalised) is used.
    """
    if not isinstance(data, Mapping):
        raise InvalidInput("The calibration export must be a JSON object.")
    ww, wh = float(wall_size[0]), float(wall_size[1])
    size = image_size or _size_from_camera_matrix(data.get("camera_matrix")) or (1000.0, 1000.0)
    extension = data.get("hand_extension_percent", DEFAULT_HAND_EXTENSION_PERCENT)
    if isinstance(extension, bool) or not isinstance(extension, (int, float)) or not abs(extension) <= 1e6:
        raise InvalidInput("hand_extension_percent must be a number.")
    img_pts, svg_pts = data.get("manual_image_points"), data.get("manual_svg_points")
    if img_pts and svg_pts:
        img = _as_points(img_pts, "manual_image_points") * size
        wall = _as_points(svg_pts, "manual_svg_points") * (ww, wh)
        cal = compute_calibration(img, wall, size, hand_extension_percent=float(extension))
        return Calibration(
            homography=cal.homography, image_size=cal.image_size, reprojection_error=cal.reprojection_error,
            max_error=cal.max_error, method="imported-manual-points",
            hand_extension_percent=cal.hand_extension_percent, inliers=cal.inliers,
        )
    matrix = data.get("perspective_transform")
    if matrix is None:
        raise InvalidInput("The export has neither manual_image_points/manual_svg_points nor a perspective_transform.")
    try:
        hn = np.asarray(matrix, dtype=np.float64).reshape(3, 3)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInput("perspective_transform must be a 3×3 matrix of numbers.") from None
    h = np.diag([ww, wh, 1.0]) @ hn @ np.diag([1.0 / size[0], 1.0 / size[1], 1.0])
    return Calibration(homography=h, image_size=size, method="imported-matrix",
                       hand_extension_percent=float(extension))


def _exact_homography(src: np.ndarray, dst: np.ndarray) -> Optional[np.ndarray]:
    """The homography through exactly four pairs (an 8×8 linear solve, exact in float64)."""
    a, b = [], []
    for (x, y), (u, v) in zip(src, dst):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b.extend([u, v])
    try:
        sol = np.linalg.solve(np.array(a), np.array(b))
    except np.linalg.LinAlgError:
        return None
    return np.append(sol, 1.0).reshape(3, 3)


def _size_from_camera_matrix(matrix: Any) -> Optional[tuple[float, float]]:
    try:
        m = np.asarray(matrix, dtype=np.float64).reshape(3, 3)
    except (TypeError, ValueError, OverflowError):
        return None
    cx, cy = 2 * m[0, 2], 2 * m[1, 2]
    return (float(cx), float(cy)) if 0 < cx < np.inf and 0 < cy < np.inf else None


def _as_points(points: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInput(f"The {name} points must be [x, y] pairs of numbers.") from None
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise InvalidInput(f"The {name} points must be a list of [x, y] pairs.")
    if not np.all(np.isfinite(arr)):
        raise InvalidInput(f"The {name} points contain values that are not finite numbers.")
    return arr


def _reject_duplicates(pts: np.ndarray, name: str) -> None:
    span = float(np.hypot(*(pts.max(axis=0) - pts.min(axis=0)))) or 1.0
    for i, j in itertools.combinations(range(len(pts)), 2):
        if np.hypot(*(pts[i] - pts[j])) <= 1e-6 * span:
            raise InvalidInput(
                f"{name.capitalize()} points {i + 1} and {j + 1} are the same point; "
                "each pair must be a distinct point."
            )


def _reject_collinear(pts: np.ndarray, name: str) -> None:
    """Four points with three on a line, or any set lying along one line, fix no perspective."""
    if len(pts) == 4:
        for tri in itertools.combinations(range(4), 3):
            if _flatness(pts[list(tri)]) < COLLINEAR_TOLERANCE:
                nums = ", ".join(str(i + 1) for i in tri)
                raise InvalidInput(
                    f"{name.capitalize()} points {nums} lie (almost) on one line; "
                    "pick points spread over the wall, no three in a row."
                )
        return
    centred = pts - pts.mean(axis=0)
    s = np.linalg.svd(centred, compute_uv=False)
    if s[0] == 0 or s[-1] / s[0] < COLLINEAR_TOLERANCE:
        raise InvalidInput(f"The {name} points lie (almost) on one line; pick points spread over the wall.")


def _flatness(tri: np.ndarray) -> float:
    """Height of a triangle over its longest side (0 for collinear points)."""
    a, b, c = tri
    area2 = abs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))
    longest = max(np.hypot(*(b - a)), np.hypot(*(c - b)), np.hypot(*(a - c)))
    return area2 / longest**2 if longest > 0 else 0.0
