"""Pose estimation: images and videos to MediaPipe's 33 landmarks.

A pose is a float32 array of shape ``(33, 4)``: ``x, y`` normalised to the
frame ([0, 1], may fall outside when the joint is out of frame), ``z`` relative
depth, and ``visibility`` in [0, 1]. ``None`` stands for "nobody found".
"""
from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from motion.errors import InvalidInput
from motion.progress import Progress, no_progress

N_LANDMARKS = 33
_LOCAL = threading.local()


def _pose_instance(static: bool) -> Any:
    """A MediaPipe Pose instance, built once per thread and reused."""
    key = "static" if static else "video"
    inst = getattr(_LOCAL, key, None)
    if inst is None:
        import mediapipe as mp  # heavy import, done on first use only

        inst = mp.solutions.pose.Pose(
            static_image_mode=static,
            model_complexity=1,  # 0 and 2 download their models: unavailable offline
            min_detection_confidence=0.5,
            min_tracking_confidence=0.5,
        )
        setattr(_LOCAL, key, inst)
    return inst


def _to_array(result: Any) -> np.ndarray | None:
    if result is None or result.pose_landmarks is None:
        return None
    lm = result.pose_landmarks.landmark
    return np.array([[p.x, p.y, p.z, p.visibility] for p in lm], dtype=np.float32)


def pose_from_image(bgr: np.ndarray) -> np.ndarray | None:
    """Landmarks ``(33, 4)`` of the most prominent person in a BGR image, or None.

    Uses a reusable per-thread MediaPipe Pose in static-image mode, so frames
    of different streams can share the instance without tracking leaking
    between them.

    Raises:
        InvalidInput: the image is not an HxWx3 uint8 array.
    """
    if not isinstance(bgr, np.ndarray) or bgr.ndim != 3 or bgr.shape[2] != 3 or bgr.size == 0:
        raise InvalidInput("expected a BGR image of shape (height, width, 3)")
    import cv2

    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return _to_array(_pose_instance(static=True).process(rgb))


def landmarks_from_message(items: Sequence[Any]) -> np.ndarray:
    """Wire landmarks (33 dicts ``{x, y, z, visibility}`` or 33 lists) as an array.

    Raises:
        InvalidInput: wrong count, missing fields, non-numbers or NaN.
    """
    if isinstance(items, np.ndarray):
        arr = items.astype(np.float32)
    else:
        if len(items) != N_LANDMARKS:
            raise InvalidInput(f"expected {N_LANDMARKS} landmarks, got {len(items)}")
        rows = []
        for p in items:
            if isinstance(p, dict):
                try:
                    rows.append([p["x"], p["y"], p.get("z", 0.0), p.get("visibility", 1.0)])
                except KeyError as exc:
                    raise InvalidInput(f"landmark without {exc.args[0]!r}") from None
            else:
                rows.append(list(p) + [0.0, 1.0][len(p) - 2:] if len(p) < 4 else list(p)[:4])
        try:
            arr = np.array(rows, dtype=np.float32)
        except (TypeError, ValueError):
            raise InvalidInput("landmarks must be numbers") from None
    if arr.shape != (N_LANDMARKS, 4):
        raise InvalidInput(f"expected landmarks of shape (33, 4), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InvalidInput("landmarks contain NaN or infinity")
    return arr


def landmarks_to_message(arr: np.ndarray, digits: int = 4) -> list[dict[str, float]]:
    """An array ``(33, 4)`` as the wire format: 33 dicts ``{x, y, z, visibility}``."""
    return [
        {"x": round(float(x), digits), "y": round(float(y), digits),
         "z": round(float(z), digits), "visibility": round(float(v), digits)}
        for x, y, z, v in arr
    ]


def video_landmarks(
    path: str | os.PathLike,
    *,
    static: bool = True,
    every: int = 1,
    max_side: int = 640,
    progress: Progress = no_progress,
) -> tuple[list[np.ndarray | None], float]:
    """Landmarks of every ``every``-th frame of a video (None for the others), and its fps.

    ``static=True`` treats each frame as an independent image (what a stream
    whose frames may land on different workers sees); ``False`` uses
    MediaPipe's tracking mode. Frames are downscaled to ``max_side`` pixels.

    Raises:
        InvalidInput: the file cannot be opened as a video.
    """
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise InvalidInput(f"cannot open video {os.fspath(path)!r}")
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS)) or 25.0
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or 0
        if static:
            pose = _pose_instance(static=True)
        else:  # a fresh tracker per video: no carry-over from the previous one
            import mediapipe as mp

            pose = mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1)
        frames: list[np.ndarray | None] = []
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            if len(frames) % every:
                frames.append(None)
                continue
            h, w = bgr.shape[:2]
            scale = max_side / max(h, w)
            if scale < 1.0:
                bgr = cv2.resize(bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
            frames.append(_to_array(pose.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))))
            progress(len(frames), total, "pose")
        if not static:
            pose.close()
        return frames, fps
    finally:
        cap.release()


def cached_video_landmarks(
    path: str | os.PathLike,
    cache_dir: str | os.PathLike | None = None,
    *,
    static: bool = True,
    every: int = 1,
    progress: Progress = no_progress,
) -> tuple[list[np.ndarray | None], float]:
    """:func:`video_landmarks`, memoised as ``.npz`` under ``cache_dir``.

    The key is the absolute path, size and mtime of the video plus the mode,
    so an edited video is extracted again. ``cache_dir`` defaults to
    ``$POSEQUEUE_CACHE`` or ``~/.cache/posequeue/landmarks``.
    """
    p = Path(path).resolve()
    st = p.stat()
    base = Path(cache_dir or os.environ.get("POSEQUEUE_CACHE")
                or Path.home() / ".cache" / "posequeue" / "landmarks")
    key = hashlib.sha1(f"{p}|{st.st_size}|{int(st.st_mtime)}|{static}|{every}|v1".encode()).hexdigest()[:16]
    file = base / f"{p.stem}.{key}.npz"
    if file.exists():
        with np.load(file) as z:
            return _unpack(z["poses"], z["found"]), float(z["fps"])
    frames, fps = video_landmarks(p, static=static, every=every, progress=progress)
    base.mkdir(parents=True, exist_ok=True)
    poses, found = _pack(frames)
    tmp = file.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, poses=poses, found=found, fps=np.float64(fps))
    os.replace(tmp, file)
    return frames, fps


def _pack(frames: Iterable[np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
    frames = list(frames)
    poses = np.zeros((len(frames), N_LANDMARKS, 4), np.float32)
    found = np.zeros(len(frames), bool)
    for i, f in enumerate(frames):
        if f is not None:
            poses[i], found[i] = f, True
    return poses, found


def _unpack(poses: np.ndarray, found: np.ndarray) -> list[np.ndarray | None]:
    return [poses[i] if found[i] else None for i in range(len(found))]
