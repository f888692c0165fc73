"""The videos page in a real browser: upload, draw a mask, run it, watch it, play the result; cancel."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.browser.conftest import screenshot
from tests.motion.videogen import make_video

RECORD_PROGRESS = """() => {
  window.__progress = [];
  new MutationObserver(() => {
    for (const bar of document.querySelectorAll('#jobs .bar[aria-valuenow]')) {
      const v = Number(bar.getAttribute('aria-valuenow'));
      if (window.__progress[window.__progress.length - 1] !== v) window.__progress.push(v);
    }
  }).observe(document.getElementById('jobs'), {subtree: true, childList: true, attributes: true});
}"""


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_video(tmp_path_factory.mktemp("pages") / "clip.mp4", frames=300, width=320, height=240)


def upload_from_page(page, path: Path) -> int:
    page.goto("/videos")
    page.set_input_files("input[type=file]", str(path))
    page.click("#upload-form button[type=submit]")
    page.wait_for_function("document.getElementById('upload-status').textContent.startsWith('Uploaded #')")
    page.locator("#editor").wait_for()
    page.wait_for_function("document.getElementById('frame').dataset.drawn === '0'")
    return int(page.locator("#upload-status").inner_text().split("#")[1].split(":")[0])


def drag(page, selector: str, frac_from: tuple, frac_to: tuple) -> None:
    box = page.locator(selector).bounding_box()
    page.mouse.move(box["x"] + box["width"] * frac_from[0], box["y"] + box["height"] * frac_from[1])
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * frac_to[0], box["y"] + box["height"] * frac_to[1], steps=5)
    page.mouse.up()


def test_mask_drawn_on_the_first_frame_runs_to_100_percent_and_the_result_plays(page, web, clip):
    video_id = upload_from_page(page, clip)
    # The first frame really is drawn on the canvas (grabbed from a <video> in the browser).
    lit = page.evaluate("""() => { const c = document.getElementById('frame');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i] + d[i+1] + d[i+2]; return s / (d.length / 4); }""")
    assert lit > 50
    drag(page, "#frame", (0.25, 0.25), (0.5, 0.5))
    assert page.locator("#regions li").count() == 1
    region = page.locator("#regions li span").inner_text()
    assert region.startswith("rect 80,60 ")  # source pixels, not screen pixels
    page.click("[data-tool=polygon]")
    for x, y in ((0.7, 0.1), (0.9, 0.1), (0.8, 0.3)):
        box = page.locator("#frame").bounding_box()
        page.mouse.click(box["x"] + box["width"] * x, box["y"] + box["height"] * y)
    page.click("#close-polygon")
    assert page.locator("#regions li").nth(1).inner_text().startswith("polygon of 3 points")
    page.check("#faces")
    page.select_option("#mask-mode", "fill")
    page.evaluate(RECORD_PROGRESS)
    screenshot(page, "videos-editor")
    page.click("#apply-mask")

    page.wait_for_function("document.querySelector('#jobs article.task')?.dataset.state === 'SUCCESS'", timeout=90_000)
    seen = page.evaluate("window.__progress")
    assert seen[-1] == 100 and any(0 < v < 100 for v in seen), seen
    task_id = page.locator("#jobs article.task").get_attribute("data-task-id")
    state = requests.get(f"{web}/api/task-status/{task_id}/").json()
    assert state["state"] == "SUCCESS" and state["arguments"]["faces"] is True
    assert [r["shape"] for r in state["arguments"]["regions"]] == ["rect", "polygon"]
    result_id = state["result"]["output_video_id"]

    page.locator("#compare-panel").wait_for()
    assert page.locator("#compare-result").get_attribute("src") == f"/api/videos/{result_id}/file"
    assert page.locator("#compare-original").get_attribute("src") == f"/api/videos/{video_id}/file"
    page.click("#play-both")
    page.wait_for_function("""() => { const v = document.getElementById('compare-result');
        return !v.error && !v.paused && v.currentTime > 0.3 && v.videoWidth === 320; }""")
    assert page.evaluate("document.getElementById('compare-original').currentTime") > 0.3
    page.evaluate("document.getElementById('compare-panel').scrollIntoView()")
    screenshot(page, "videos-compare")


def test_cancel_from_the_videos_page_stops_the_job(page, web, tmp_path):
    big = make_video(tmp_path / "big.mp4", frames=900, width=640, height=480)
    upload_from_page(page, big)
    page.locator("#scrubber").fill("100")
    page.wait_for_function("document.getElementById('frame-label').textContent.startsWith('100 /')")
    page.click("#mark-start")
    page.locator("#scrubber").fill("199")
    page.wait_for_function("document.getElementById('frame-label').textContent.startsWith('199 /')")
    page.click("#mark-end")
    assert page.locator("#ranges li span").inner_text() == "frames 100–199"

    drag(page, "#frame", (0.05, 0.05), (0.6, 0.6))
    page.select_option("#mask-mode", "blur")
    page.click("#apply-mask")
    job = page.locator("#jobs article.task").first
    page.wait_for_function("document.querySelector('#jobs article.task')?.dataset.state === 'PROGRESS'")
    job.locator("button.cancel").click()
    page.wait_for_function("document.querySelector('#jobs article.task').dataset.state === 'CANCELLED'")
    task_id = job.get_attribute("data-task-id")
    assert requests.get(f"{web}/api/task-status/{task_id}/").json()["state"] == "CANCELLED"
    assert page.locator("#compare-panel").is_hidden()
