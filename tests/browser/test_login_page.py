"""Logging in from a real browser against a server with authentication on (``secure_web``)."""
from __future__ import annotations

import pytest

from actors.submit import submit
from tests.browser.conftest import open_page, screenshot
from tests.support import actors as test_actors


@pytest.fixture
def secure_page(browser, secure_web):
    """A phone-width page on the server with authentication on."""
    yield from open_page(browser, secure_web, 390, 844)


def test_a_page_sends_people_to_log_in_and_back_then_shows_only_their_live_tasks(secure_page, make_user):
    page = secure_page
    user, _ = make_user("browser-coach")
    other, _ = make_user("browser-other")
    mine = submit(test_actors.count_to, 40, 0.1, owner=user.id)["task_id"]
    theirs = submit(test_actors.count_to, 5, 0.05, owner=other.id)["task_id"]

    page.goto("/tasks?state=")
    assert page.url.split("?")[0].endswith("/login")
    page.fill("[name=name]", "browser-coach")
    page.fill("[name=password]", "wrong password!")
    page.click("#login-form button[type=submit]")
    page.wait_for_function("document.getElementById('login-status').textContent.includes('Wrong name or password')")
    screenshot(page, "login")
    page.fill("[name=password]", "browser-coach-password-1")
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/tasks?state=")
    assert "browser-coach" in page.locator(".who").inner_text()

    # The cookie carries the page's socket too: the task is followed live to its end.
    task = page.locator(f'article.task[data-task-id="{mine}"]')
    page.wait_for_function(f"document.querySelector(`article[data-task-id='{mine}']`)?.dataset.state === 'SUCCESS'",
                           timeout=30_000)
    assert task.locator(".bar").get_attribute("aria-valuenow") == "100"
    assert page.locator(f'article.task[data-task-id="{theirs}"]').count() == 0
    cookie = next(c for c in page.context.cookies() if c["name"] == "pq_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    page.click("#logout")
    page.wait_for_url("**/login")
    page.goto("/videos")
    assert page.url.split("?")[0].endswith("/login")
