"""The tracker runtime through the real relays: synthetic pose traces over a generated wall.

A publisher sends the synthetic climb of ``tests/motion/test_climbing_tracker.py``
(hands moved hold to hold, known touch times) to ``/ws/pose/``; the runtime
reads it, and a reader on ``/ws/holds/`` sees what a wall display sees.
"""
from __future__ import annotations

import json
import signal
import threading
import time

import pytest
import websocket

from actors.tracker_runtime import TrackerRuntime
from tests.motion.test_climbing_tracker import (DT, LEFT, RIGHT, T0, TIMES, expected_touches, new_tracker,
                                                pose_message)
from tests.support.processes import free_port, start_web, wait_for

pytestmark = pytest.mark.e2e

EXPECTED = expected_touches(TIMES, LEFT, RIGHT, 30.0, 0.5)


def ws(web: str, path: str) -> str:
    return web.replace("http://", "ws://") + path


def trace(times=TIMES):
    return [json.dumps(pose_message(T0 + t, LEFT(t), RIGHT(t))) for t in times]


class Reader:
    """A /ws/holds/ client collecting every message in a thread."""

    def __init__(self, url: str) -> None:
        self.ws = websocket.create_connection(url, timeout=10)
        self.ws.settimeout(None)
        self.messages: list[dict] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while True:
                self.messages.append(json.loads(self.ws.recv()))
        except Exception:
            pass

    def close(self) -> None:
        self.ws.close()


def publisher(url: str) -> websocket.WebSocket:
    return websocket.create_connection(url, timeout=10)


def runtime_for(web: str, input_url: str | None = None, **kw) -> TrackerRuntime:
    runtime = TrackerRuntime(new_tracker(), input_url or ws(web, "/ws/pose/"), ws(web, "/ws/holds/"),
                             wall_id=7, reconnect_delay=0.1, **kw)
    return runtime.start(wait=10)


def await_joined(pub, runtime, reader=None) -> None:
    """Make sure the relays deliver to the runtime (and the reader) before the real trace starts."""
    def delivered():
        pub.send(json.dumps({"type": "resume_output"}))
        runtime.step(0.05)
        return runtime.controls_handled > 0
    wait_for(delivered, timeout=10, what="the runtime to hear the publisher")


def test_a_synthetic_climb_gives_the_expected_touches_completes_and_returns_the_seed_result(web):
    reader = Reader(ws(web, "/ws/holds/"))
    runtime = runtime_for(web)
    pub = publisher(ws(web, "/ws/pose/"))
    await_joined(pub, runtime)
    thread_result = {}
    runner = threading.Thread(target=lambda: thread_result.update(runtime.run(poll=0.02)))
    runner.start()
    for text in trace():
        pub.send(text)
        time.sleep(0.004)
    runner.join(20)
    pub.close()
    assert runtime.stop_reason == "session completed"
    result = thread_result
    assert set(result) == {"status", "message", "wall_id", "message_count", "elapsed_time", "average_rate"}
    assert result["status"] == "success" and result["wall_id"] == 7
    assert result["message"] == "WebSocket pose session tracker completed successfully"
    touched = runtime.tracker.touched
    assert list(EXPECTED) == sorted(touched, key=lambda h: (touched[h].time, h))
    for hold, t in EXPECTED.items():
        assert abs(touched[hold].time - (T0 + t)) <= DT + 1e-6
    wait_for(lambda: reader.messages and reader.messages[-1]["session"]["status"] == "completed", timeout=5,
             what="the completed session on /ws/holds/")
    last = reader.messages[-1]
    assert len(last["pose"]) == 35 and all(0 <= p["x"] <= 1 and 0 <= p["y"] <= 1 for p in last["pose"][15:23])
    assert {h["id"] for h in last["session"]["holds"] if h["status"] == "completed"} == set(EXPECTED)
    assert [h["status"] for h in last["climb"]["holds"]] == ["completed"] * 6
    streamed = [t["id"] for m in reader.messages for t in m["touches"] if t["first"]]
    assert streamed == list(EXPECTED)  # every touch streamed once, none twice
    reader.close()


def test_stale_frames_are_stepped_but_only_the_newest_is_sent(web):
    reader = Reader(ws(web, "/ws/holds/"))
    runtime = runtime_for(web)
    pub = publisher(ws(web, "/ws/pose/"))
    try:
        await_joined(pub, runtime)
        time.sleep(0.2)
        before = len(reader.messages)
        texts = trace(TIMES[:40])  # an outage's worth: the runtime was not reading
        for text in texts:
            pub.send(text)
        wait_for(lambda: runtime.inbox._queue.qsize() >= 40, timeout=5, what="the frames to be buffered")
        message = runtime.step(0.5)
        assert runtime.tracker.counters.accepted == 40            # every frame went through the tracker
        assert message["timestamp"] == round((T0 + TIMES[39]) * 1000)
        assert runtime.stale_dropped == 39
        done = [h for h, t in EXPECTED.items() if t + 0.5 <= TIMES[39] + 1e-9]
        assert len(done) >= 3 and set(runtime.tracker.touched) == set(done)
        time.sleep(0.5)
        sent = reader.messages[before:]
        assert [m["timestamp"] for m in sent] == [message["timestamp"]]  # one message, the newest frame
        assert [t["id"] for t in sent[0]["touches"]] == done  # the touches of the dropped frames too
    finally:
        pub.close(), reader.close(), runtime.close()


def test_control_messages_reset_pause_resume_update_status_and_stop(web):
    reader = Reader(ws(web, "/ws/holds/"))
    runtime = runtime_for(web)
    pub = publisher(ws(web, "/ws/pose/"))
    try:
        await_joined(pub, runtime)
        for text in trace(TIMES[:25]):
            pub.send(text)
        wait_for(lambda: runtime.step(0.05) is None and runtime.tracker.counters.accepted == 25, timeout=5,
                 what="the first frames")
        assert {"hold_20", "hold_21"} <= set(runtime.tracker.touched)
        pub.send(json.dumps({"type": "reset_holds"}))
        wait_for(lambda: (runtime.step(0.05) or {}).get("reset"), timeout=5, what="the reset message")
        assert runtime.tracker.touched == {}
        wait_for(lambda: any(m.get("reset") for m in reader.messages), timeout=5, what="reset on /ws/holds/")
        reset = next(m for m in reader.messages if m.get("reset"))
        assert all(h["status"] == "untouched" for h in reset["climb"]["holds"])

        time.sleep(0.2)
        count = len(reader.messages)  # everything after this: the error, then the status, nothing else
        pub.send(json.dumps({"type": "pause_output"}))
        pub.send(json.dumps({"type": "update_parameters", "proximity_threshold": 55.0, "touch_duration": 0.3}))
        pub.send(json.dumps({"type": "update_parameters", "touch_duration": -1}))
        handled = runtime.controls_handled
        wait_for(lambda: runtime.step(0.05) is None and runtime.controls_handled == handled + 3, timeout=5,
                 what="pause and the updates")
        pub.send(trace(TIMES[25:26])[0])
        wait_for(lambda: runtime.step(0.05) is not None, timeout=5, what="a frame while paused")
        assert runtime.tracker.parameters.proximity_threshold == 55.0
        assert runtime.tracker.parameters.touch_duration == 0.3
        pub.send(json.dumps({"type": "resume_output"}))
        pub.send(json.dumps({"type": "get_status"}))
        wait_for(lambda: runtime.step(0.05) is None and runtime.controls_handled == handled + 5, timeout=5,
                 what="resume and get_status")
        wait_for(lambda: any(m.get("type") == "status" for m in reader.messages), timeout=5, what="status")
        shown = reader.messages[count:]
        assert [m["type"] for m in shown if "type" in m] == ["error", "status"]  # nothing else while paused
        assert "touch_duration" in shown[0]["message"]
        status = shown[-1]
        assert status["paused"] is False and status["tracker"]["parameters"]["proximity_threshold"] == 55.0
        assert status["message_count"] == 26 and status["wall_id"] == 7

        pub.send(json.dumps({"type": "stop"}))
        result = runtime.run(poll=0.02)
        assert runtime.stop_reason == "stop requested" and result["status"] == "success"
        assert result["message_count"] == 26
    finally:
        pub.close(), reader.close(), runtime.close()


def test_max_duration_stops_the_runtime(web):
    runtime = runtime_for(web, max_duration=0.3)
    result = runtime.run(poll=0.02)
    assert runtime.stop_reason == "maximum duration reached"
    assert result["status"] == "success" and result["message_count"] == 0 and result["elapsed_time"] >= 0.3


def test_input_relay_dropped_and_restored_mid_run_loses_no_touch_and_repeats_none(web, env, logs):
    port = free_port()
    relay = start_web(env, logs, port, workers=1, name="relay-outage")
    input_url = f"ws://127.0.0.1:{port}/ws/pose/"
    runtime = runtime_for(web, input_url=input_url)
    reader = Reader(ws(web, "/ws/holds/"))
    pub = publisher(input_url)
    await_joined(pub, runtime)
    out = {}
    runner = threading.Thread(target=lambda: out.update(runtime.run(poll=0.02)))
    runner.start()
    first, second = TIMES[:32], TIMES[32:]
    for text in trace(first):  # 20, 21 and 15 touched
        pub.send(text)
        time.sleep(0.004)
    wait_for(lambda: len(runtime.tracker.touched) == 3, timeout=5, what="the first three touches")
    relay.stop(signal.SIGKILL)  # the relay host dies
    wait_for(lambda: not runtime.input.connected.is_set(), timeout=5, what="the runtime to notice")
    relay = start_web(env, logs, port, workers=1, name="relay-outage-2")
    try:
        wait_for(lambda: runtime.input.connects == 2, timeout=10, what="the runtime to reconnect")
        pub = publisher(input_url)
        for text in trace(second):
            pub.send(text)
            time.sleep(0.004)
        runner.join(20)
        assert runtime.stop_reason == "session completed" and out["status"] == "success"
        touched = runtime.tracker.touched
        assert sorted(touched, key=lambda h: (touched[h].time, h)) == list(EXPECTED)
        assert runtime.tracker.counters.touches == 6           # each hold touched exactly once
        assert runtime.tracker.counters.out_of_order == runtime.tracker.counters.malformed == 0
        time.sleep(0.3)
        streamed = [t["id"] for m in reader.messages for t in m["touches"]]
        assert streamed == list(EXPECTED)
    finally:
        pub.close(), reader.close(), runtime.close()
        relay.stop(signal.SIGKILL)


class SlowSink:
    """A session sink whose first write blocks until released, recording every call in order."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.release = threading.Event()

    def climb_changed(self, climb: dict, reset: bool = False) -> None:
        self.release.wait(5)
        self.calls.append(("climb", climb["n"], reset))

    def pose(self, landmarks: list) -> None:
        self.calls.append(("pose", landmarks[0]))

    def ended(self, status: str) -> None:
        self.calls.append(("ended", status))


def test_the_sink_writes_off_the_frame_loop_in_order_and_only_the_newest_waiting_pose():
    from actors.tracker_runtime import SinkWriter

    sink = SlowSink()
    writer = SinkWriter(sink)
    started = time.monotonic()
    writer.put("climb_changed", {"n": 1}, False)  # blocks the writer thread, not this one
    for n in range(5):
        writer.put("pose", [n])
    writer.put("climb_changed", {"n": 2}, True)
    writer.put("pose", [9])
    writer.put("ended", "completed")
    assert time.monotonic() - started < 0.5  # a Redis or SQL round trip never holds up the frame loop
    sink.release.set()
    assert writer.flush(5)
    # Poses queued behind a slow write collapse to the newest; climb changes and the end are all kept, in order.
    assert sink.calls == [("climb", 1, False), ("pose", 4), ("climb", 2, True), ("pose", 9), ("ended", "completed")]
    assert writer.poses_skipped == 4
    writer.close()


def test_a_failing_sink_is_raised_in_the_frame_loop():
    from actors.tracker_runtime import SinkWriter

    class Broken:
        def pose(self, landmarks):
            raise ConnectionError("Redis went away")

    writer = SinkWriter(Broken())
    writer.put("pose", [1])
    assert writer.flush(5)
    with pytest.raises(ConnectionError, match="Redis went away"):
        writer.raise_error()
    writer.close()
