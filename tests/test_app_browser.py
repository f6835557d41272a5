"""The app in a real browser: Voila serves the panel, headless Chromium (Playwright) uses it."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.indexer import update_index
from helpers.models import load_model

CHROMIUM = Path(os.environ.get("PHOTO_SEARCH_CHROMIUM", "/usr/bin/chromium"))
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
HOSTILE_NAME = "<img src=x onerror=alert(1)>.jpg"  # a file name that is also HTML with script
LAUNCH_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"]

sync_playwright = pytest.importorskip("playwright.sync_api",
                                      reason="the playwright package is not installed").sync_playwright
if not CHROMIUM.exists():
    pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium (CI does) to run the browser test",
                allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory, practice_library: Path) -> Iterator[str]:
    photos = tmp_path_factory.mktemp("app") / "photos"
    shutil.copytree(practice_library, photos)
    shutil.copy(photos / "2024/Camera Roll/IMG_5021.jpg", photos / "Downloads" / HOSTILE_NAME)
    index = photos.parent / "index"
    update_index(photos, index, embedder=load_model("efficientnet-lite0"))
    port = _free_port()
    env = os.environ | {"PHOTOS": str(photos), "INDEX": str(index), "PHOTO_SEARCH_MODEL": "efficientnet-lite0"}
    # Run as `make app` does: from notebooks/, where voila.json binds 127.0.0.1 and locks files down.
    server = subprocess.Popen([sys.executable, "-m", "voila", "app.ipynb", f"--port={port}"],
                              cwd=NOTEBOOKS, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the Voila app did not start within a minute")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_upload_text_query_and_detail_view_in_a_browser(app_url: str, practice_library: Path) -> None:
    dialogs: list[str] = []
    left_the_machine: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        page = browser.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.on("requestfinished", lambda request: None if request.url.startswith(
            (app_url, app_url.replace("http", "ws"), "data:", "blob:")) else left_the_machine.append(request.url))
        page.goto(app_url, timeout=120_000)
        page.wait_for_selector(".widget-upload", timeout=180_000)
        for label in ("how many", "closeness"):  # plain words, not "K" and "min score"
            assert page.get_by_text(label, exact=True).count() == 1, label
        assert page.get_by_role("checkbox", name="only close matches").is_checked()  # the cutoff is the default
        # Every status line the page shows is recorded, so a brief "Searching..." is seen too.
        page.evaluate("""() => { window.seen = []; new MutationObserver(() => window.seen.push(
            document.body.innerText)).observe(document.body, {subtree: true, childList: true,
            characterData: true}); }""")

        with page.expect_file_chooser() as chooser:
            page.locator(".widget-upload").click()
        chooser.value.set_files(str(practice_library / "Downloads/IMG_5021.webp"))
        page.wait_for_selector(".photo-search-result", timeout=120_000)
        assert page.evaluate("window.seen.some(text => text.includes('Searching...'))"), "no sign of work"
        labels = page.locator(".photo-search-result").all_inner_texts()
        assert labels and all(re.match(r"\d\.\d{3}\s", label) for label in labels), labels
        # The photo's copies (the hostile name is one of them) share one card; its badge opens them.
        badge = page.locator(".photo-search-also").first
        assert re.fullmatch(r"\+\d+ copies", badge.inner_text().strip()), badge.inner_text()
        badge.click()
        page.wait_for_function(f"document.body.innerText.includes({HOSTILE_NAME!r})", timeout=30_000)  # as text ...
        assert page.locator("img[src='x']").count() == 0  # ... never turned into markup
        page.get_by_role("button", name="Back to results").first.click()
        page.wait_for_selector(".photo-search-result", timeout=30_000)

        page.get_by_placeholder("or describe it").fill("xylophone quartet at dusk")  # fails: no such label
        page.get_by_role("button", name="Search text").click()
        page.wait_for_function("document.body.innerText.includes('no ImageNet label')", timeout=60_000)
        assert page.locator(".photo-search-result").count() == 0, "results of the previous query stayed"

        page.get_by_placeholder("or describe it").fill("pizza")
        page.get_by_role("button", name="Search text").click()
        page.wait_for_function("document.body.innerText.includes('ImageNet labels: pizza')", timeout=60_000)
        page.wait_for_selector(".photo-search-result", timeout=30_000)

        page.locator(".photo-search-result").first.click()
        page.wait_for_selector("text=date taken", timeout=30_000)
        facts = page.locator("table", has_text="date taken").first
        assert re.search(r"(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day \d+ [A-Z][a-z]+ \d{4}", facts.inner_text())
        picture, table = page.locator(".widget-image").last.bounding_box(), facts.bounding_box()
        assert picture and table and table["x"] >= picture["x"] + picture["width"] - 1, "facts beside the photo"
        page.get_by_role("button", name="Back to results").click()
        page.wait_for_selector(".photo-search-result", timeout=30_000)

        page.get_by_placeholder("type part of its name").fill("dress")  # pick a library photo by name
        page.locator("select").first.select_option(index=1)
        page.wait_for_function("document.body.innerText.includes('results in')", timeout=60_000)
        assert page.locator(".photo-search-result").count() > 0
        browser.close()
    assert not dialogs, f"a script ran in the page: {dialogs}"
    assert not left_the_machine, f"the page loaded something from outside this machine: {left_the_machine}"


def test_the_app_serves_no_files(app_url: str) -> None:
    """Photos reach the page only as widget data for indexed photos; no file is served by path."""
    for path in ("voila/files/app.ipynb", "voila/files/voila.json", "files/app.ipynb"):
        try:
            status = urllib.request.urlopen(app_url + path, timeout=10).status
        except urllib.error.HTTPError as error:
            status = error.code
        assert status in (403, 404), (path, status)
