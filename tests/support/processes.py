"""Start real posequeue processes (dramatiq workers, gunicorn) for the tests."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    # A test run killed from outside (a timeout) must not leave servers behind.
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Process:
    """A child process whose output goes to a log file, stopped on exit."""

    def __init__(self, args: list[str], env: dict, log_path: Path) -> None:
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True, preexec_fn=_die_with_parent)

    def output(self) -> str:
        """What the process printed so far."""
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        """Signal the whole process group and wait."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass
        self.log.close()


def start_worker(env: dict, log_dir: Path, *, processes: int = 1, threads: int = 4, name: str = "worker",
                 queues: tuple[str, ...] = ("default", "workout")) -> Process:
    """``dramatiq actors tests.support.actors`` as a real process, consuming ``queues``."""
    env = {**env, "dramatiq_worker_timeout": "50"}
    if env.get("WORKER_METRICS_PORT", "0") != "0":
        # Read by Dramatiq's exposition server, which runs in the main process.
        env["dramatiq_prom_port"] = env["WORKER_METRICS_PORT"]
        env["dramatiq_prom_db"] = str(Path(env.get("INSTANCE_PATH", ROOT / "instance")) / "prometheus-worker")
    return Process(
        [str(BIN / "dramatiq"), "actors", "tests.support.actors", "--processes", str(processes),
         "--threads", str(threads), "--worker-shutdown-timeout", "5000", "--queues", *queues],
        env, log_dir / f"{name}.log")


def start_web(env: dict, log_dir: Path, port: int, *, workers: int = 1, name: str = "web") -> Process:
    """gunicorn with gevent workers serving the app, as in the Procfile."""
    env = {**env, "PORT": str(port), "WEB_CONCURRENCY": str(workers)}
    proc = Process([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "tests.support.wsgi:create_app()"],
                   env, log_dir / f"{name}.log")
    wait_http(f"http://127.0.0.1:{port}/healthz", proc)
    return proc


def wait_http(url: str, proc: Process | None = None, timeout: float = 30) -> None:
    """Wait until ``url`` answers at all (any status)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc and proc.proc.poll() is not None:
            raise RuntimeError(f"process exited early:\n{proc.output()[-3000:]}")
        try:
            requests.get(url, timeout=2)
            return
        except (requests.ConnectionError, requests.Timeout):  # not listening, or still booting
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer in {timeout} s" + (f":\n{proc.output()[-3000:]}" if proc else ""))


def wait_for(predicate, timeout: float = 20, interval: float = 0.05, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
