"""Executed chapters are complete offline: a page opened with every request to another host blocked
still draws its interactive panels (as still pictures of their state), and asks nothing of other hosts."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers.course import run_chapters

PROJECT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("PHOTO_SEARCH_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def evaluation_page() -> Path:
    (page,) = run_chapters(PROJECT, ["07"])
    return page


def test_the_page_names_no_other_host(evaluation_page: Path) -> None:
    text = evaluation_page.read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="https?://', text) and not re.search(r'import\("https?://', text)
    assert "unpkg.com" not in text and "widget-view+json" not in text and "interactive in JupyterLab" in text


def test_the_embedding_cloud_is_drawn_offline(evaluation_page: Path) -> None:
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    asked: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})

        def local_only(route) -> None:
            url = route.request.url
            if url.startswith(("file:", "data:")):
                route.continue_()
            else:
                asked.append(url)
                route.abort()

        page.route("**/*", local_only)
        page.goto(evaluation_page.as_uri())
        heading = page.get_by_text("Step 6: the embedding cloud")
        heading.scroll_into_view_if_needed()
        images = page.locator("img[src^='data:image/png']")
        sizes = images.evaluate_all("all => all.map(i => [i.naturalWidth, i.naturalHeight])")
        biggest = max(range(len(sizes)), key=lambda n: sizes[n][0] * sizes[n][1])
        cloud = images.nth(biggest)
        cloud.scroll_into_view_if_needed()
        shot = np.asarray(Image.open(io.BytesIO(cloud.screenshot())).convert("L"))
        browser.close()
    assert not asked, f"the page asked other hosts for: {asked}"
    assert sizes[biggest][0] >= 300 and shot.size
    assert (shot < 200).mean() > 0.02, "the embedding cloud is blank"


def test_a_still_panel_shows_every_control_and_its_cards_side_by_side() -> None:
    """The saved page of the app chapter: buttons, the upload, empty date pickers and text boxes
    (with their hints), ticked boxes and a slider's own explanation, result cards in a row."""
    import ipywidgets as widgets
    from ipywidgets.embed import embed_data

    from helpers.course.pages import snapshot

    cards = widgets.GridBox([widgets.VBox([widgets.Button(description=f"0.9{n}  IMG_{n}.jpg")]) for n in range(3)])
    panel = widgets.VBox([widgets.FileUpload(description="Upload a photo"), widgets.DatePicker(description="since"),
                          widgets.Text(placeholder="a tag, e.g. receipts", description="Tag as"),
                          widgets.Dropdown(options=[("type to list photos", None)], description="Pick"),
                          widgets.Checkbox(value=True, description="only close matches"),
                          widgets.ToggleButtons(options=["group", "folder"], value="folder", description="colour by"),
                          widgets.FloatSlider(description="closeness", tooltip="0: the automatic cutoff"), cards])
    state = embed_data(views=[panel])["manager_state"]["state"]
    page = snapshot(panel.model_id, state)
    assert "<button disabled>Upload a photo</button>" in page and "<i>since:</i>" in page
    assert "a tag, e.g. receipts" in page and "type to list photos" in page and "None" not in page
    assert "&#9745; only close matches" in page and "(0: the automatic cutoff)" in page
    assert "<i>colour by:</i> folder" in page  # a choice by its label, not its position
    assert "flex-direction:row;flex-wrap:wrap" in page and page.count("IMG_") == 3
