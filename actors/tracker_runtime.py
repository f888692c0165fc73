"""The pose session tracker's run loop: input socket → :class:`ClimbTracker` → output socket and session.

:class:`TrackerRuntime` is a loop of :meth:`TrackerRuntime.step` calls; each
step reads *everything* the input socket buffered since the last one, feeds
every pose message to the tracker (touches are never lost, whatever the
pace), and sends one output message for the newest frame only: after a stall
or an outage the stale frames are not flushed late. Control messages
(``reset_holds``, ``pause_output`` / ``resume_output``, ``update_parameters``,
``get_status``, ``stop``) arrive on either socket or through a
:class:`ControlSource` (the session's live channel, the API).

Sockets are :class:`SocketLink` objects (websocket-client) whose reader
thread reconnects ``reconnect_delay`` seconds after the link drops; tracker
state lives in the runtime, so a reconnect neither loses nor repeats a touch.
Where session data goes besides the output socket (SQL, the live channel) is
a :class:`SessionSink`; tests run the loop with the null one.

Latency: the frame loop does nothing but step, encode and send. The sink is
called from its own thread (:class:`SinkWriter`) after the output message
went out, and a :class:`ControlSource` is read by a thread of its own, so no
Redis or SQL round trip sits between a frame's arrival and its output.
"""
from __future__ import annotations

import json
import logging
import queue
import re
import threading
import time
from collections import deque
from dataclasses import replace
from typing import Any, Callable, Optional, Protocol

import websocket

from motion.climbing import ClimbTracker, SessionMessageEncoder, StepResult
from motion.errors import MotionError

log = logging.getLogger(__name__)

CONTROL_TYPES = frozenset({"reset_holds", "pause_output", "resume_output", "update_parameters", "get_status",
                           "stop"})
SUCCESS_MESSAGE = "WebSocket pose session tracker completed successfully"


def ws_url(url: str) -> str:
    """``http(s)://`` (the seed's defaults) as ``ws(s)://``."""
    if url.startswith("http://"):
        return "ws://" + url[len("http://"):]
    if url.startswith("https://"):
        return "wss://" + url[len("https://"):]
    return url


def shown_url(url: str) -> str:
    """``url`` fit for logs and status replies: a ``token`` in its query is masked."""
    import re

    return re.sub(r"([?&]token=)[^&]+", r"\1***", url)


class SessionSink(Protocol):
    """Where session data goes besides the output socket."""

    def climb_changed(self, climb: dict, reset: bool = False) -> None:
        """The climb object changed (a hold completed, a reset, the session ended): persist and publish it."""

    def pose(self, landmarks: list) -> None:
        """The newest wall pose (for live watchers; not persisted)."""

    def ended(self, status: str) -> None:
        """The session ended: ``completed`` or ``abandoned``."""


class NullSink:
    """A sink that keeps nothing (the output socket is the only destination)."""

    def climb_changed(self, climb: dict, reset: bool = False) -> None:
        pass

    def pose(self, landmarks: list) -> None:
        pass

    def ended(self, status: str) -> None:
        pass


class ControlSource(Protocol):
    """Control messages from outside the sockets (API, live channel).

    The runtime reads it from a thread of its own (never from the frame loop);
    a source may also offer ``wait(timeout) -> list[dict]`` that blocks until
    something arrives, which the runtime then prefers to polling.
    """

    def poll(self) -> list[dict]:
        """Control messages that arrived since the last poll."""

    def reply(self, reply_to: str, message: dict) -> None:
        """Answer a control message that named ``reply_to`` (``get_status`` from the API or the live socket)."""


class SocketLink:
    """One websocket-client connection kept open by a reader thread that reconnects after ``reconnect_delay``.

    Every text message received goes to ``on_message(text, arrival_time)``.
    :meth:`send` never waits for a reconnect: while the link is down it
    returns False and the message is dropped (live data, never queued).
    """

    def __init__(self, url: str, *, reconnect_delay: float, on_message: Callable[[str, float], None],
                 name: str = "link", connect_timeout: float = 3.0, send_timeout: float = 2.0) -> None:
        self.url = ws_url(url)
        self.reconnect_delay = reconnect_delay
        self.on_message = on_message
        self.name = name
        self.connect_timeout = connect_timeout
        self.send_timeout = send_timeout
        self.connects = 0
        self.drops = 0
        self.last_error: Optional[str] = None
        self._ws: Optional[websocket.WebSocket] = None
        self._stop = threading.Event()
        self.connected = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"tracker-{name}", daemon=True)

    def start(self) -> "SocketLink":
        """Connect (in the background) and keep connected."""
        self._thread.start()
        return self

    def send(self, text: str) -> bool:
        """Send now if connected; False if the link is down (the message is dropped)."""
        ws = self._ws
        if ws is None:
            return False
        try:
            ws.send(text)
            return True
        except Exception as exc:  # broken pipe, closed by peer, timeout
            self._broken(ws, exc)
            return False

    def close(self) -> None:
        """Disconnect and stop reconnecting."""
        self._stop.set()
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                ws.close(timeout=0.2)
            except Exception:
                pass
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(2.0)

    def _broken(self, ws, exc: BaseException) -> None:
        if self._ws is ws:
            self._ws = None
            self.connected.clear()
            self.drops += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("tracker %s socket %s dropped (%s)", self.name, shown_url(self.url), self.last_error)
            try:
                ws.shutdown()
            except Exception:
                pass

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                # skip_utf8_validation: websocket-client checks UTF-8 byte by byte in Python (no wsaccel):
                # ~0.2 ms per KB, holding the GIL the frame loop needs; the C decode in _read does the same job.
                ws = websocket.create_connection(self.url, timeout=self.connect_timeout,
                                                 enable_multithread=True, skip_utf8_validation=True)
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                self._stop.wait(self.reconnect_delay)
                continue
            ws.settimeout(self.send_timeout)
            self.connects += 1
            self._ws = ws
            self.connected.set()
            if self.connects > 1:
                log.info("tracker %s socket reconnected to %s", self.name, shown_url(self.url))
            self._read(ws)
            if not self._stop.is_set():
                self._stop.wait(self.reconnect_delay)

    def _read(self, ws: websocket.WebSocket) -> None:
        while not self._stop.is_set() and self._ws is ws:
            try:
                opcode, data = ws.recv_data()
            except websocket.WebSocketTimeoutException:
                continue
            except Exception as exc:
                self._broken(ws, exc)
                return
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                self._broken(ws, ConnectionError("closed by the server"))
                return
            if opcode == websocket.ABNF.OPCODE_TEXT:
                self.on_message(data.decode("utf-8", "replace"), time.time())


class Inbox:
    """Messages from the reader threads (socket text; control dicts from a ControlSource), drained in batches."""

    def __init__(self, max_items: int = 100_000) -> None:
        self._queue: "queue.Queue[tuple[str | dict, float]]" = queue.Queue(max_items)
        self.overflow = 0

    def put(self, text: str | dict, arrival: float) -> None:
        """Queue one message (counted and dropped if the runtime is hopelessly behind)."""
        try:
            self._queue.put_nowait((text, arrival))
        except queue.Full:
            self.overflow += 1

    def drain(self, timeout: float) -> list[tuple[str | dict, float]]:
        """Wait up to ``timeout`` for a message, then take everything buffered."""
        try:
            batch = [self._queue.get(timeout=timeout)] if timeout > 0 else [self._queue.get_nowait()]
        except queue.Empty:
            return []
        while True:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                return batch


class SinkWriter:
    """Calls a :class:`SessionSink` from a thread of its own, in order, so the frame loop never waits for
    Redis or SQL (a live-channel publish or a climb write costs a round trip, and far more at the tail on a
    busy machine).

    Poses are live data: when the writer is behind, a queued pose is replaced by the newer one (never a
    backlog). Climb changes and the end are all written, in order. The first exception the sink raises is
    kept; :meth:`raise_error` re-raises it in the frame loop.
    """

    def __init__(self, sink: SessionSink) -> None:
        self.sink = sink
        self.poses_skipped = 0
        self.error: Optional[BaseException] = None
        self._items: deque = deque()
        self._cond = threading.Condition()
        self._busy = False
        self._closed = False
        self._thread: Optional[threading.Thread] = None

    def put(self, kind: str, *args: Any) -> None:
        """Queue ``sink.<kind>(*args)`` (``climb_changed``, ``pose`` or ``ended``)."""
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="tracker-sink", daemon=True)
                self._thread.start()
            if kind == "pose" and self._items and self._items[-1][0] == "pose":
                self._items[-1] = (kind, args)
                self.poses_skipped += 1
            else:
                self._items.append((kind, args))
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._items and not self._closed:
                    self._cond.wait()
                if not self._items:
                    return
                kind, args = self._items.popleft()
                self._busy = True
            try:
                if self.error is None:
                    getattr(self.sink, kind)(*args)
            except Exception as exc:  # handed to the frame loop, which ends the run with it
                self.error = exc
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def raise_error(self) -> None:
        """Re-raise the sink's first failure in the calling (frame loop) thread."""
        if self.error is not None:
            raise self.error

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued was written; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._items or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self) -> None:
        """Stop the thread once the queue is empty."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


_CONTROL_TYPE = re.compile(r'"type"\s*:\s*"(?:' + "|".join(sorted(CONTROL_TYPES)) + ')"')


def control_of(text: str) -> Optional[dict]:
    """The control message in ``text``, or None when it is (meant to be) a pose message."""
    # Pose messages carry "type": "pose" too; only a control type is worth a JSON parse here
    # (the tracker parses pose messages itself, so parsing them here decoded every frame twice).
    if _CONTROL_TYPE.search(text) is None:
        return None
    try:
        message = json.loads(text)
    except ValueError:
        return None
    if isinstance(message, dict) and message.get("type") in CONTROL_TYPES:
        return message
    return None


class TrackerRuntime:
    """Input socket → tracker → output socket and sink, one :meth:`step` at a time."""

    def __init__(
        self,
        tracker: ClimbTracker,
        input_url: str,
        output_url: str,
        *,
        wall_id: Any = None,
        reconnect_delay: float = 0.5,
        max_duration: Optional[float] = None,
        no_stream_landmarks: bool = False,
        stream_svg_only: bool = False,
        sink: Optional[SessionSink] = None,
        controls: Optional[ControlSource] = None,
        route_loader: Optional[Callable[[Any], Any]] = None,
        on_progress: Optional[Callable[[dict], None]] = None,
        progress_interval: float = 1.0,
        debug: bool = False,
    ) -> None:
        self.tracker = tracker
        self.wall_id = wall_id
        self.max_duration = max_duration
        self.no_stream_landmarks = no_stream_landmarks
        self.stream_svg_only = stream_svg_only
        self.sink = sink or NullSink()
        self.writer = SinkWriter(self.sink)
        self.controls = controls
        self.route_loader = route_loader
        self.on_progress = on_progress
        self.progress_interval = progress_interval
        self.debug = debug
        self.encoder = SessionMessageEncoder(tracker, no_stream_landmarks=no_stream_landmarks,
                                             stream_svg_only=stream_svg_only)
        self.inbox = Inbox()
        self.input = SocketLink(input_url, reconnect_delay=reconnect_delay, on_message=self.inbox.put, name="input")
        self.output = SocketLink(output_url, reconnect_delay=reconnect_delay, on_message=self._output_message,
                                 name="output")
        self.paused = False
        self.stop_reason: Optional[str] = None
        self.sent = 0
        self.stale_dropped = 0
        self.send_failures = 0
        self.controls_handled = 0
        self.last_latency_ms: Optional[float] = None
        self._started: Optional[float] = None
        self._last_progress = 0.0
        self._last_arrival: Optional[float] = None
        self._pending_reset = False
        self._closing = threading.Event()
        self._control_thread: Optional[threading.Thread] = None

    # -- lifecycle -----------------------------------------------------------

    def start(self, wait: float = 0.0) -> "TrackerRuntime":
        """Open both sockets (reconnecting in the background); wait up to ``wait`` s for them."""
        self._started = time.monotonic()
        self.input.start()
        self.output.start()
        if self.controls is not None:
            self._control_thread = threading.Thread(target=self._pump_controls, name="tracker-controls",
                                                    daemon=True)
            self._control_thread.start()
        if wait:
            self.input.connected.wait(wait)
            self.output.connected.wait(wait)
        return self

    def close(self) -> None:
        """Close both sockets and stop the control and sink threads (after the sink wrote what it had)."""
        self._closing.set()
        self.input.close()
        self.output.close()
        self.writer.flush()
        self.writer.close()
        if self._control_thread is not None and self._control_thread is not threading.current_thread():
            self._control_thread.join(2.0)

    def _pump_controls(self) -> None:
        """Move control messages from the ControlSource into the inbox: the frame loop never waits on it
        (a Redis poll per frame put a round trip in front of every frame)."""
        wait = getattr(self.controls, "wait", None)
        while not self._closing.is_set():
            try:
                got = wait(0.25) if wait is not None else self.controls.poll()
            except Exception as exc:  # the source is away (Redis): the sockets keep working
                log.debug("tracker controls unavailable: %s", exc)
                got = []
                self._closing.wait(0.25)
            for control in got:
                self.inbox.put(control, time.time())
            if wait is None and not got:
                self._closing.wait(0.02)

    def run(self, poll: float = 0.05) -> dict:
        """Step until the session ends, ``stop`` arrives or the maximum duration passes; return the seed's result.

        Exceptions from ``on_progress`` (a cancelled task) propagate after the sockets are closed.
        """
        if self._started is None:
            self.start()
        try:
            while self.stop_reason is None:
                self.step(poll)
            if not self.writer.flush():
                log.warning("tracker: the session store did not take the last changes within 10 s")
            self.writer.raise_error()
            self._report(force=True)
            return self.result()
        finally:
            self.close()

    def request_stop(self, reason: str = "stopped") -> None:
        """Make the loop end after the current step (thread-safe; used for SIGINT/SIGTERM)."""
        if self.stop_reason is None:
            self.stop_reason = reason

    # -- one step ------------------------------------------------------------

    def step(self, timeout: float = 0.05) -> Optional[dict]:
        """Take what arrived (waiting up to ``timeout``), update the tracker, emit one message; return it.

        Raises what the session sink raised since the last step (Redis or the database gone).
        """
        self.writer.raise_error()
        newest: Optional[StepResult] = None
        touches: list = []
        climb_changed = False
        for text, arrival in self.inbox.drain(timeout):
            if isinstance(text, dict):  # from the ControlSource thread
                self.handle_control(text)
                continue
            control = control_of(text)
            if control is not None:
                self.handle_control(control)
                continue
            result = self.tracker.step(text, arrival)
            if not result.accepted:
                if self.debug:
                    log.debug("rejected message (%s): %s", result.reason, result.error)
                continue
            if newest is not None:
                self.stale_dropped += 1
            newest = result
            self._last_arrival = arrival
            touches.extend(result.touches)
            climb_changed = climb_changed or result.climb_changed
        if newest is None and self._last_arrival is not None and not self.tracker.finished:
            # Nobody sends: abandonment runs on the message clock, advanced by wall time since the last frame.
            last = self.tracker.get_status()["last_timestamp"]
            if last is not None and self.tracker.idle(last + time.time() - self._last_arrival):
                climb_changed = True
        message = None
        if newest is not None or climb_changed or self._pending_reset:
            message = self._emit(newest, touches, climb_changed)
        if self.tracker.finished and self.stop_reason is None:
            self.writer.put("ended", self.tracker.status)
            self.stop_reason = f"session {self.tracker.status}"
        if self.max_duration is not None and self._started is not None and self.stop_reason is None:
            if time.monotonic() - self._started >= self.max_duration:
                self.stop_reason = "maximum duration reached"
        self._report()
        return message

    def _emit(self, newest: Optional[StepResult], touches: list, climb_changed: bool) -> dict:
        if newest is not None and touches != list(newest.touches):
            newest = replace(newest, touches=tuple(touches))
        reset, self._pending_reset = self._pending_reset, False
        # The input frame's time in ms; the hold list is re-encoded only when it changed.
        extra = {"timestamp": int(round(newest.timestamp * 1000))} if newest is not None else None
        message, text = self.encoder.encode(newest, reset=reset, extra=extra)
        # The output socket first; the live channel and SQL go through the sink's own thread.
        if not self.paused:
            if self.output.send(text):
                self.sent += 1
                if self._last_arrival is not None:
                    self.last_latency_ms = (time.time() - self._last_arrival) * 1000
            else:
                self.send_failures += 1
        if climb_changed or reset:
            self.writer.put("climb_changed", message["climb"], reset)
        if newest is not None and not self.no_stream_landmarks:
            self.writer.put("pose", message["pose"])
        return message

    # -- control -------------------------------------------------------------

    def handle_control(self, control: dict) -> Optional[dict]:
        """Apply one control message; ``get_status`` answers on the output socket (and returns the status)."""
        self.controls_handled += 1
        kind = control.get("type")
        if kind == "reset_holds":
            self.tracker.reset_holds()
            self._pending_reset = True
        elif kind == "pause_output":
            self.paused = True
        elif kind == "resume_output":
            self.paused = False
        elif kind == "stop":
            self.request_stop("stop requested")
        elif kind == "update_parameters":
            error = self._update_parameters(control)
            values = control.get("parameters") if isinstance(control.get("parameters"), dict) else control
            asked = {k: values[k] for k in ("proximity_threshold", "touch_duration", "route_id")
                     if values.get(k) is not None}
            self._reply(control, error or {"type": "parameters_updated", "parameters": asked,
                                           "applies_from": "next message"})
            return error
        elif kind == "get_status":
            status = {"type": "status", **self.status()}
            if not self._reply(control, status):
                self.output.send(json.dumps(status, separators=(",", ":"), default=str))
            return status
        return None

    def _reply(self, control: dict, message: dict) -> bool:
        """Answer on the control's ``reply_to`` list when it has one (and the source can); True if answered."""
        reply_to = control.get("reply_to")
        if not isinstance(reply_to, str) or self.controls is None or not hasattr(self.controls, "reply"):
            return False
        try:
            self.controls.reply(reply_to, message)
        except Exception as exc:  # the asker times out; tracking goes on
            log.warning("tracker: cannot answer %s (%s)", control.get("type"), exc)
        return True

    def _update_parameters(self, control: dict) -> Optional[dict]:
        values = control.get("parameters") if isinstance(control.get("parameters"), dict) else control
        changes = {k: values[k] for k in ("proximity_threshold", "touch_duration") if values.get(k) is not None}
        try:
            route = None
            if values.get("route_id") is not None:
                if self.route_loader is None:
                    raise MotionError("Routes by id are not available to this tracker.")
                route = self.route_loader(values["route_id"])
            elif values.get("route_data") is not None:
                route = values["route_data"]
            self.tracker.update_parameters(**changes, route=route)
        except (MotionError, TypeError, ValueError) as exc:
            error = {"type": "error", "message": f"update_parameters refused: {exc}"}
            self.output.send(json.dumps(error))
            return error
        return None

    def _output_message(self, text: str, arrival: float) -> None:
        control = control_of(text)
        if control is not None:
            self.inbox.put(text, arrival)  # handled in order by the stepping thread

    # -- figures -------------------------------------------------------------

    def elapsed(self) -> float:
        """Seconds since :meth:`start`."""
        return 0.0 if self._started is None else time.monotonic() - self._started

    def status(self) -> dict:
        """Configuration and runtime figures (``get_status``)."""
        tracker = self.tracker.get_status()
        elapsed = self.elapsed()
        return {
            "wall_id": self.wall_id,
            "input_websocket_url": shown_url(self.input.url),
            "output_websocket_url": shown_url(self.output.url),
            "no_stream_landmarks": self.no_stream_landmarks,
            "stream_svg_only": self.stream_svg_only,
            "paused": self.paused,
            "elapsed_time": round(elapsed, 3),
            "message_count": tracker["messages"],
            "average_rate": round(tracker["messages"] / elapsed, 2) if elapsed > 0 else 0.0,
            "sent": self.sent,
            "stale_dropped": self.stale_dropped,
            "send_failures": self.send_failures,
            "input_connects": self.input.connects,
            "input_connected": self.input.connected.is_set(),
            "output_connected": self.output.connected.is_set(),
            "last_latency_ms": None if self.last_latency_ms is None else round(self.last_latency_ms, 2),
            "tracker": tracker,
        }

    def _report(self, force: bool = False) -> None:
        if self.on_progress is None:
            return
        now = time.monotonic()
        if force or now - self._last_progress >= self.progress_interval:
            self._last_progress = now
            self.on_progress(self.status())

    def result(self) -> dict:
        """The seed's result dict."""
        elapsed = self.elapsed()
        count = self.tracker.counters.messages
        return {
            "status": "success",
            "message": SUCCESS_MESSAGE,
            "wall_id": self.wall_id,
            "message_count": count,
            "elapsed_time": round(elapsed, 3),
            "average_rate": round(count / elapsed, 2) if elapsed > 0 else 0.0,
        }
