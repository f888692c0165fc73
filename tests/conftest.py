"""Fixtures that build real things: Redis, database, worker, app, web server.

With REDIS_URL / DATABASE_URL unset (a new user's machine) the suite starts an
embedded Redis and uses a SQLite file; with them set (CI's second pass) it uses
those services. Environment is settled before any ``actors`` import, because
importing ``actors`` builds the broker from it.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests and the API fuzz run the same examples on every run (CI must not fail
# by luck); HYPOTHESIS_PROFILE=explore draws new ones, to hunt for bugs on purpose.
settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

_TMP = Path(tempfile.mkdtemp(prefix="pq-"))
_EMBEDDED = None

if not os.environ.get("REDIS_URL"):
    from models.redis_server import EmbeddedRedis

    _EMBEDDED = EmbeddedRedis(_TMP / "redis").start()
    os.environ["REDIS_URL"] = _EMBEDDED.url
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_TMP / 'test.sqlite3'}")
if os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
    # CI's PostgreSQL database outlives runs; start every run from an empty schema
    # so migrations are tested from scratch, as on a new deployment.
    import psycopg2

    with psycopg2.connect(os.environ["DATABASE_URL"]) as _conn, _conn.cursor() as _cur:
        _cur.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
os.environ["INSTANCE_PATH"] = str(_TMP / "instance")
os.environ.setdefault("TASK_RETRY_BACKOFF_MS", "100")
os.environ.setdefault("PROGRESS_DB_INTERVAL", "0.5")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("WORKER_METRICS_PORT", "0")  # tests that want it pick a free port

import actors  # noqa: E402  (after the environment is settled)
import tests.support.actors  # noqa: E402,F401
from config import Config  # noqa: E402
from models.db import db  # noqa: E402
from models.tasks import TaskRecord  # noqa: E402
from tests.support.processes import free_port, start_web, start_worker  # noqa: E402


def pytest_sessionstart(session):
    # CI's second pass shares one PostgreSQL database and one Redis between runs.
    actors.ledger.store.client.flushdb()
    with db.connection_context():
        TaskRecord.delete().execute()


def pytest_sessionfinish(session, exitstatus):
    if _EMBEDDED:
        _EMBEDDED.stop()
    shutil.rmtree(_TMP, ignore_errors=True)


@pytest.fixture(scope="session")
def config() -> Config:
    """The configuration every process of the test run shares."""
    return Config.from_env()


@pytest.fixture(scope="session")
def env() -> dict:
    """Environment for child processes (same Redis and database as this one).

    The shared ``web`` server runs the feature tests with AUTH_DISABLED=1 (the
    local-development mode); ``secure_web`` and tests/test_auth*.py run with
    authentication on, as a deployment does. The in-process ``client`` is an admin.
    """
    # Feature tests stream faster than a camera would; tests/test_limits*.py check WS_MAX_FPS.
    return {**os.environ, "AUTH_DISABLED": "1", "WS_MAX_FPS": "100000"}


@pytest.fixture(scope="session")
def secure_env() -> dict:
    """Environment for child processes with authentication on (the default)."""
    return {**{k: v for k, v in os.environ.items() if k != "AUTH_DISABLED"},
            "MAX_SOCKETS_PER_USER": "4", "WS_MAX_FPS": "5"}


@pytest.fixture(scope="session")
def make_user(app):
    """``make_user(name, admin=False) -> (user, token)``: a user (created once) and a fresh API token."""
    from models.db import connected
    from models.users import User, create_user, issue_token

    def make(name: str, admin: bool = False):
        with connected():
            user = User.get_or_none(User.name == name) or create_user(name, admin=admin, password=f"{name}-password-1")
            return user, issue_token(user, "test suite")[1]

    return make


@pytest.fixture(scope="session")
def admin_token(make_user) -> str:
    """An API token of an admin user."""
    return make_user("test-admin", admin=True)[1]


@pytest.fixture(scope="session")
def redis_client():
    """A client of the test Redis."""
    return actors.ledger.store.client


@pytest.fixture(scope="session")
def ledger():
    """The task ledger of this process."""
    return actors.ledger


@pytest.fixture(scope="session")
def logs() -> Path:
    """Where child processes write their output."""
    path = _TMP / "logs"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def worker(env, logs):
    """A real ``dramatiq`` worker process running the app's and the tests' actors."""
    proc = start_worker(env, logs)
    from tests.support.actors import noop
    from actors.submit import submit
    from tests.support.processes import wait_for

    state = submit(noop)
    try:
        wait_for(lambda: actors.ledger.get(state["task_id"])["state"] == "SUCCESS", timeout=60,
                 what="the worker to start")
    except TimeoutError:
        raise RuntimeError("worker did not start:\n" + proc.output()[-3000:])
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def app(config):
    """The Flask app, configured like production."""
    from app import create_app

    return create_app(config)


@pytest.fixture
def client(app, admin_token):
    """A Flask test client that authenticates as an admin."""
    test_client = app.test_client()
    test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {admin_token}"
    return test_client


@pytest.fixture
def anonymous(app):
    """A Flask test client without credentials."""
    return app.test_client()


@pytest.fixture(scope="session")
def web(env, logs, worker):
    """gunicorn with two gevent workers serving the app on a free port; yields its base URL."""
    port = free_port()
    proc = start_web(env, logs, port, workers=2)
    yield f"http://127.0.0.1:{port}"
    proc.stop()


@pytest.fixture(scope="session")
def secure_web(secure_env, logs, worker):
    """gunicorn (one gevent worker) with authentication on; yields its base URL."""
    port = free_port()
    proc = start_web(secure_env, logs, port, workers=1, name="secure-web")
    yield f"http://127.0.0.1:{port}"
    proc.stop()
