"""Seed-002 socket messages built from task states."""
from app.sockets.task_messages import message_for


def test_running_task_is_a_task_update_with_progress_and_eta():
    message = message_for({"task_id": "t", "state": "PROGRESS", "status": "Processing frame 450/1000",
                           "progress": 45.0, "eta_seconds": 12.5, "actor": "apply_mask", "attempts": 1})
    assert message["type"] == "task_update" and message["status"] == "processing"
    assert message["message"] == "Processing frame 450/1000"
    assert (message["progress"], message["eta_seconds"]) == (45.0, 12.5)
    assert message["data"]["actor"] == "apply_mask"


def test_success_is_task_complete_with_the_result():
    assert message_for({"task_id": "t", "state": "SUCCESS", "status": "Complete", "result": {"n": 1}}) == {
        "type": "task_complete", "task_id": "t", "status": "completed", "message": "Complete", "result": {"n": 1}}


def test_failure_and_cancel_are_task_errors():
    failed = message_for({"task_id": "t", "state": "FAILURE", "error": "Bad region"})
    cancelled = message_for({"task_id": "t", "state": "CANCELLED", "error": None})
    assert failed["type"] == cancelled["type"] == "task_error"
    assert failed["error"] == "Bad region" and failed["status"] == "failed"
    assert cancelled["status"] == "cancelled" and "cancelled" in cancelled["error"]
