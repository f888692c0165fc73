"""Prometheus metrics of the web process, served at ``/metrics``.

Under gunicorn, ``PROMETHEUS_MULTIPROC_DIR`` (set by gunicorn.conf.py) makes
every worker process write its samples to files that any of them can serve, so
a scrape sees the whole ``web`` process whichever worker answers. Workers
(Dramatiq) expose their own metrics, job durations included, on
WORKER_METRICS_PORT through Dramatiq's Prometheus middleware.
"""
from __future__ import annotations

import os

from flask import Blueprint, Flask, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Gauge, Histogram, generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

from models.db import connected

bp = Blueprint("metrics", __name__)

OPEN_SOCKETS = Gauge("posequeue_open_sockets", "Open WebSocket connections.", ["path"],
                     multiprocess_mode="livesum")
PUSH_LATENCY = Histogram(
    "posequeue_push_latency_seconds", "From a task state change in Redis to its hand-off to a socket.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5))


class TaskCollector:
    """``posequeue_tasks{state, actor}``: task records by state and actor, read at scrape time."""

    def collect(self):
        from models.tasks import TaskRecord
        from peewee import fn

        family = GaugeMetricFamily("posequeue_tasks", "Task records by state and actor.", labels=["state", "actor"])
        try:
            with connected():
                rows = (TaskRecord.select(TaskRecord.state, TaskRecord.actor, fn.COUNT(TaskRecord.task_id))
                        .group_by(TaskRecord.state, TaskRecord.actor).tuples())
                for state, actor, count in rows:
                    family.add_metric([state, actor], count)
        except Exception:  # a database outage must not break the scrape
            pass
        yield family


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


_task_collector = TaskCollector()


@bp.get("/metrics")
def metrics():
    """Prometheus metrics: tasks by state and actor, open sockets, push latency."""
    registry = _registry()
    extra = CollectorRegistry(auto_describe=False)
    extra.register(_task_collector)
    body = generate_latest(registry) + generate_latest(extra)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    """Serve ``/metrics``."""
    app.register_blueprint(bp)
