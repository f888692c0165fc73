"""REST: task status, history, cancellation and job submission."""
from __future__ import annotations

import pytest

from actors.submit import submit
from tests.support import actors as test_actors
from tests.support.processes import wait_for

STATUS_FIELDS = {"task_id", "state", "progress", "status", "result", "error", "eta_seconds",
                 "created_at", "started_at", "finished_at"}


def wait_final(client, task_id: str) -> dict:
    return wait_for(lambda: (b := client.get(f"/api/task-status/{task_id}/").json)["state"]
                    in ("SUCCESS", "FAILURE", "CANCELLED") and b, what="the task to end")


def test_unknown_task_is_a_404_in_the_error_shape(client):
    response = client.get("/api/task-status/no-such-task/")
    assert response.status_code == 404
    assert response.json == {"error": {"code": "not_found", "message": "No task with id 'no-such-task'."}}


def test_status_answers_with_and_without_trailing_slash(client, worker):
    task_id = submit(test_actors.count_to, 2)["task_id"]
    with_slash = client.get(f"/api/task-status/{task_id}/")
    without = client.get(f"/api/task-status/{task_id}")
    assert with_slash.status_code == without.status_code == 200
    assert STATUS_FIELDS <= set(with_slash.json)


def test_job_submission_answers_202_and_the_job_runs(client, worker):
    response = client.post("/api/tasks/prune/", json={"older_than_days": 365})
    assert response.status_code == 202
    body = response.json
    assert set(body) == {"task_id", "status", "message"} and body["status"] == "pending"
    final = wait_final(client, body["task_id"])
    assert final["state"] == "SUCCESS"
    assert final["result"] == {"deleted": 0, "older_than_days": 365}
    assert final["progress"] == 100.0


def test_invalid_job_body_lists_the_bad_field(client):
    response = client.post("/api/tasks/prune/", json={"older_than_days": "soon"})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid"
    assert "older_than_days" in response.json["error"]["fields"]


def test_sync_query_runs_the_job_in_the_request(client):
    response = client.post("/api/tasks/prune/?sync=1", json={})
    assert response.status_code == 200
    assert response.json["task_id"] is None
    assert response.json["result"]["older_than_days"] == 30


def test_list_filters_by_state_and_actor_and_paginates(client, worker, ledger):
    ids = [submit(test_actors.count_to, 1)["task_id"] for _ in range(3)]
    failed = submit(test_actors.reject_input, "nope")["task_id"]
    for task_id in ids + [failed]:
        wait_final(client, task_id)
    page = client.get("/api/tasks/?actor=count_to&state=SUCCESS&per_page=2&page=1").json
    assert page["per_page"] == 2 and len(page["items"]) == 2 and page["total"] >= 3
    assert all(t["actor"] == "count_to" and t["state"] == "SUCCESS" for t in page["items"])
    failures = client.get("/api/tasks/?state=FAILURE&actor=reject_input").json["items"]
    assert failed in [t["task_id"] for t in failures]
    newest_first = [t["created_at"] for t in client.get("/api/tasks/?per_page=50").json["items"]]
    assert newest_first == sorted(newest_first, reverse=True)


@pytest.mark.parametrize("query", ["state=DONE", "page=0", "per_page=100000", "page=abc"])
def test_bad_list_filters_are_400_not_500(client, query):
    response = client.get(f"/api/tasks/?{query}")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid"


def test_cancel_running_task_then_cancel_again_is_409(client, worker):
    task_id = submit(test_actors.count_to, 400, 0.05)["task_id"]
    wait_for(lambda: client.get(f"/api/task-status/{task_id}/").json["state"] == "PROGRESS", what="progress")
    response = client.post(f"/api/tasks/{task_id}/cancel/")
    assert response.status_code == 202
    assert wait_final(client, task_id)["state"] == "CANCELLED"
    again = client.post(f"/api/tasks/{task_id}/cancel/")
    assert again.status_code == 409
    assert again.json["error"]["code"] == "already_finished"
    assert "CANCELLED" in again.json["error"]["message"]


def test_cancel_unknown_task_is_404(client):
    response = client.post("/api/tasks/not-a-task/cancel/")
    assert response.status_code == 404


def test_healthz_reports_redis_and_database(client):
    body = client.get("/healthz").json
    assert body == {"status": "ok", "redis": {"ok": True, "detail": "ok"}, "database": {"ok": True, "detail": "ok"}}


def test_unknown_route_and_method_use_the_error_shape(client):
    assert client.get("/api/nothing-here").json["error"]["code"] == "not_found"
    response = client.delete("/api/task-status/x/")
    assert response.status_code == 405 and response.json["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("data, words", [("{not json", "not valid JSON"), ("[1, 2]", "JSON object")])
def test_malformed_json_body_is_a_400_that_says_why(client, data, words):
    response = client.post("/api/tasks/prune/", data=data, content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_json" and words in response.json["error"]["message"]
