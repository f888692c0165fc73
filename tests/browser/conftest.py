"""Real-browser fixtures: Playwright for Python driving Debian's ``chromium``.

``playwright install`` cannot download browsers here, so the tests drive the
system Chromium (``CHROMIUM`` or ``/usr/bin/chromium`` or ``chromium`` on
PATH). Without it every test here skips, saying how to get one. Set
``PQ_SCREENSHOTS=docs/screenshots`` to save each page's screenshot there.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
INSTALL_HINT = ("no Chromium found: install Debian's package (`sudo apt-get install -y chromium`) "
                "or set CHROMIUM to a Chromium binary")


def chromium_path() -> str | None:
    """The Chromium binary to drive, if there is one."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    reason = None
    if not chromium_path():
        reason = INSTALL_HINT
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            reason = "Playwright for Python is missing: pip install -r requirements-dev.txt"
    for item in items:
        if Path(item.fspath).parent == here:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def playwright_driver():
    """A running Playwright driver."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


def launch(driver, *extra_flags: str):
    """Chromium with the project's flags (plus ``extra_flags``)."""
    return driver.chromium.launch(executable_path=chromium_path(), args=[*FLAGS, *extra_flags])


@pytest.fixture(scope="session")
def browser(playwright_driver):
    """One headless Chromium for the browser tests."""
    instance = launch(playwright_driver, "--autoplay-policy=no-user-gesture-required")
    yield instance
    instance.close()


def open_page(browser, base_url: str, width: int = 1280, height: int = 860):
    """A fresh page whose relative URLs go to ``base_url``; yields it, then fails on JavaScript errors."""
    context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height})
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(browser, web):
    """A fresh browser page on the shared test web server (authentication off)."""
    yield from open_page(browser, web)


def screenshot(page, name: str) -> None:
    """Save a screenshot of ``page`` as ``$PQ_SCREENSHOTS/<name>.png`` when that is set."""
    folder = os.environ.get("PQ_SCREENSHOTS")
    if not folder:
        return
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    png = page.screenshot()
    try:  # a 256-colour palette keeps the files small (Pillow comes with matplotlib)
        import io

        from PIL import Image

        Image.open(io.BytesIO(png)).convert("RGB").quantize(256).save(path, optimize=True)
    except ImportError:
        path.write_bytes(png)
