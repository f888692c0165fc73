"""The same no-op job on bare Dramatiq (default middleware, same Redis), for comparison."""
import os
import time

import dramatiq
from dramatiq.brokers.redis import RedisBroker

broker = RedisBroker(url=os.environ["REDIS_URL"], namespace="bare")
dramatiq.set_broker(broker)


@dramatiq.actor
def bare_noop() -> None:
    """Nothing."""


@dramatiq.actor
def bare_sleep(ms: float) -> None:
    """``ms`` milliseconds of waiting."""
    time.sleep(ms / 1000)
