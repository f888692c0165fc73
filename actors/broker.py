"""Build the Dramatiq broker and set it before any actor module is imported.

The broker is Redis (REDIS_URL, or the embedded one) unless BROKER_URL names
RabbitMQ; live task state always stays in Redis either way.
"""
from __future__ import annotations

import logging

import dramatiq
from dramatiq.middleware import (
    AgeLimit, Callbacks, GroupCallbacks, Pipelines, Retries, ShutdownNotifications, TimeLimit,
)
from dramatiq.rate_limits.backends import RedisBackend as RedisRateLimiterBackend

from actors.fanout import FanIn
from actors.middleware import TaskLifecycle, make_retry_when
from config import Config
from logsetup import configure_logging
from models.db import init_db
from models.redis_client import make_redis
from models.task_state import TaskLedger
from models.task_store import RedisTaskStore

log = logging.getLogger(__name__)


class _DropResultWarning(logging.Filter):
    # Results are stored by TaskLifecycle, not by Dramatiq's Results backend,
    # so its "value has been discarded" warning would fire on every job.
    def filter(self, record: logging.LogRecord) -> bool:
        return "haven't added the Results middleware" not in record.getMessage()


def build_broker(config: Config):
    """A broker with our middleware, plus the task ledger it writes to."""
    redis_client = make_redis(config.effective_redis_url, timeout=config.redis_timeout)
    ledger = TaskLedger(RedisTaskStore(redis_client, ttl=config.task_state_ttl))
    middleware = _metrics_middleware(config) + [
        AgeLimit(),
        TimeLimit(time_limit=config.task_time_limit * 1000),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        # Group completion callbacks (the join of a parallel video job) count
        # finished children in Redis, whichever broker carries the messages.
        GroupCallbacks(RedisRateLimiterBackend(client=redis_client)),
        # Ends a parent task from its children; after TaskLifecycle's own hooks.
        FanIn(ledger),
        # Before Retries: Dramatiq runs after_* hooks in reverse order, and
        # the lifecycle must see whether Retries re-enqueued the message.
        TaskLifecycle(
            ledger,
            db_interval=config.progress_db_interval,
            default_time_limit_ms=config.task_time_limit * 1000,
        ),
        Retries(
            max_retries=config.task_max_retries,
            min_backoff=config.task_retry_backoff_ms,
            max_backoff=60_000,
            retry_when=make_retry_when(config.task_max_retries),
        ),
    ]
    url = config.broker_url or config.effective_redis_url
    if url.startswith("amqp"):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url, middleware=middleware)
    else:
        from dramatiq.brokers.redis import RedisBroker

        import redis

        # Our own client, because RedisBroker ignores timeouts when given a URL:
        # without them an unreachable Redis makes send() hang instead of fail.
        client = redis.Redis.from_url(url, socket_connect_timeout=config.redis_timeout, socket_timeout=10)
        broker = RedisBroker(
            client=client, middleware=middleware,
            heartbeat_timeout=int(config.worker_heartbeat_timeout * 1000),
            maintenance_chance=config.broker_maintenance_chance,
        )
    logging.getLogger("dramatiq.worker.WorkerThread").addFilter(_DropResultWarning())
    return broker, ledger


def _metrics_middleware(config: Config) -> list:
    """Dramatiq's Prometheus middleware (its own exposition server in each worker), when enabled."""
    if not config.worker_metrics_port:
        return []
    import os

    # Read by the middleware module at import time. The Procfile sets both for
    # Dramatiq's main process, which runs the exposition server.
    os.environ.setdefault("dramatiq_prom_port", str(config.worker_metrics_port))
    os.environ.setdefault("dramatiq_prom_db", str(config.instance_path / "prometheus-worker"))
    from dramatiq.middleware.prometheus import Prometheus

    return [Prometheus()]


def setup(config: Config | None = None):
    """Build the broker from ``config`` (default: the environment) and make it current."""
    config = config or Config.from_env()
    configure_logging(config.log_level, config.log_format)
    broker, ledger = build_broker(config)
    dramatiq.set_broker(broker)
    init_db(config.effective_database_url)
    return broker, ledger
