"""Liveness of the services posequeue depends on."""
from flask import Blueprint, jsonify

from actors import ledger
from app.openapi import contract
from models import db as dbmod
from models.redis_client import REDIS_ERRORS

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@contract(errors=(503,))
def healthz():
    """200 when Redis and the database answer, else 503 naming what is down."""
    try:
        redis_ok, redis_detail = ledger.store.ping(), "ok"
    except REDIS_ERRORS as exc:
        redis_ok, redis_detail = False, type(exc).__name__
    db_ok, db_detail = dbmod.is_up()
    body = {
        "status": "ok" if redis_ok and db_ok else "degraded",
        "redis": {"ok": redis_ok, "detail": redis_detail},
        "database": {"ok": db_ok, "detail": db_detail},
    }
    return jsonify(body), 200 if redis_ok and db_ok else 503


@bp.get("/readyz")
@contract(errors=(503,))
def readyz():
    """200 when this process can serve: Redis and the database answer and the schema is current."""
    from models.migrations import latest_version

    try:
        redis_ok = ledger.store.ping()
    except REDIS_ERRORS:
        redis_ok = False
    try:
        with dbmod.connected():
            done = {r[0] for r in dbmod.db.execute_sql("SELECT version FROM schema_version").fetchall()}
        schema_ok = done >= set(range(1, latest_version() + 1))
    except Exception:
        schema_ok = False
    ready = redis_ok and schema_ok
    return jsonify({"ready": ready, "redis": redis_ok, "schema": schema_ok}), 200 if ready else 503
