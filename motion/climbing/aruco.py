"""Calibration from a photo of the wall with ArUco markers at known wall positions."""
from __future__ import annotations

from typing import Any, Mapping, Union

import cv2
import numpy as np

from motion.climbing.calibration import DEFAULT_HAND_EXTENSION_PERCENT, Calibration, compute_calibration
from motion.errors import InvalidInput

DEFAULT_DICTIONARY = "DICT_4X4_50"


def decode_image(data: Union[bytes, bytearray, np.ndarray]) -> np.ndarray:
    """An image array from encoded bytes (JPEG, PNG…) or an array passed through."""
    if isinstance(data, np.ndarray):
        return data
    buf = np.frombuffer(bytes(data), dtype=np.uint8)
    image = cv2.imdecode(buf, cv2.IMREAD_COLOR) if buf.size else None
    if image is None:
        raise InvalidInput("The photo could not be decoded; upload a JPEG or PNG image.")
    return image


def detect_markers(image: Union[bytes, np.ndarray], dictionary: str = DEFAULT_DICTIONARY) -> dict[int, np.ndarray]:
    """Every ArUco marker found in the photo: ``{marker_id: corners (4, 2) in pixels}``.

    Corners are in OpenCV's order: top-left, top-right, bottom-right,
    bottom-left of the printed marker.
    """
    img = decode_image(image)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
    detector = cv2.aruco.ArucoDetector(_dictionary(dictionary), cv2.aruco.DetectorParameters())
    corners, ids, _ = detector.detectMarkers(gray)
    if ids is None:
        return {}
    return {int(i): c.reshape(4, 2).astype(np.float64) for i, c in zip(ids.ravel(), corners)}


def marker_centre(corners: np.ndarray) -> np.ndarray:
    """The projected centre of a marker: where its diagonals cross (not the corners' mean)."""
    p0, p1, p2, p3 = np.asarray(corners, dtype=np.float64)
    d1, d2 = p2 - p0, p3 - p1
    denom = d1[0] * d2[1] - d1[1] * d2[0]
    if abs(denom) < 1e-12:
        return corners.mean(axis=0)
    t = ((p1[0] - p0[0]) * d2[1] - (p1[1] - p0[1]) * d2[0]) / denom
    return p0 + t * d1


def calibrate_from_aruco(
    image: Union[bytes, np.ndarray],
    marker_positions: Mapping[Any, Any],
    *,
    dictionary: str = DEFAULT_DICTIONARY,
    min_markers: int = 4,
    method: str = "ransac",
    hand_extension_percent: float = DEFAULT_HAND_EXTENSION_PERCENT,
) -> Calibration:
    """Find the markers in a photo and fit the transform from their known wall positions.

    Parameters:
        image: the photo (encoded bytes or a BGR/grey array).
        marker_positions: ``{marker_id: [x, y]}`` (the marker's centre on the
            wall) or ``{marker_id: [[x, y] × 4]}`` (its corners, in OpenCV's
            order), in wall units. Ids may be ints or numeric strings.
        min_markers: how many known markers must be seen.

    Raises:
        InvalidInput: the photo has fewer than ``min_markers`` of the known
            markers (the message names the ids found), or the points are
            degenerate.
    """
    img = decode_image(image)
    known = _positions(marker_positions)
    found = detect_markers(img, dictionary)
    used = sorted(set(found) & set(known))
    if len(used) < min_markers:
        found_txt = ", ".join(str(i) for i in sorted(found)) or "none"
        unknown = sorted(set(found) - set(known))
        extra = f" ({', '.join(map(str, unknown))} have no wall position)" if unknown else ""
        raise InvalidInput(
            f"The photo shows {len(used)} of the markers with known wall positions; at least "
            f"{min_markers} are needed. Markers found ({dictionary}): {found_txt}{extra}. "
            f"Known markers: {', '.join(map(str, sorted(known))) or 'none'}."
        )
    image_pts, wall_pts = [], []
    for marker_id in used:
        wall = known[marker_id]
        if wall.shape == (4, 2):
            image_pts.extend(found[marker_id])
            wall_pts.extend(wall)
        else:
            image_pts.append(marker_centre(found[marker_id]))
            wall_pts.append(wall)
    h, w = img.shape[:2]
    cal = compute_calibration(image_pts, wall_pts, (w, h), method=method,
                              hand_extension_percent=hand_extension_percent)
    return Calibration(
        homography=cal.homography, image_size=cal.image_size, reprojection_error=cal.reprojection_error,
        max_error=cal.max_error, method=f"aruco-{cal.method}",
        hand_extension_percent=cal.hand_extension_percent, inliers=cal.inliers,
    )


def _dictionary(name: str) -> Any:
    value = getattr(cv2.aruco, str(name), None) if str(name).startswith("DICT_") else None
    if not isinstance(value, int):
        raise InvalidInput(f"Unknown ArUco dictionary {name!r}; use one such as DICT_4X4_50 or DICT_6X6_250.")
    return cv2.aruco.getPredefinedDictionary(value)


def _positions(marker_positions: Mapping[Any, Any]) -> dict[int, np.ndarray]:
    if not isinstance(marker_positions, Mapping) or not marker_positions:
        raise InvalidInput("Give the wall position of each marker as {marker_id: [x, y]}.")
    out: dict[int, np.ndarray] = {}
    for key, value in marker_positions.items():
        try:
            marker_id = int(key)
            pos = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidInput(
                f"Marker {key!r}: the id must be a number and the position [x, y] or four [x, y] corners."
            ) from None
        if pos.shape not in ((2,), (4, 2)) or not np.all(np.isfinite(pos)):
            raise InvalidInput(f"Marker {key}: the position must be [x, y] or four [x, y] corners of finite numbers.")
        out[marker_id] = pos
    return out
