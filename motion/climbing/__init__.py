"""The climbing domain: wall holds, calibration, routes, pose mapping and the touch tracker.

Pure: numpy, OpenCV, shapely and svgelements only. The modules, one concept each:

- :mod:`~motion.climbing.holds`: SVG → :class:`Wall` of :class:`Hold` shapes; :func:`resolve_hold_id`.
- :mod:`~motion.climbing.hold_index`: :class:`HoldIndex`, distance from a point to nearby hold shapes.
- :mod:`~motion.climbing.calibration`: :class:`Calibration` (image px → wall units) from point pairs
  or the earlier system's export.
- :mod:`~motion.climbing.aruco`: the same from a photo with ArUco markers.
- :mod:`~motion.climbing.route`: route data validation and the seed-001 climb object.
- :mod:`~motion.climbing.pose`: pose messages, hand points, landmarks on the wall.
- :mod:`~motion.climbing.tracker`: :class:`ClimbTracker`, the session state machine.
- :mod:`~motion.climbing.output`: the output-socket message.
"""
from motion.climbing.aruco import calibrate_from_aruco, detect_markers
from motion.climbing.calibration import Calibration, compute_calibration, import_earlier_calibration
from motion.climbing.hold_index import HoldIndex
from motion.climbing.holds import Hold, Wall, parse_wall_svg, resolve_hold_id
from motion.climbing.output import SessionMessageEncoder, build_session_message
from motion.climbing.pose import PoseFrame, WallPose, hand_points, parse_pose_message, pose_on_wall
from motion.climbing.route import Route, RouteHold, format_time, new_climb, new_climb_data, parse_route
from motion.climbing.tracker import ClimbTracker, StepResult, TouchEvent, TrackerParameters

__all__ = [
    "Calibration", "ClimbTracker", "Hold", "HoldIndex", "PoseFrame", "Route", "RouteHold", "StepResult",
    "TouchEvent", "TrackerParameters", "Wall", "WallPose", "SessionMessageEncoder", "build_session_message", "calibrate_from_aruco",
    "compute_calibration", "detect_markers", "format_time", "hand_points", "import_earlier_calibration",
    "new_climb", "new_climb_data", "parse_pose_message", "parse_route", "parse_wall_svg", "pose_on_wall",
    "resolve_hold_id",
]
