"""Environment for the benchmarks: the machine's services when configured, else embedded ones.

Import before ``actors`` (which builds its broker from the environment).
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def prepare(prefix: str):
    """A temp folder and, when REDIS_URL is unset, a started embedded Redis (else None)."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    embedded = None
    if not os.environ.get("REDIS_URL"):
        from models.redis_server import EmbeddedRedis

        embedded = EmbeddedRedis(tmp / "redis").start()
        os.environ["REDIS_URL"] = embedded.url
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    return tmp, embedded
