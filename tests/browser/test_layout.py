"""Every page fits a phone's width (no sideways scrolling) and loads without JavaScript errors."""
import pytest

from tests.browser.conftest import screenshot


@pytest.mark.parametrize("path", ["/tasks", "/videos", "/wall", "/workout"])
def test_page_fits_a_phone(page, path):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(path)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    if path == "/tasks":
        screenshot(page, "tasks-phone")
