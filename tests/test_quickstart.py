"""``make run``'s launcher on a machine with no Redis and no database server."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests.support.processes import ROOT, free_port, wait_for, wait_http

pytestmark = pytest.mark.e2e


def test_launcher_starts_embedded_redis_web_and_worker_and_stops_cleanly(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "BROKER_URL")}
    env.update({"PORT": str(port), "INSTANCE_PATH": str(tmp_path / "instance"), "WEB_CONCURRENCY": "1",
                "WORKER_PROCESSES": "1"})
    log = open(tmp_path / "run.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "cli.run"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/healthz", timeout=60)
        assert requests.get(f"{base}/healthz").json()["status"] == "ok"
        # Auth is on by default: the first start printed a one-time admin login and token.
        printed = (tmp_path / "run.log").read_text()
        token = re.search(r"API token:\s+(pq_\S+)", printed).group(1)
        password = re.search(r"as\s+admin / (\S+)", printed).group(1)
        assert len(password) >= 12
        assert requests.post(f"{base}/api/tasks/prune/", json={"older_than_days": 1}).status_code == 401
        auth = {"Authorization": f"Bearer {token}"}
        accepted = requests.post(f"{base}/api/tasks/prune/", json={"older_than_days": 1}, headers=auth).json()
        final = wait_for(lambda: (s := requests.get(f"{base}/api/task-status/{accepted['task_id']}/",
                                                    headers=auth).json())
                         ["state"] == "SUCCESS" and s, timeout=30, what="the job to run on the worker")
        login = requests.post(f"{base}/api/auth/login", json={"name": "admin", "password": password})
        assert login.status_code == 200 and "pq_session" in login.cookies
        assert final["result"] == {"deleted": 0, "older_than_days": 1}
        output = (tmp_path / "run.log").read_text()
        assert "embedded Redis" in output and "redis.sock" in output
        assert "SQLite (WAL)" in output
        assert (tmp_path / "instance" / "posequeue.sqlite3").exists()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        log.close()
    time.sleep(0.2)
    assert not (tmp_path / "instance" / "redis.sock").exists()
    assert "embedded Redis stopped" in (tmp_path / "run.log").read_text()
