"""One configuration object, read from the environment by web, worker and CLI.

Every variable is listed in the README's configuration table. Bad values fail
at start-up with a message that names the variable, never later in a request.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping, Optional

ROOT = Path(__file__).resolve().parent


class ConfigError(ValueError):
    """An environment variable holds a value posequeue cannot use."""


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name}={raw!r}: expected 1/0, true/false, yes/no or on/off")


def _number(kind: type, name: str, raw: str, minimum: float) -> float:
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a {kind.__name__}") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw!r}: must be at least {minimum}")
    return value


def _presets(raw: str) -> dict:
    """DEVICE_PRESETS: JSON text, or the path of a JSON file, mapping names to region lists."""
    import json

    source = raw
    if not raw.lstrip().startswith("{"):
        try:
            source = Path(raw).read_text()
        except OSError as exc:
            raise ConfigError(f"DEVICE_PRESETS={raw!r}: not JSON and not a readable file ({exc.strerror})") from None
    try:
        presets = json.loads(source)
    except ValueError as exc:
        raise ConfigError(f"DEVICE_PRESETS: invalid JSON ({exc})") from None
    if not isinstance(presets, dict) or not all(isinstance(v, (list, dict)) for v in presets.values()):
        raise ConfigError('DEVICE_PRESETS must map preset names to region lists, e.g. '
                          '{"scope-a": [{"shape": "rect", "x": 0, "y": 0, "width": 200, "height": 80}]}')
    return presets


def _origins(raw: str) -> tuple:
    """ALLOWED_ORIGINS: comma-separated ``scheme://host[:port]`` origins."""
    from urllib.parse import urlsplit

    out = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        parts = urlsplit(item)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") \
                or parts.query or parts.fragment:
            raise ConfigError(f"ALLOWED_ORIGINS: {item!r} is not an origin; expected e.g. https://wall.example.org")
        out.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return tuple(out)


@dataclass(frozen=True)
class Config:
    """Settings for every posequeue process. Build it with :meth:`from_env`."""

    #: Redis for live task state and (unless BROKER_URL says otherwise) the queue.
    #: None means: use the embedded Redis that ``make run`` starts.
    redis_url: Optional[str] = None
    #: Broker for Dramatiq when it should differ from Redis (``amqp://`` = RabbitMQ).
    broker_url: Optional[str] = None
    #: peewee ``playhouse.db_url`` address; None means SQLite under ``instance/``.
    database_url: Optional[str] = None
    instance_path: Path = ROOT / "instance"
    port: int = 8000
    #: Seconds a job may run before it is stopped (per-actor ``time_limit`` overrides).
    task_time_limit: int = 3600
    #: Retries for network/service errors; errors in the job itself never retry.
    task_max_retries: int = 3
    #: First retry back-off in milliseconds (doubles each retry).
    task_retry_backoff_ms: int = 2000
    #: Seconds without a heartbeat after which a worker counts as dead and its
    #: unfinished messages go back to the queue (e.g. after SIGKILL or a crash).
    worker_heartbeat_timeout: float = 20.0
    #: Broker calls, per million, that also run queue maintenance (requeueing
    #: dead workers' messages); Dramatiq's default of 1000 took ~8 minutes here.
    broker_maintenance_chance: int = 10_000
    #: Seconds between progress writes to the database (Redis gets every write).
    progress_db_interval: float = 5.0
    #: Seconds a task's live state stays in Redis after its last change.
    task_state_ttl: int = 7 * 24 * 3600
    #: Run jobs inside the request when the queue is unreachable (seed 004).
    sync_fallback: bool = False
    #: Seconds before an unreachable Redis is reported instead of waited on.
    redis_timeout: float = 1.0
    #: Seconds between WebSocket pings (0 = off); keeps idle sockets alive behind proxies.
    ws_ping_interval: float = 25.0
    #: Largest WebSocket message accepted, in bytes.
    ws_max_message_bytes: int = 1 << 20
    #: Page size cap for list endpoints.
    max_page_size: int = 200
    log_level: str = "INFO"
    #: ``json`` (one JSON object per line, with request/task ids) or ``text``.
    log_format: str = "json"
    #: Port of the worker's Prometheus exposition server (Dramatiq's middleware); 0 = off.
    worker_metrics_port: int = 9191
    #: Where uploaded and derived videos live; None means ``instance/media``.
    media_root: Optional[Path] = None
    #: Largest accepted upload, in bytes (413 past it).
    max_upload_bytes: int = 2 * 1024 ** 3
    #: 0 runs video jobs inside the request (seed 004's migration path).
    use_async_tasks: bool = True
    #: Named mask region sets (device overlays), from DEVICE_PRESETS (JSON text or a JSON file).
    device_presets: Mapping[str, Any] = field(default_factory=dict)
    #: Largest message the relay sockets (/ws/pose/, /ws/holds/) pass on, in bytes.
    relay_max_message_bytes: int = 256 * 1024
    #: Messages a relay client may fall behind before it is disconnected.
    relay_max_queue: int = 64
    #: Seconds a pose session tracker runs at most (the actor and `flask run-tracker`).
    tracker_max_duration: float = 4 * 3600.0
    #: The tracker's default input/output sockets; None means this server's relays on PORT.
    tracker_input_url: Optional[str] = None
    tracker_output_url: Optional[str] = None
    #: Segments a long video's masking job is split into, processed in parallel (1 = never split).
    video_segments: int = 4
    #: A masking job is split only when each segment gets at least this many frames.
    video_segment_min_frames: int = 1800
    #: An ONNX exercise classifier replacing the built-in one (docs/workout.md); None = built-in.
    workout_model_path: Optional[Path] = None
    #: Analyse every N-th frame a workout client sends (seed 003: every 2nd).
    workout_analyse_every: int = 2
    #: Largest decoded workout frame, in bytes; bigger frames get an ``error`` message.
    workout_max_frame_bytes: int = 1 << 20
    #: MediaPipe tracking-mode Pose instances kept per worker process (one per live connection, LRU).
    workout_trackers: int = 8
    #: Seconds a workout connection's analysis state stays in Redis after its last frame.
    workout_state_ttl: int = 3600

    #: Development only: no logins, every request acts as a local admin (logged loudly at start).
    auth_disabled: bool = False
    #: Origins (scheme://host[:port]) whose pages may open sockets and send cookie-authenticated
    #: requests, besides the server's own origin.
    allowed_origins: tuple = ()
    #: Days a browser login (session cookie) lasts.
    session_days: float = 14.0
    #: Send the session cookie only over HTTPS (set 1 behind TLS).
    cookie_secure: bool = False
    #: Largest JSON request body, in bytes (413 past it).
    max_json_bytes: int = 1 << 20
    #: Messages per second one socket may send (workout frames, pose publishers); extra ones get an ``error``.
    ws_max_fps: float = 60.0
    #: Sockets one user may hold open at once, across web processes (0 = no limit).
    max_sockets_per_user: int = 50

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None, **overrides) -> "Config":
        """Read every setting from ``environ`` (default: ``os.environ``)."""
        env = os.environ if environ is None else environ

        def text(name: str) -> Optional[str]:
            value = env.get(name, "").strip()
            return value or None

        values: dict = {
            "redis_url": text("REDIS_URL"),
            "broker_url": text("BROKER_URL"),
            "database_url": text("DATABASE_URL"),
        }
        if text("INSTANCE_PATH"):
            values["instance_path"] = Path(text("INSTANCE_PATH")).resolve()
        ints = {
            "PORT": ("port", 1),
            "TASK_TIME_LIMIT": ("task_time_limit", 1),
            "TASK_MAX_RETRIES": ("task_max_retries", 0),
            "TASK_RETRY_BACKOFF_MS": ("task_retry_backoff_ms", 1),
            "TASK_STATE_TTL": ("task_state_ttl", 60),
            "WS_MAX_MESSAGE_BYTES": ("ws_max_message_bytes", 1024),
            "MAX_PAGE_SIZE": ("max_page_size", 1),
            "MAX_UPLOAD_BYTES": ("max_upload_bytes", 1),
            "BROKER_MAINTENANCE_CHANCE": ("broker_maintenance_chance", 1),
            "RELAY_MAX_MESSAGE_BYTES": ("relay_max_message_bytes", 1024),
            "RELAY_MAX_QUEUE": ("relay_max_queue", 1),
            "VIDEO_SEGMENTS": ("video_segments", 1),
            "VIDEO_SEGMENT_MIN_FRAMES": ("video_segment_min_frames", 10),
            "WORKOUT_ANALYSE_EVERY": ("workout_analyse_every", 1),
            "WORKOUT_MAX_FRAME_BYTES": ("workout_max_frame_bytes", 1024),
            "WORKOUT_TRACKERS": ("workout_trackers", 0),
            "WORKOUT_STATE_TTL": ("workout_state_ttl", 60),
            "MAX_JSON_BYTES": ("max_json_bytes", 1024),
            "MAX_SOCKETS_PER_USER": ("max_sockets_per_user", 0),
        }
        for name, (attr, minimum) in ints.items():
            if text(name) is not None:
                values[attr] = int(_number(int, name, text(name), minimum))
        floats = {
            "PROGRESS_DB_INTERVAL": ("progress_db_interval", 0.0),
            "REDIS_TIMEOUT": ("redis_timeout", 0.05),
            "WORKER_HEARTBEAT_TIMEOUT": ("worker_heartbeat_timeout", 1.0),
            "WS_PING_INTERVAL": ("ws_ping_interval", 0.0),
            "TRACKER_MAX_DURATION": ("tracker_max_duration", 1.0),
            "SESSION_DAYS": ("session_days", 0.01),
            "WS_MAX_FPS": ("ws_max_fps", 0.1),
        }
        for name, (attr, minimum) in floats.items():
            if text(name) is not None:
                values[attr] = _number(float, name, text(name), minimum)
        if text("MEDIA_ROOT"):
            values["media_root"] = Path(text("MEDIA_ROOT")).resolve()
        if text("WORKOUT_MODEL_PATH"):
            # Not checked here: a missing or broken model is reported to workout clients, never fatal.
            values["workout_model_path"] = Path(text("WORKOUT_MODEL_PATH")).expanduser().resolve()
        if text("USE_ASYNC_TASKS") is not None:
            values["use_async_tasks"] = _bool("USE_ASYNC_TASKS", text("USE_ASYNC_TASKS"))
        if text("DEVICE_PRESETS"):
            values["device_presets"] = _presets(text("DEVICE_PRESETS"))
        for name, attr in (("AUTH_DISABLED", "auth_disabled"), ("COOKIE_SECURE", "cookie_secure")):
            if text(name) is not None:
                values[attr] = _bool(name, text(name))
        if text("ALLOWED_ORIGINS"):
            values["allowed_origins"] = _origins(text("ALLOWED_ORIGINS"))
        if text("SYNC_FALLBACK") is not None:
            values["sync_fallback"] = _bool("SYNC_FALLBACK", text("SYNC_FALLBACK"))
        if text("LOG_LEVEL") is not None:
            level = text("LOG_LEVEL").upper()
            if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
                raise ConfigError(f"LOG_LEVEL={level!r}: expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
            values["log_level"] = level
        if text("LOG_FORMAT") is not None:
            if text("LOG_FORMAT") not in ("json", "text"):
                raise ConfigError(f"LOG_FORMAT={text('LOG_FORMAT')!r}: expected json or text")
            values["log_format"] = text("LOG_FORMAT")
        if text("WORKER_METRICS_PORT") is not None:
            values["worker_metrics_port"] = int(_number(int, "WORKER_METRICS_PORT", text("WORKER_METRICS_PORT"), 0))
        for url_name, attr in (("TRACKER_INPUT_URL", "tracker_input_url"),
                               ("TRACKER_OUTPUT_URL", "tracker_output_url")):
            url = text(url_name)
            if url and not url.startswith(("ws://", "wss://", "http://", "https://")):
                raise ConfigError(f"{url_name}={url!r}: expected a ws://, wss://, http:// or https:// URL")
            if url:
                values[attr] = url
        for url_name in ("REDIS_URL", "BROKER_URL"):
            url = text(url_name)
            if url and not url.startswith(("redis://", "rediss://", "unix://", "amqp://", "amqps://")):
                raise ConfigError(f"{url_name}={url!r}: expected a redis://, rediss://, unix:// or amqp:// URL")
        if values["redis_url"] and values["redis_url"].startswith("amqp"):
            raise ConfigError("REDIS_URL must point at Redis; put a RabbitMQ address in BROKER_URL")
        values.update(overrides)
        return cls(**values)

    @property
    def sqlite_path(self) -> Path:
        """Where the embedded SQLite database lives when DATABASE_URL is unset."""
        return self.instance_path / "posequeue.sqlite3"

    @property
    def effective_database_url(self) -> str:
        """DATABASE_URL, or the embedded SQLite file."""
        return self.database_url or f"sqlite:///{self.sqlite_path}"

    @property
    def effective_media_root(self) -> Path:
        """MEDIA_ROOT, or ``instance/media``."""
        return self.media_root or self.instance_path / "media"

    @property
    def effective_redis_url(self) -> str:
        """REDIS_URL, or the socket of the embedded Redis under ``instance/``."""
        return self.redis_url or f"unix://{self.instance_path / 'redis.sock'}"

    @property
    def effective_tracker_input_url(self) -> str:
        """TRACKER_INPUT_URL, or this server's pose relay."""
        return self.tracker_input_url or f"ws://127.0.0.1:{self.port}/ws/pose/"

    @property
    def effective_tracker_output_url(self) -> str:
        """TRACKER_OUTPUT_URL, or this server's holds relay."""
        return self.tracker_output_url or f"ws://127.0.0.1:{self.port}/ws/holds/"

    def public_dict(self) -> dict:
        """Settings safe to log (no passwords in URLs)."""
        from urllib.parse import urlsplit, urlunsplit

        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str) and "@" in value and "://" in value:
                parts = urlsplit(value)
                host = parts.hostname or ""
                if parts.port:
                    host += f":{parts.port}"
                user = f"{parts.username}:***@" if parts.username else ""
                value = urlunsplit((parts.scheme, user + host, parts.path, parts.query, ""))
            out[f.name] = str(value) if isinstance(value, Path) else value
        return out
