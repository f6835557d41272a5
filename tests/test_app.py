"""The app's panel in Python (the browser test drives the same panel in Chromium): picking a photo by
typing part of its name, plain labels, no stale results after a failed query, dates in words."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.app import PICK_LIMIT, SearchApp, date_in_words
from helpers.indexer import update_index
from helpers.models import load_model


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, practice_library: Path) -> SearchApp:
    index = tmp_path_factory.mktemp("app") / "index"
    update_index(practice_library, index, embedder=load_model("efficientnet-lite0"))
    return SearchApp(index, practice_library)


def test_pick_a_photo_by_typing_part_of_its_name(app: SearchApp) -> None:
    assert [value for _, value in app.pick.options] == [None]  # nothing listed until something is typed
    app.find.value = "DRESS"
    listed = [label for label, value in app.pick.options if value is not None]
    assert listed and len(listed) <= PICK_LIMIT and all("dress" in label.lower() for label in listed)
    app.pick.value = app.pick.options[1][1]
    assert app.results and "results in" in app.status.value


def test_a_failed_query_leaves_no_stale_results(app: SearchApp) -> None:
    app.text.value = "pizza"
    assert app.results and app.grid.children
    app.text.value = "xylophone quartet at dusk"  # no ImageNet label for it: an error, said in words
    assert not app.results and not app.grid.children and "no ImageNet label" in app.status.value


def test_plain_labels_and_dates_in_words(app: SearchApp) -> None:
    assert (app.k.description, app.min_score.description) == ("how many", "closeness")
    assert date_in_words("2019-07-14T10:00:00+01:00") == "Sunday 14 July 2019, 10:00"
    assert date_in_words(None) == "unknown"
    app.text.value = "pizza"
    app.show_detail(0)
    taken = app.results[0].photo.date_taken or ""
    assert date_in_words(taken) in app.detail_text.value and taken[:16] not in app.detail_text.value
    app.back.click()
