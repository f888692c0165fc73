"""gunicorn settings for the ``web`` process (gevent workers: many sockets each)."""
import os
import shutil

# Prometheus multiprocess mode: every worker writes its samples under this
# folder so /metrics answers for the whole process group. Must be set before
# prometheus_client is imported (the app is loaded after fork). One folder per
# port: a second web process on the same instance must not wipe this one's.
_metrics_dir = os.path.join(os.environ.get("INSTANCE_PATH", "instance"),
                            f"prometheus-web-{os.environ.get('PORT', '8000')}")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.abspath(_metrics_dir)

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
worker_class = "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_connections = int(os.environ.get("WEB_WORKER_CONNECTIONS", "1000"))
# Sockets live long; gunicorn's timeout only watches for a blocked worker loop.
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 20
accesslog = "-" if os.environ.get("ACCESS_LOG", "0") == "1" else None
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_fork(server, worker):
    # psycopg2 blocks the whole gevent loop while it waits on PostgreSQL
    # unless it is told to yield.
    try:
        from psycogreen.gevent import patch_psycopg

        patch_psycopg()
    except ImportError:
        pass


def on_starting(server):
    # Samples of a previous run would be summed into this one.
    shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
