"""``flask stream-pose``: publish pose messages from a video, a camera or a recording to a relay socket."""
from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Iterator, Optional

import click

from motion.errors import MotionError


def paced(items: Iterator, *, speed: Optional[float], sleep=time.sleep, clock=time.monotonic) -> Iterator:
    """Yield ``items`` (with ``.at`` seconds) at their own spacing divided by ``speed``; None: as fast as possible."""
    start = None
    for item in items:
        if speed:
            if start is None:
                start = clock() - item.at / speed
            delay = start + item.at / speed - clock()
            if delay > 0:
                sleep(delay)
        yield item


@click.command("stream-pose")
@click.option("--video", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Video file to run MediaPipe Pose on.")
@click.option("--camera", type=int, help="Camera index to run MediaPipe Pose on.")
@click.option("--jsonl", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Recorded pose messages, one JSON object a line, replayed with their spacing.")
@click.option("--url", default=None, help="Relay socket to publish to [default: this server's /ws/pose/].")
@click.option("--realtime", is_flag=True, help="Pace a video at its frame rate (default: as fast as pose runs).")
@click.option("--speed", type=click.FloatRange(min=0.01), default=1.0, show_default=True,
              help="Playback speed factor for --realtime and --jsonl.")
@click.option("--loop", is_flag=True, help="Start again at the end (timestamps keep increasing).")
@click.option("--max-frames", type=click.IntRange(min=1), help="Stop after this many frames (per pass).")
@click.option("--start-frame", type=click.IntRange(min=0), default=0, help="Skip the first frames of --video.")
@click.option("--reconnect-delay", type=click.FloatRange(min=0.0), default=0.5, show_default=True)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--token", envvar="POSEQUEUE_TOKEN", default=None,
              help="API token for the relay (sent as ?token=) [env POSEQUEUE_TOKEN].")
def stream_pose(video, camera, jsonl, url, realtime, speed, loop, max_frames, start_frame, reconnect_delay,
                quiet, token) -> None:
    """Publish pose messages (DESIGN.md format) from a video, camera or recording to a relay socket."""
    from flask import current_app

    from actors.relay_auth import with_token

    from actors.tracker_runtime import SocketLink, shown_url
    from motion.climbing.pose_source import jsonl_pose_messages, restamp, video_pose_messages

    if sum(x is not None for x in (video, camera, jsonl)) != 1:
        raise click.UsageError("Give exactly one of --video, --camera or --jsonl.")
    url = url or current_app.config["POSEQUEUE"].effective_tracker_input_url
    if token:
        url = with_token(url, token)
    link = SocketLink(url, reconnect_delay=reconnect_delay, on_message=lambda text, t: None, name="stream-pose")
    link.start()
    if not link.connected.wait(5.0):
        click.echo(f"stream-pose: cannot reach {shown_url(link.url)} yet ({link.last_error}); publishing when it answers",
                   err=True)
    sent = dropped = 0
    offset = 0.0
    base = time.time()
    try:
        while True:
            started = time.time()
            if jsonl is not None:
                with jsonl.open() as fh:
                    total = sum(1 for line in fh if line.strip())
                source = jsonl_pose_messages(jsonl.open(), total=total)
                pace = speed
            elif video is not None:
                source = video_pose_messages(video, start_time=started, max_frames=max_frames,
                                             start_frame=start_frame)
                pace = speed if realtime else None
            else:
                source = video_pose_messages(camera)
                pace = None
            last_at = 0.0
            items = paced(source, speed=pace)
            bar = contextlib.nullcontext(items) if quiet or camera is not None else \
                click.progressbar(items, label="stream-pose", length=_length(video, jsonl, max_frames, start_frame))
            with bar as stream:
                for item in stream:
                    if max_frames is not None and item.index >= max_frames:
                        break
                    message = item.message
                    if jsonl is not None and loop:
                        message = restamp(message, offset + item.at, base)
                    last_at = item.at
                    if link.send(json.dumps(message, separators=(",", ":"))):
                        sent += 1
                    else:
                        dropped += 1
            if not loop or camera is not None:
                break
            offset += last_at + 0.1
    except KeyboardInterrupt:
        pass
    except MotionError as exc:
        raise click.ClickException(str(exc))
    finally:
        time.sleep(0.05)  # let the last frame leave
        link.close()
    click.echo(json.dumps({"sent": sent, "dropped": dropped, "reconnects": max(0, link.connects - 1)}))


def _length(video: Optional[Path], jsonl: Optional[Path], max_frames: Optional[int], start: int = 0) -> Optional[int]:
    if jsonl is not None:
        with jsonl.open() as fh:
            n = sum(1 for line in fh if line.strip())
    else:
        import cv2

        cap = cv2.VideoCapture(str(video))
        n = max(0, (int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or 0) - start)
        cap.release()
    return min(n, max_frames) if max_frames else n
