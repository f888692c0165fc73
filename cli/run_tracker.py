"""``flask run-tracker``: the pose session tracker in the foreground, with live status on the terminal."""
from __future__ import annotations

import json
import signal
import sys
import threading

import click


@click.command("run-tracker")
@click.option("--wall-id", type=int, default=1, show_default=True, help="Wall whose active calibration maps the pose.")
@click.option("--input-websocket-url", default=None, help="Pose socket to read [default: this server's /ws/pose/].")
@click.option("--output-websocket-url", default=None, help="Socket to write session data to [default: /ws/holds/].")
@click.option("--proximity-threshold", type=float, default=300.0, show_default=True,
              help="Wall units within which a hand is near a hold.")
@click.option("--touch-duration", type=float, default=0.5, show_default=True,
              help="Seconds a hand must stay near a hold to touch it.")
@click.option("--reconnect-delay", type=float, default=0.5, show_default=True,
              help="Seconds between reconnection attempts.")
@click.option("--debug", is_flag=True, help="Log rejected messages.")
@click.option("--no-stream-landmarks", is_flag=True, help="Send no transformed landmarks.")
@click.option("--stream-svg-only", is_flag=True, help="Send only touched holds, with their SVG paths.")
@click.option("--route-data", default=None, help="Route as JSON text ({\"problem\": {\"holds\": [...]}}).")
@click.option("--route-id", type=int, default=99, show_default=True, help="Route to load from the database.")
@click.option("--session-id", default=None, help="Session to track into [default: a new one].")
@click.option("--max-duration", type=float, default=None, help="Seconds to run at most [default: TRACKER_MAX_DURATION].")
def run_tracker(**options) -> None:
    """Run the pose session tracker in the foreground; Ctrl-C stops it and prints the result."""
    from actors.tracker import build_runtime, run_session
    from motion.errors import MotionError

    if options["debug"]:
        import logging
        logging.getLogger("actors.tracker_runtime").setLevel(logging.DEBUG)
    live = sys.stderr.isatty()

    def show(status: dict) -> None:
        t = status["tracker"]
        line = (f"{status['message_count']} msgs  {status['average_rate']:.1f}/s  "
                f"holds {t['holds_completed']}/{t['route_holds']}  {t['status']}  "
                f"in:{'up' if status['input_connected'] else 'down'} out:{'up' if status['output_connected'] else 'down'}"
                f"{'  paused' if status['paused'] else ''}  latency {status['last_latency_ms']} ms")
        click.echo(("\r" + line.ljust(100)) if live else line, nl=not live, err=True)

    try:
        runtime = build_runtime(**options, on_progress=show)
    except MotionError as exc:
        click.echo(json.dumps({"status": "error", "message": str(exc)}))
        raise SystemExit(1)
    click.echo(f"tracking session {runtime.session_id}: {runtime.input.url} -> {runtime.output.url}", err=True)

    def stop(signum, frame):
        runtime.request_stop("interrupted")

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
    result = run_session(runtime)
    if live:
        click.echo(err=True)
    click.echo(json.dumps(result))
    if result["status"] != "success":
        raise SystemExit(1)
