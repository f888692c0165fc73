"""The tasks dashboard in a real browser: live progress, filters, paging, cancel."""
from __future__ import annotations

from actors.submit import submit
from tests.browser.conftest import screenshot
from tests.support import actors as test_actors


def card(page, task_id: str):
    return page.locator(f'article.task[data-task-id="{task_id}"]')


def test_dashboard_follows_a_task_live_to_success(page):
    page.goto("/tasks")
    task_id = submit(test_actors.count_to, 60, 0.1)["task_id"]
    task = card(page, task_id)  # found by the page's poll of the first page, then followed live
    task.locator(".bar[aria-valuenow]").wait_for()
    page.wait_for_function(
        "id => { const b = document.querySelector(`article[data-task-id='${id}'] .bar`);"
        " const v = Number(b && b.getAttribute('aria-valuenow')); return v > 0 && v < 100; }", arg=task_id)
    assert task.locator(".status-text").inner_text().startswith("Counted ")
    screenshot(page, "tasks")
    page.wait_for_function(f"document.querySelector(`article[data-task-id='{task_id}']`).dataset.state === 'SUCCESS'")
    assert task.locator(".bar").get_attribute("aria-valuenow") == "100"
    assert task.locator(".cancel").is_hidden()
    assert task.locator(".duration").inner_text() not in ("", "–")


def test_cancel_from_the_dashboard_stops_the_task(page, web):
    import requests

    task_id = submit(test_actors.count_to, 400, 0.05)["task_id"]
    page.goto("/tasks")
    task = card(page, task_id)
    page.wait_for_function(f"document.querySelector(`article[data-task-id='{task_id}']`)?.dataset.state === 'PROGRESS'")
    task.locator("button.cancel").click()
    page.wait_for_function(f"document.querySelector(`article[data-task-id='{task_id}']`).dataset.state === 'CANCELLED'")
    assert "cancel" in task.locator(".task-error").inner_text().lower()
    assert requests.get(f"{web}/api/task-status/{task_id}/").json()["state"] == "CANCELLED"


def test_filters_and_history_pages_come_from_the_api(page, web):
    import requests

    from tests.support.processes import wait_for

    ids = [submit(test_actors.noop)["task_id"] for _ in range(11)]
    wait_for(lambda: all(requests.get(f"{web}/api/task-status/{i}/").json()["state"] == "SUCCESS" for i in ids),
             what="noop tasks")
    page.goto("/tasks")
    page.select_option("select[name=per_page]", "10")
    page.fill("input[name=actor]", "noop")
    page.select_option("select[name=state]", "SUCCESS")
    page.wait_for_function("document.querySelectorAll('article.task').length > 0 &&"
                           " [...document.querySelectorAll('article.task .actor')].every(a => a.textContent === 'noop')")
    assert card(page, ids[-1]).count() == 1  # newest first
    total = requests.get(f"{web}/api/tasks/", params={"actor": "noop", "state": "SUCCESS"}).json()["total"]
    assert page.locator("#summary").inner_text() == f"{total} tasks"
    assert total > 10
    first = page.locator("article.task").first.get_attribute("data-task-id")
    page.click("#next")
    page.wait_for_function(f"document.querySelector('article.task')?.dataset.taskId !== '{first}'")
    assert page.locator("#page-label").inner_text().startswith("page 2 of ")
    assert card(page, ids[0]).count() == 1
    page.fill("input[name=actor]", "no_such_actor")
    page.locator("text=No tasks match.").wait_for()
