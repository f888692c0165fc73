"""Live workout analysis (seed 003): one frame of one connection per message.

The web process puts each frame in the connection's Redis slot and enqueues
:func:`analyse_workout_frame` only when no job of that connection is queued or
running; the job analyses the newest frame, publishes the result to the web
process holding the socket, and enqueues itself again if a newer frame came in
meanwhile. So frames of one connection are analysed in order, one at a time,
on any worker, and an overloaded connection skips to its newest frame.
"""
from __future__ import annotations

import base64
import binascii
import json
import logging
from functools import lru_cache

import threading

import dramatiq
from dramatiq import Middleware

from config import Config
from models.redis_client import make_redis
from models.workout_store import WorkoutStore
from motion.errors import InvalidInput
from motion.workout.live import PoseTrackers, analyse_live_frame
from motion.workout.model import ModelStatus, load_model

log = logging.getLogger(__name__)
_config = Config.from_env()
store = WorkoutStore(make_redis(_config.effective_redis_url, timeout=_config.redis_timeout),
                     ttl=_config.workout_state_ttl)
trackers = PoseTrackers(_config.workout_trackers)


class WarmTrackers(Middleware):
    """Build a few MediaPipe instances when a workout worker boots, not on a client's first frame.

    Only in workers that consume the ``workout`` queue: idle MediaPipe graphs
    keep threads of their own, and measured on 2 cores they made every other
    job of the process ~6 ms slower (bench/bench_tasks.py, 10 ms jobs).
    """

    def after_worker_boot(self, broker, worker) -> None:
        if worker.consumer_whitelist and "workout" not in worker.consumer_whitelist:
            return
        threading.Thread(target=trackers.warm, args=(2,), name="warm-pose", daemon=True).start()


dramatiq.get_broker().add_middleware(WarmTrackers())


@lru_cache(maxsize=1)
def model_status() -> ModelStatus:
    """WORKOUT_MODEL_PATH, loaded once per worker process (or why it is not used)."""
    status = load_model(_config.workout_model_path)
    log.info("workout model: %s", status.message)
    return status


def _error(message: str) -> str:
    # The web process turns this into the one socket error shape (app.errors).
    return json.dumps({"type": "error", "code": "bad_frame", "message": message}, separators=(",", ":"))


@dramatiq.actor(queue_name="workout", tracked=False, max_retries=0, time_limit=30_000)
def analyse_workout_frame(connection_id: str) -> None:
    """Analyse the newest waiting frame of one workout connection and push the result."""
    try:
        job = store.take(connection_id)
        if job is None:  # already taken (a duplicate message): nothing to do
            return
        previous = job.state["seq"] if job.state else 0
        try:
            payload, state, summary = analyse_live_frame(
                job.state, base64.b64decode(job.data), job.t, seq=job.seq, dropped=job.dropped,
                detect=lambda bgr: trackers.detect(connection_id, bgr, after=(job.epoch, previous),
                                                   now=(job.epoch, job.seq)),
                model=model_status().model)
        except (InvalidInput, binascii.Error) as exc:
            store.finish(job, _error(str(exc) if isinstance(exc, InvalidInput) else "Invalid base64 frame"))
            return
        store.finish(job, json.dumps({"type": "workout", "payload": payload}, separators=(",", ":")),
                     state=state, summary=summary)
    finally:
        if store.release(connection_id):
            analyse_workout_frame.send(connection_id)
