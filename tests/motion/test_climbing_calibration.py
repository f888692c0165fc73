"""Calibration: point pairs → perspective transform, the earlier export, ArUco photos."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from motion.climbing import (
    Calibration,
    calibrate_from_aruco,
    compute_calibration,
    detect_markers,
    import_earlier_calibration,
    parse_pose_message,
    parse_wall_svg,
    pose_on_wall,
)
from motion.climbing.calibration import apply_homography
from motion.errors import InvalidInput

PROJECTCLIMB = Path(__file__).resolve().parents[3] / "shared" / "data" / "walls" / "projectclimb"
needs_real_data = pytest.mark.skipif(
    not PROJECTCLIMB.exists(), reason=f"real wall data not found at {PROJECTCLIMB} (not part of the repository)"
)

# image 1280×720 px → wall 2500×3330 units, a plausible oblique view
KNOWN_H = np.array([[2.1, 0.35, -120.0], [0.12, 4.4, -90.0], [0.00008, 0.00041, 1.0]])
IMAGE_SIZE = (1280, 720)


def image_grid(n=5):
    xs, ys = np.meshgrid(np.linspace(80, 1200, n), np.linspace(60, 660, n))
    return np.column_stack([xs.ravel(), ys.ravel()])


def test_four_exact_pairs_recover_a_known_homography():
    img = np.array([[100, 80], [1180, 120], [1150, 650], [140, 600]], float)
    cal = compute_calibration(img, apply_homography(KNOWN_H, img), IMAGE_SIZE)
    assert cal.method == "exact" and cal.reprojection_error < 1e-6
    probe = image_grid()
    assert np.allclose(cal.image_to_wall(probe), apply_homography(KNOWN_H, probe), atol=1e-6)
    assert np.allclose(cal.wall_to_image(cal.image_to_wall(probe)), probe, atol=1e-6)


@pytest.mark.parametrize("method", ["ransac", "lmeds"])
def test_many_pairs_with_a_badly_clicked_point_fit_robustly_and_flag_the_outlier(method):
    img = image_grid()
    wall = apply_homography(KNOWN_H, img)
    wall[7] += (400, -300)  # one point clicked far off
    cal = compute_calibration(img, wall, IMAGE_SIZE, method=method)
    assert cal.method == method and cal.inliers[7] is False and sum(cal.inliers) == len(img) - 1
    assert cal.reprojection_error < 1e-3
    assert np.allclose(cal.image_to_wall(image_grid(7)), apply_homography(KNOWN_H, image_grid(7)), atol=1e-3)


def test_noisy_pairs_report_their_reprojection_error_in_wall_units():
    rng = np.random.default_rng(4)
    img = image_grid()
    wall = apply_homography(KNOWN_H, img) + rng.normal(0, 3.0, (len(img), 2))
    cal = compute_calibration(img, wall, IMAGE_SIZE)
    assert 1.0 < cal.reprojection_error < 5.0 and cal.max_error >= cal.reprojection_error


def test_frames_of_another_resolution_are_rescaled_to_the_calibration_image():
    img = np.array([[100, 80], [1180, 120], [1150, 650], [140, 600]], float)
    cal = compute_calibration(img, apply_homography(KNOWN_H, img), IMAGE_SIZE)
    half = cal.image_to_wall([[320, 180]], image_size=(640, 360))
    assert np.allclose(half, cal.image_to_wall([[640, 360]]))
    assert np.allclose(cal.normalised_to_wall([[0.5, 0.5]]), half)


def test_a_calibration_survives_its_json_record():
    img = image_grid()
    cal = compute_calibration(img, apply_homography(KNOWN_H, img), IMAGE_SIZE, hand_extension_percent=35)
    again = Calibration.from_dict(json.loads(json.dumps(cal.to_dict())))
    assert np.allclose(again.homography, cal.homography) and again.hand_extension_percent == 35
    assert again.image_size == cal.image_size and again.inliers == cal.inliers


@pytest.mark.parametrize(
    "image, wall, message",
    [
        ([[0, 0], [10, 0], [10, 10]], [[0, 0], [1, 0], [1, 1]], "at least 4"),
        ([[0, 0], [10, 0], [10, 10], [0, 0]], [[0, 0], [1, 0], [1, 1], [0, 1]], "Image points 1 and 4 are the same"),
        ([[0, 0], [10, 0], [10, 10], [0, 10]], [[0, 0], [1, 0], [1, 1], [1, 1]], "Wall points 3 and 4 are the same"),
        ([[0, 0], [10, 0], [20, 0.1], [0, 10]], [[0, 0], [1, 0], [1, 1], [0, 1]], "Image points 1, 2, 3 lie"),
        ([[0, 0], [10, 0], [10, 10], [0, 10]], [[0, 0], [5, 5], [10, 10], [0, 1]], "Wall points 1, 2, 3 lie"),
        ([[i, 2 * i + 0.001 * i * i] for i in range(6)], [[i, i * i] for i in range(6)], "almost\\) on one line"),
        ([[0, 0], [10, 0], [10, 10], [0, 10]], [[0, 0], [1, 0], [0, 1], [1, 1]], "swapped"),
        ([[0, 0], [10, 0], [10, "a"], [0, 10]], [[0, 0], [1, 0], [1, 1], [0, 1]], "pairs of numbers"),
        ([[0, 0], [10, 0], [10, float("nan")], [0, 10]], [[0, 0], [1, 0], [1, 1], [0, 1]], "not finite"),
        ([[0, 0], [10, 0], [10, 10], [0, 10]], [[0, 0], [1, 0], [1, 1]], "4 image points but 3 wall"),
    ],
)
def test_degenerate_point_sets_are_rejected_with_a_reason(image, wall, message):
    with pytest.raises(InvalidInput, match=message):
        compute_calibration(image, wall, (100, 100))


@settings(max_examples=40, deadline=None, database=None)
@given(
    st.lists(st.floats(-0.3, 0.3), min_size=2, max_size=2),
    st.floats(0.5, 3.0), st.floats(0.5, 3.0), st.floats(-0.0004, 0.0004), st.floats(-0.0004, 0.0004),
)
def test_random_well_conditioned_homographies_round_trip(shear, sx, sy, px, py):
    h = np.array([[sx, shear[0], 10.0], [shear[1], sy, -20.0], [px, py, 1.0]])
    img = image_grid(4)
    cal = compute_calibration(img, apply_homography(h, img), IMAGE_SIZE)
    probe = image_grid(6)
    expected = apply_homography(h, probe)
    assert np.allclose(cal.image_to_wall(probe), expected, rtol=1e-6, atol=1e-4 * np.abs(expected).max())


# -- the earlier system's export ----------------------------------------------------

@needs_real_data
def test_the_earlier_export_imports_with_its_own_points_and_matrix():
    export = json.loads((PROJECTCLIMB / "calibration_manual_points.json").read_text())
    cal = import_earlier_calibration(export, (2500, 3330))
    assert cal.image_size == (1005, 1384) and cal.hand_extension_percent == 20
    assert cal.reprojection_error < 0.01
    # the export's own perspective_transform maps normalised image → normalised wall
    hn = np.array(export["perspective_transform"])
    probe = np.random.default_rng(1).uniform(0.1, 0.9, (20, 2))
    assert np.allclose(cal.normalised_to_wall(probe) / (2500, 3330), apply_homography(hn, probe), atol=1e-6)
    wall_pts = np.array(export["manual_svg_points"]) * (2500, 3330)
    assert np.allclose(cal.normalised_to_wall(export["manual_image_points"]), wall_pts, atol=0.01)


@needs_real_data
def test_the_export_without_points_falls_back_to_its_matrix():
    export = json.loads((PROJECTCLIMB / "calibration_manual_points.json").read_text())
    with_points = import_earlier_calibration(export, (2500, 3330))
    del export["manual_image_points"], export["manual_svg_points"]
    from_matrix = import_earlier_calibration(export, (2500, 3330))
    probe = np.array([[300, 400], [800, 1200]])
    assert np.allclose(from_matrix.image_to_wall(probe), with_points.image_to_wall(probe), atol=1e-3)


@needs_real_data
def test_the_real_pose_message_lands_its_hands_on_the_real_wall_through_the_real_calibration():
    wall = parse_wall_svg((PROJECTCLIMB / "wall_2025-11-16.svg").read_bytes())
    cal = import_earlier_calibration(
        json.loads((PROJECTCLIMB / "calibration_manual_points.json").read_text()), (wall.width, wall.height)
    )
    frame = parse_pose_message(json.loads((PROJECTCLIMB / "pose_message_in.json").read_text()))
    pose = pose_on_wall(frame, cal, wall)
    assert pose.hands_visible.tolist() == [True, True]
    for side in (0, 1):
        x, y = pose.hand(side)
        assert 0 <= x <= wall.width and 0 <= y <= wall.height
        assert 0 <= pose.normalised[33 + side][0] <= 1 and 0 <= pose.normalised[33 + side][1] <= 1
    # the person's left hand is on the left of the wall, both in the top third where the photo shows them
    assert pose.hand(0)[0] < pose.hand(1)[0] and max(pose.hand(0)[1], pose.hand(1)[1]) < wall.height / 3


@pytest.mark.parametrize("export", [[], {"manual_image_points": [[0, 0]]}, {"perspective_transform": "x"},
                                    {"perspective_transform": [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
                                     "hand_extension_percent": "20"}])
def test_a_malformed_export_is_rejected(export):
    with pytest.raises(InvalidInput):
        import_earlier_calibration(export, (2500, 3330))


# -- ArUco --------------------------------------------------------------------------

WALL_W, WALL_H = 1200, 900
MARKERS = {3: (150, 150), 7: (1050, 160), 11: (1040, 760), 20: (160, 740), 25: (600, 450)}
MARKER_SIZE = 120
PHOTO_FROM_WALL = np.array([[0.9, 0.12, 80.0], [-0.05, 0.85, 60.0], [0.00012, 0.00018, 1.0]])


def synthetic_photo(markers=MARKERS, dictionary=cv2.aruco.DICT_4X4_50):
    """A wall (1 px = 1 wall unit) with printed markers, seen through a known perspective."""
    canvas = np.full((WALL_H, WALL_W), 255, np.uint8)
    aruco_dict = cv2.aruco.getPredefinedDictionary(dictionary)
    for marker_id, (cx, cy) in markers.items():
        tile = cv2.aruco.generateImageMarker(aruco_dict, marker_id, MARKER_SIZE)
        x0, y0 = cx - MARKER_SIZE // 2, cy - MARKER_SIZE // 2
        canvas[y0:y0 + MARKER_SIZE, x0:x0 + MARKER_SIZE] = tile
    photo = cv2.warpPerspective(canvas, PHOTO_FROM_WALL, (1400, 1100), flags=cv2.INTER_LINEAR, borderValue=255)
    return cv2.cvtColor(photo, cv2.COLOR_GRAY2BGR)


def test_markers_in_a_synthetic_photo_are_found_with_their_ids():
    assert set(detect_markers(synthetic_photo())) == set(MARKERS)


def test_aruco_calibration_recovers_the_known_perspective_from_marker_centres():
    photo = synthetic_photo()
    centres = {m: (cx - 0.5, cy - 0.5) for m, (cx, cy) in MARKERS.items()}  # pixel-centre convention
    cal = calibrate_from_aruco(photo, centres)
    assert cal.method.startswith("aruco") and cal.image_size == (1400, 1100)
    wall_probe = np.array([[200, 200], [1000, 300], [600, 700], [300, 800]], float)
    in_photo = apply_homography(PHOTO_FROM_WALL, wall_probe)
    assert np.abs(cal.image_to_wall(in_photo) - wall_probe).max() < 2.0  # wall units, of 1200


def test_aruco_calibration_from_marker_corners_and_encoded_jpeg_bytes():
    ok, jpeg = cv2.imencode(".jpg", synthetic_photo(), [cv2.IMWRITE_JPEG_QUALITY, 92])
    half = MARKER_SIZE / 2
    corners = {str(m): [[cx - half, cy - half], [cx + half, cy - half], [cx + half, cy + half], [cx - half, cy + half]]
               for m, (cx, cy) in MARKERS.items()}
    cal = calibrate_from_aruco(jpeg.tobytes(), corners)
    wall_probe = np.array([[200, 200], [1000, 300], [600, 700]], float)
    assert np.abs(cal.image_to_wall(apply_homography(PHOTO_FROM_WALL, wall_probe)) - wall_probe).max() < 2.5


def test_a_photo_with_too_few_known_markers_names_what_it_found():
    photo = synthetic_photo({3: (150, 150), 7: (1050, 160), 40: (600, 450)})
    with pytest.raises(InvalidInput, match=r"2 of the markers.*found \(DICT_4X4_50\): 3, 7, 40 \(40 have no wall"):
        calibrate_from_aruco(photo, {m: MARKERS[m] for m in (3, 7, 11, 20)})


def test_a_photo_without_markers_and_a_bad_dictionary_are_rejected():
    blank = np.full((200, 200, 3), 255, np.uint8)
    with pytest.raises(InvalidInput, match="found \\(DICT_4X4_50\\): none"):
        calibrate_from_aruco(blank, MARKERS)
    with pytest.raises(InvalidInput, match="Unknown ArUco dictionary"):
        calibrate_from_aruco(blank, MARKERS, dictionary="DICT_NOPE")
    with pytest.raises(InvalidInput, match="could not be decoded"):
        calibrate_from_aruco(b"not an image", MARKERS)
