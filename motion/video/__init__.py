"""Video operations: probe, stream, mask, blur faces, remove frames, analyse.

Pure domain code: numpy, OpenCV, MediaPipe, shapely and the ffmpeg binary of
``imageio-ffmpeg``. The task layer calls the three jobs in :mod:`.ops`.
"""
from motion.video.frames import removed_indices
from motion.video.masks import compile_regions
from motion.video.ops import analyze_video, apply_mask, remove_frames
from motion.video.presets import device_regions
from motion.video.probe import VideoInfo, probe
from motion.video.reader import iter_frames, read_frames
from motion.video.writer import VideoWriter, h264_available

__all__ = [
    "VideoInfo", "VideoWriter", "analyze_video", "apply_mask", "compile_regions",
    "device_regions", "h264_available", "iter_frames", "probe", "read_frames",
    "remove_frames", "removed_indices",
]
