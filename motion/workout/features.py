"""Pose features: joint angles and body geometry from 33 landmarks.

Angles are measured in the image plane after undoing the frame's aspect ratio
(landmarks are normalised separately in x and y). Each left/right pair is
read from the side the camera sees best: both sides are averaged when both
are clearly visible (front view), otherwise the more visible side is used
(side view, or a limb out of frame). A feature that cannot be measured is NaN.
"""
from __future__ import annotations

import math

import numpy as np

# MediaPipe Pose landmark indices (left/right are the person's).
NOSE = 0
L_SHOULDER, R_SHOULDER = 11, 12
L_ELBOW, R_ELBOW = 13, 14
L_WRIST, R_WRIST = 15, 16
L_HIP, R_HIP = 23, 24
L_KNEE, R_KNEE = 25, 26
L_ANKLE, R_ANKLE = 27, 28

#: The features :func:`frame_features` returns, in this order.
FEATURES = (
    "elbow", "shoulder", "hip", "knee",          # best-side joint angles, degrees
    "knee_min", "knee_max",                      # the more / less bent knee
    "trunk",                                     # torso from vertical: 0 upright, 90 lying
    "legs",                                      # hip→ankle from vertical
    "body_line",                                 # shoulder-hip-ankle angle (180 = straight)
    "hip_sag",                                   # hip below the shoulder-ankle line, torso lengths
    "wrist_up",                                  # wrists above shoulders, torso lengths
    "ankle_spread",                              # ankle distance / shoulder width
    "wrist_spread",                              # wrist distance / shoulder width
    "hip_height",                                # ankles below hips, torso lengths
    "elbow_flare",                               # elbow out from the torso line, torso lengths
    "knee_travel",                               # knee ahead of the toes, torso lengths (side view)
    "thigh",                                     # lowest knee below its hip, torso lengths (0 = thigh level)
    "thigh_asym",                                # difference of the two thighs' drop, torso lengths
    "elbow_knee",                                # best-seen elbow to the opposite knee, torso lengths
    "shoulder_knee",                             # shoulders to knees, torso lengths
    "visibility",                                # mean visibility of the key joints
    "shoulder_y",                                # shoulders' height in the image (down positive), frame heights
    "torso",                                     # shoulder-hip distance, frame heights (the body's scale)
)
INDEX = {name: i for i, name in enumerate(FEATURES)}
VISIBLE = 0.5   # a joint below this visibility is treated as unseen
GUESSED = 0.25  # ...except for a joint angle with no better reading: MediaPipe's guess
BOTH = 0.75     # both sides above this: a front-ish view, average them
KEY_JOINTS = (L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST,
              L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE)


def angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """The angle ABC in degrees, in [0, 180]."""
    v1, v2 = a - b, c - b
    n = float(np.linalg.norm(v1) * np.linalg.norm(v2))
    if n < 1e-9:
        return math.nan
    return math.degrees(math.acos(max(-1.0, min(1.0, float(np.dot(v1, v2)) / n))))


def _from_vertical(top: np.ndarray, bottom: np.ndarray) -> float:
    """Angle of the segment bottom→top from "up", in degrees [0, 180]."""
    v = top - bottom
    n = float(np.linalg.norm(v))
    if n < 1e-9:
        return math.nan
    return math.degrees(math.acos(max(-1.0, min(1.0, -float(v[1]) / n))))


def _paired(values: tuple[float, float], vis: tuple[float, float]) -> float:
    """Combine a left/right measurement by visibility (see module doc)."""
    (a, b), (va, vb) = values, vis
    if va >= BOTH and vb >= BOTH and not (math.isnan(a) or math.isnan(b)):
        return (a + b) / 2
    if max(va, vb) < GUESSED or math.isnan(a if va >= vb else b):
        return math.nan
    return a if va >= vb else b


def frame_features(landmarks: np.ndarray, aspect: float = 1.0) -> np.ndarray:
    """The :data:`FEATURES` vector of one pose.

    Parameters:
        landmarks: ``(33, 4)`` array ``x, y, z, visibility`` (normalised).
        aspect: frame width / height, to measure angles in true proportions.
    """
    p = landmarks[:, :2].astype(np.float64) * np.array([aspect, 1.0])
    v = np.clip(landmarks[:, 3].astype(np.float64), 0.0, 1.0)
    # MediaPipe keeps predicting joints outside the frame with low visibility;
    # a joint far outside the image is unseen whatever its score says.
    outside = (landmarks[:, 0] < -0.05) | (landmarks[:, 0] > 1.05) | (landmarks[:, 1] < -0.05) | (landmarks[:, 1] > 1.05)
    v = np.where(outside, np.minimum(v, 0.2), v)

    def tri(i: int, j: int, k: int) -> tuple[float, float]:
        return angle(p[i], p[j], p[k]), float(min(v[i], v[j], v[k]))

    out = np.full(len(FEATURES), math.nan)
    pairs = {
        "elbow": ((L_SHOULDER, L_ELBOW, L_WRIST), (R_SHOULDER, R_ELBOW, R_WRIST)),
        "shoulder": ((L_HIP, L_SHOULDER, L_ELBOW), (R_HIP, R_SHOULDER, R_ELBOW)),
        "hip": ((L_SHOULDER, L_HIP, L_KNEE), (R_SHOULDER, R_HIP, R_KNEE)),
        "knee": ((L_HIP, L_KNEE, L_ANKLE), (R_HIP, R_KNEE, R_ANKLE)),
    }
    for name, (left, right) in pairs.items():
        (a, va), (b, vb) = tri(*left), tri(*right)
        out[INDEX[name]] = _paired((a, b), (va, vb))
        if name == "knee":
            seen = [x for x, vx in ((a, va), (b, vb)) if vx >= VISIBLE and not math.isnan(x)]
            if seen:
                out[INDEX["knee_min"]], out[INDEX["knee_max"]] = min(seen), max(seen)

    sh, hp = (p[L_SHOULDER] + p[R_SHOULDER]) / 2, (p[L_HIP] + p[R_HIP]) / 2
    torso = float(np.linalg.norm(sh - hp))
    torso_seen = min(max(v[L_SHOULDER], v[R_SHOULDER]), max(v[L_HIP], v[R_HIP])) >= VISIBLE
    if torso_seen and torso > 1e-6:
        out[INDEX["trunk"]] = _from_vertical(sh, hp)
        shoulder_w = float(np.linalg.norm(p[L_SHOULDER] - p[R_SHOULDER]))
        # Shoulder width shrinks to ~0 in side view: floor it by a fraction of the torso.
        width = max(shoulder_w, 0.35 * torso)
        wrists = [i for i in (L_WRIST, R_WRIST) if v[i] >= VISIBLE]
        if wrists:
            out[INDEX["wrist_up"]] = float(np.mean([sh[1] - p[i][1] for i in wrists])) / torso
        if min(v[L_WRIST], v[R_WRIST]) >= VISIBLE:
            out[INDEX["wrist_spread"]] = abs(p[L_WRIST][0] - p[R_WRIST][0]) / width
        ankles = [i for i in (L_ANKLE, R_ANKLE) if v[i] >= VISIBLE]
        if ankles:
            an = np.mean([p[i] for i in ankles], axis=0)
            out[INDEX["legs"]] = _from_vertical(hp, an)
            out[INDEX["hip_height"]] = float(an[1] - hp[1]) / torso
            line = an - sh
            ln = float(np.linalg.norm(line))
            if ln > 1e-6:
                out[INDEX["body_line"]] = angle(sh, hp, an)
                # signed distance of the hip from the shoulder→ankle line, "down" (image +y) positive
                normal = np.array([-line[1], line[0]]) / ln
                if normal[1] < 0:
                    normal = -normal
                out[INDEX["hip_sag"]] = float(np.dot(hp - sh, normal)) / torso
        if min(v[L_ANKLE], v[R_ANKLE]) >= VISIBLE:
            out[INDEX["ankle_spread"]] = abs(p[L_ANKLE][0] - p[R_ANKLE][0]) / width
        flare = []
        for s, e in ((L_SHOULDER, L_ELBOW), (R_SHOULDER, R_ELBOW)):
            if min(v[s], v[e]) >= VISIBLE:
                flare.append(abs(p[e][0] - p[s][0]) / torso)
        if flare:
            out[INDEX["elbow_flare"]] = max(flare)
        travel = []
        for k, a, toe in ((L_KNEE, L_ANKLE, 31), (R_KNEE, R_ANKLE, 32)):
            if min(v[k], v[a], v[toe]) >= VISIBLE:
                facing = np.sign(p[toe][0] - p[a][0]) or 1.0
                travel.append(float((p[k][0] - p[toe][0]) * facing) / torso)
        if travel:
            out[INDEX["knee_travel"]] = max(travel)
        drops = [float(p[k][1] - p[h][1]) / torso for h, k in ((L_HIP, L_KNEE), (R_HIP, R_KNEE))
                 if min(v[h], v[k]) >= VISIBLE]
        if drops:
            out[INDEX["thigh"]] = min(drops)
            if len(drops) == 2:
                out[INDEX["thigh_asym"]] = abs(drops[0] - drops[1])
        # Elbow to the opposite knee, following the elbow the camera sees best (the moving part;
        # in a side view the other elbow is hidden and its distance is a guess). A cross crunch
        # brings each pair together in turn, so taking whichever pair is nearer would jump
        # between sides every half cycle and turn the signal into a sawtooth.
        cross = [(v[e], min(v[e], v[k]), float(np.linalg.norm(p[e] - p[k])) / torso)
                 for e, k in ((L_ELBOW, R_KNEE), (R_ELBOW, L_KNEE))]
        _, seen, dist = max(cross)
        if seen >= VISIBLE * 0.6:
            out[INDEX["elbow_knee"]] = dist
        knees = [i for i in (L_KNEE, R_KNEE) if v[i] >= VISIBLE]
        if knees:
            out[INDEX["shoulder_knee"]] = float(np.linalg.norm(sh - np.mean([p[i] for i in knees], axis=0))) / torso
    shoulders = [i for i in (L_SHOULDER, R_SHOULDER) if v[i] >= VISIBLE]
    if shoulders:
        out[INDEX["shoulder_y"]] = float(np.mean([p[i][1] for i in shoulders]))
    if torso_seen and torso > 1e-6:
        out[INDEX["torso"]] = torso
    out[INDEX["visibility"]] = float(np.mean(v[list(KEY_JOINTS)]))
    return out
