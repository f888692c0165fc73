"""Fuzz every REST operation of the OpenAPI document with schemathesis: no 5xx, no leaks.

The document is fetched from the app itself (``/api/openapi.json``) and every
operation is called in-process through WSGI, on the real Redis and database
the fixtures give, with generated valid and invalid parameters and bodies.
Every answer must be below 500, carry a status code the document names for
the operation, be JSON in the one error shape when it is a 4xx, and show no
traceback, file system path or SQL. Schemathesis' own checks run too
(negative data rejected, positive data accepted, response schemas, Allow on 405…).

Random ids mostly answer 404, so generated ids are swapped for those of real
records (a wall, route, session, recording, video and task made first) in
half of the valid cases: the fuzzer reaches validation against a real wall,
a real video's frame count, a real session's route.

Jobs the fuzzer starts are really enqueued, but on a quarantine queue that no
worker reads; they are cancelled and the queue emptied afterwards, so a worker
running in the same test session never runs fuzzed jobs. Uploads are the
fuzzer's own few bytes; nothing can fill the disk.
"""
from __future__ import annotations

import io
import re
import zlib
from pathlib import Path
from typing import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import CheckContext
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.climbing_support import GENERATED_SVG, SMALL_ROUTE

#: Examples per operation and phase: ~45 operations in well under a minute.
EXAMPLES = 15
QUARANTINE = "pq-fuzz-quarantine"

#: What must never appear in an answer: tracebacks, server paths, SQL, driver or exception names.
LEAKS = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|"
    r"(?<![\w.:/])/(?:tmp|work|home|root|usr|var|opt|srv|etc)/|\binstance/|\.sqlite3|\.py\b|\bupload-\w{6,}|"
    r"\b(?:SELECT|INSERT INTO|UPDATE|DELETE FROM)\s+[\"\w]|sqlite3\.|psycopg2|peewee|OperationalError|"
    r"IntegrityError|ProgrammingError|DataError|OverflowError|RecursionError|AttributeError|KeyError|TypeError",
)

#: Operations whose valid-looking input is also checked against content or other records, so a
#: schema-valid request may rightly be refused with a 400 naming the field.
SEMANTIC_400 = {
    "POST /api/walls/": "the SVG must parse into holds",
    "POST /api/videos/": "the file must be a video OpenCV decodes",
    "POST /api/walls/{wall_id}/calibrations/": "the points must fix a perspective",
    "POST /api/routes/": "wall_id must name a wall and the holds be on it",
    "PUT /api/routes/{route_id}/": "wall_id must name a wall and the holds be on it",
    "PATCH /api/routes/{route_id}/": "wall_id must name a wall and the holds be on it",
    "POST /api/sessions/": "route must name a route; climb holds those of the route",
    "PUT /api/sessions/{session_id}/": "route must name a route; climb holds those of the route",
    "PATCH /api/sessions/{session_id}/": "route must name a route; climb holds those of the route",
    "POST /api/session-recordings/": "session must name a session",
    "POST /api/sessions/{session_id}/tracker/": "route_data must be a route; a session without a route needs wall_id",
    "POST /api/sessions/{session_id}/tracker/control/": "only update_parameters takes parameters",
    "POST /api/video-apply-mask/{video_id}/": "regions must lie in the video's frame; presets must exist",
    "POST /api/video-remove-frames/{video_id}/": "frames must exist and not all be removed",
    "POST /api/video-reprocess/{video_id}/": "only a derived video has steps to re-run",
}

#: Path parameters and body fields that name records, and which seeded record stands in for them.
PATH_IDS = {"wall_id": "wall", "route_id": "route", "session_id": "session", "recording_id": "recording",
            "video_id": "video", "task_id": "task"}
BODY_IDS = {"wall_id": "wall", "route": "route", "route_id": "route", "session": "session"}


@pytest.fixture
def fuzz_headers(make_user) -> dict:
    """Headers every fuzzed request carries: a fresh token of an admin of its own, so every operation
    is reached, and a fuzzed ``DELETE /api/auth/tokens/{id}`` can revoke no one else's token."""
    return {"Authorization": f"Bearer {make_user('fuzz-admin', admin=True)[1]}"}


@pytest.fixture(scope="module")
def api_schema(app):
    """The app's own OpenAPI document, read through WSGI."""
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


@pytest.fixture(scope="module")
def quarantine(ledger) -> Iterator[list[str]]:
    """Route enqueued jobs to a queue no worker reads; cancel them and empty it afterwards."""
    import dramatiq

    broker = dramatiq.get_broker()
    enqueue = broker.enqueue
    sent: list[str] = []

    def quarantined(message, *, delay=None):
        sent.append(message.message_id)
        return enqueue(message.copy(queue_name=QUARANTINE), delay=delay)

    broker.enqueue = quarantined
    try:
        yield sent
    finally:
        broker.enqueue = enqueue
        broker.flush(QUARANTINE)
        for task_id in sent:
            try:
                ledger.cancel(task_id)
            except Exception:  # noqa: BLE001 - already ended, or never recorded
                pass


class Seeds:
    """Real records for the fuzzer to aim at, made again when a fuzzed DELETE removed them."""

    def __init__(self, app, video_path: Path, token: str) -> None:
        self.client = app.test_client()
        # The seeder's own admin: the fuzzer's DELETE /api/auth/tokens/{id} may revoke the fuzzer's
        # token (then its requests get 401), never this one.
        self.headers = {"Authorization": f"Bearer {token}"}
        self.video_path = video_path
        self.ids: dict[str, object] = {}
        #: Set after a fuzzed DELETE succeeded: only then can a seed be gone.
        self.stale = True

    def _exists(self, kind: str, url: str, headers: dict) -> bool:
        return kind in self.ids and self.client.get(url.format(self.ids[kind]), headers=headers).status_code == 200

    def ensure(self, fuzz_headers: dict) -> dict:
        """The seeded ids, re-creating any that are gone."""
        if not self.stale:
            return self.ids
        self.stale = False
        c, h = self.client, self.headers
        if not self._exists("wall", "/api/walls/{}/", h):
            wall = c.post("/api/walls/", headers=h, content_type="multipart/form-data",
                          data={"name": "fuzz wall", "svg": (io.BytesIO(GENERATED_SVG.encode()), "w.svg")}).json
            self.ids["wall"] = wall["id"]
            points = [{"image": [0, 0], "wall": [0, 0]}, {"image": [640, 0], "wall": [2000, 0]},
                      {"image": [640, 480], "wall": [2000, 1500]}, {"image": [0, 480], "wall": [0, 1500]}]
            c.post(f"/api/walls/{wall['id']}/calibrations/", headers=h,
                   json={"image_width": 640, "image_height": 480, "points": points})
        if not self._exists("route", "/api/routes/{}/", h):
            self.ids["route"] = c.post("/api/routes/", headers=h, json={
                "wall_id": self.ids["wall"], "name": "fuzz route", **SMALL_ROUTE}).json["id"]
        if not self._exists("session", "/api/sessions/{}/", h):
            self.ids["session"] = c.post("/api/sessions/", headers=h, json={"route": self.ids["route"]}).json["id"]
        if not self._exists("recording", "/api/session-recordings/{}/", h):
            self.ids["recording"] = c.post("/api/session-recordings/", headers=h, json={
                "session": self.ids["session"], "name": "fuzz recording"}).json["id"]
        if not self._exists("video", "/api/videos/{}/", h):
            with open(self.video_path, "rb") as f:
                self.ids["video"] = c.post("/api/videos/", headers=h, content_type="multipart/form-data",
                                           data={"file": (f, "fuzz.mp4")}).json["id"]
        if "task" not in self.ids:
            self.ids["task"] = c.post("/api/tasks/prune/", headers=h, json={"older_than_days": 36500}).json["task_id"]
        return self.ids


@pytest.fixture(scope="module")
def seeds(app, quarantine, tmp_path_factory, make_user) -> Seeds:
    """A wall with a calibration, a route on it, a session, a recording, a 16-frame video and a task."""
    from tests.motion.videogen import make_video

    video = make_video(tmp_path_factory.mktemp("fuzz") / "fuzz.mp4", frames=16, width=64, height=48)
    return Seeds(app, video, make_user("fuzz-seeder", admin=True)[1])


def aim_at_seeds(case, ids: dict) -> None:
    """In valid cases with an even generated id (by CRC, so runs repeat), name a real record instead."""
    meta = case.meta
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE:
        return
    for name, kind in PATH_IDS.items():
        value = case.path_parameters.get(name) if case.path_parameters else None
        if value is not None and zlib.crc32(str(value).encode()) % 2 == 0:
            case.path_parameters[name] = ids[kind]
    if isinstance(case.body, dict):
        for name, kind in BODY_IDS.items():
            value = case.body.get(name)
            if isinstance(value, (int, str)) and not isinstance(value, bool) \
                    and zlib.crc32(str(value).encode()) % 2 == 0:
                case.body[name] = ids[kind]


def no_leaks(ctx: CheckContext, response, case) -> bool:
    """No traceback, path or SQL in the body or the headers (the SVG and the document itself aside)."""
    if case.path.endswith(("/svg", "/openapi.json", "/docs", ".png", "/file")):
        return True
    text = response.text if isinstance(response.text, str) else ""
    text += " ".join(f"{k}: {v}" for k, v in response.headers.items())
    sent = f"{case.formatted_path} {case.path_parameters} {case.query} {case.body!r}"
    for match in LEAKS.finditer(text):
        if match.group(0) not in sent:  # echoing what the client sent ("No session with id 'SELECT 1'") is fine
            raise AssertionError(f"Server internals in the response: {match.group(0)!r}")
    return True


#: Answers any operation may give whatever it documents (the framework's own).
ALWAYS = {405}


def documented_status(ctx: CheckContext, response, case) -> bool:
    """The status is one the operation documents explicitly (not just through ``default``)."""
    if case.method.upper() != case.operation.method.upper():
        return True  # schemathesis probing other methods (OPTIONS, TRACE): Flask's own answers
    documented = sorted(str(code) for code in case.operation.definition.raw["responses"] if code != "default")
    if str(response.status_code) not in documented and response.status_code not in ALWAYS:
        raise AssertionError(f"Undocumented status {response.status_code}; documented: {', '.join(documented)}")
    return True


def error_shape(ctx: CheckContext, response, case) -> bool:
    """Every 4xx is JSON in the one error shape."""
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
        assert isinstance(body["error"].get("code"), str) and isinstance(body["error"].get("message"), str), body
    return True


def is_nul_refusal(response) -> bool:
    """The 400 for a NUL character, which no JSON Schema string type excludes (PostgreSQL cannot store it)."""
    if response.status_code != 400:
        return False
    error = response.json()["error"]
    return error["code"] in ("bad_request", "bad_json") and "NUL" in error["message"]


def valid_data_accepted(ctx: CheckContext, response, case) -> bool | None:
    """schemathesis' positive_data_acceptance, except for NUL refusals, and for SEMANTIC_400 operations
    a 400 that names what is wrong."""
    if is_nul_refusal(response):
        return True
    if case.operation.label in SEMANTIC_400 and response.status_code == 400:
        error = response.json()["error"]
        assert error["code"] in ("invalid", "not_a_video", "bad_json", "refused"), error
        assert error["message"], error
        return True
    return positive_data_acceptance(ctx, response, case)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_without_5xx_or_leaks(case, fuzz_headers, seeds) -> None:
    aim_at_seeds(case, seeds.ensure(fuzz_headers))
    response = case.call(headers=fuzz_headers)
    seeds.stale |= case.method.upper() == "DELETE" and response.status_code < 300
    assert response.status_code < 500, f"{case.operation.label}: {response.status_code} {response.text[:500]}"
    case.validate_response(response, headers=fuzz_headers,
                           additional_checks=[no_leaks, documented_status, error_shape, valid_data_accepted],
                           excluded_checks=[positive_data_acceptance])


def test_the_fuzzer_enqueued_jobs_only_on_the_quarantine_queue(quarantine, ledger) -> None:
    """Jobs were started (the fuzz reached accept_job) and none of them ran."""
    assert quarantine, "the fuzzer never got a job accepted"
    states = [ledger.get(task_id)["state"] for task_id in quarantine]
    assert set(states) <= {"PENDING", "CANCELLED"}, states


@pytest.mark.parametrize("method, url, kwargs", [
    ("get", "/api/task-status/a%00b/", {}),
    ("get", "/api/tasks/?actor=a%00b", {}),
    ("get", "/api/routes/?status=%00", {}),
    ("post", "/api/routes/", {"json": {"wall_id": 1, "name": "a\x00b", "problem": {"holds": [{"id": "1"}]}}}),
    ("post", "/api/session-recordings/", {"json": {"session": "00000000-0000-0000-0000-000000000000",
                                                   "name": "\x00"}}),
    ("post", "/api/walls/", {"data": {"name": "a\x00b", "svg": (io.BytesIO(GENERATED_SVG.encode()), "w.svg")},
                             "content_type": "multipart/form-data"}),
    ("post", "/api/videos/", {"data": {"file": (io.BytesIO(b"x"), "a\x00.mp4")},
                              "content_type": "multipart/form-data"}),
])
def test_nul_characters_are_refused_before_they_reach_the_database(app, fuzz_headers, method, url, kwargs):
    """PostgreSQL text cannot hold NUL (SQLite can): a 400 at the door, not a database error."""
    response = getattr(app.test_client(), method)(url, headers=fuzz_headers, **kwargs)
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] in ("bad_request", "bad_json") and "NUL" in response.json["error"]["message"]
