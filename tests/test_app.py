"""The app's panel in Python (the browser test drives the same panel in Chromium): picking a photo by
typing part of its name, plain labels, no stale results after a failed query, dates in words."""

from __future__ import annotations

from pathlib import Path

import ipywidgets as widgets
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


def test_tag_the_ticked_results_then_filter_by_the_tag(app: SearchApp) -> None:
    app.text.value = "pizza"
    cards = app.grid.children
    ticks = [child for child in cards[0].children + cards[1].children if getattr(child, "description", "") == "select"]
    for tick in ticks:
        tick.value = True
    app.tag_name.value = "lunch ideas"
    assert app.tag_selected() == 2 and "Tagged 2 photos" in app.status.value
    assert "lunch ideas" in app.tag.options
    tagged = {result.photo.path for result in app.results[:2]}
    app.text.value = ""  # no query: the tag alone lists its photos, newest first
    app.tag.value = "lunch ideas"
    assert {result.photo.path for result in app.results} == tagged
    assert all(result.tags == ("lunch ideas",) for result in app.results)
    app.tag.value = app.tag.options[0]


def test_the_words_a_result_matched_are_shown_on_its_card(app: SearchApp) -> None:
    app.text.value = "ardnamurchan point"  # no ImageNet label: the words inside photos answer
    assert app.results and all(result.words for result in app.results)
    assert any("<mark>" in getattr(child, "value", "") for child in app.grid.children[0].children
               if isinstance(child, widgets.HTML))
    assert "only the words inside photos" in app.status.value
    assert len(app.album.options) > 3  # every top-level folder is an album
