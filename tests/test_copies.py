"""One slot per photo: copy groups kept current by `index` as photos come, change, move and go,
read by search (its `also`) and by `dupes` alike, and shown in the app as a badge."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from helpers.duplicates.finder import find_duplicates, folding
from helpers.duplicates.store import CopyStore
from helpers.index import PhotoIndex
from helpers.indexer import update_index
from helpers.models import load_model
from helpers.search import Library, Term

BIKE = "2024/Camera Roll/IMG_5021.jpg"  # a photo shared and edited three times
COPIES = {"Downloads/IMG_5021.webp", "2024/Camera Roll/edited/IMG_5021 rotated.jpg",
          "From WhatsApp/IMG-20240315-WA0001.jpg"}


@pytest.fixture
def library(tmp_path: Path, practice_library: Path) -> Path:
    copy = tmp_path / "photos"
    shutil.copytree(practice_library, copy)
    return copy


def _fold_of(index_dir: Path, query: Path) -> set[str]:
    """The photos the best result for `query` stands for: itself and its `also`."""
    with PhotoIndex.open(index_dir) as index:
        first = Library(index).search(Term("path", str(query)), k=3, min_score=0).results[0]
    return {first.photo.path} | {item["path"] for item in first.also}


def test_copies_fold_right_after_index_and_follow_add_move_and_remove(library: Path, tmp_path: Path) -> None:
    index_dir, embedder = tmp_path / "index", load_model("efficientnet-lite0")
    outside = tmp_path / "query.jpg"  # a query from outside (other bytes): the library's photo is not left out
    with Image.open(library / BIKE) as image:
        image.save(outside, quality=80)
    update_index(library, index_dir, embedder=embedder)
    assert _fold_of(index_dir, outside) == {BIKE, *COPIES}

    with Image.open(library / BIKE) as image:  # added: a new shared copy joins the group
        image.resize((image.width // 3, image.height // 3)).save(library / "Downloads/bike small.jpg", quality=60)
    with PhotoIndex.open(index_dir) as index:
        pairs_before = len(CopyStore(index).pairs())
    summary = update_index(library, index_dir, embedder=embedder)
    assert summary.added == 1
    with PhotoIndex.open(index_dir) as index:
        assert not CopyStore(index).unsigned() and len(CopyStore(index).pairs()) > pairs_before
    assert _fold_of(index_dir, outside) == {BIKE, *COPIES, "Downloads/bike small.jpg"}

    (library / "moved").mkdir()  # moved: the group follows the file
    (library / "Downloads/IMG_5021.webp").rename(library / "moved/bike.webp")
    assert update_index(library, index_dir, embedder=embedder).moved == 1
    assert "moved/bike.webp" in _fold_of(index_dir, outside)

    (library / "From WhatsApp/IMG-20240315-WA0001.jpg").unlink()  # removed: gone from the group
    (library / "Downloads/bike small.jpg").unlink()
    assert update_index(library, index_dir, embedder=embedder).removed == 2
    assert _fold_of(index_dir, outside) == {BIKE, "moved/bike.webp", "2024/Camera Roll/edited/IMG_5021 rotated.jpg"}


def test_dupes_reads_the_groups_index_keeps(library: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    update_index(library, index_dir, embedder=load_model("efficientnet-lite0"))
    with PhotoIndex.open(index_dir) as index:
        stored = sorted(CopyStore(index).groups())
        verdicts = sum(verdict is not None for *_, verdict in CopyStore(index).pairs())
        report = find_duplicates(index)  # nothing changed: every verdict is read back, none is made
        assert sum(verdict is not None for *_, verdict in CopyStore(index).pairs()) == verdicts
        assert sorted(folding(report, {row.path: row.id for row in index.photo_rows()})) == stored
        assert sorted(CopyStore(index).groups()) == stored
    assert any(g.keep == BIKE and {m.path for m in g.members} == COPIES for g in report.groups)


def test_no_collapse_lists_every_copy(library: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    update_index(library, index_dir, embedder=load_model("efficientnet-lite0"))
    with PhotoIndex.open(index_dir) as index:
        outcome = Library(index).search(Term("path", str(library / BIKE)), k=3, min_score=0, collapse=False)
    assert {r.photo.path for r in outcome.results} == COPIES and all(not r.also for r in outcome.results)


def test_the_app_shows_a_badge_that_opens_the_copies(library: Path, tmp_path: Path) -> None:
    from helpers.app import SearchApp

    index_dir = tmp_path / "index"
    update_index(library, index_dir, embedder=load_model("efficientnet-lite0"))
    app = SearchApp(index_dir, library)
    app.close_only.value = False
    outcome = app._search([Term("path", str(library / "2024/Camera Roll/IMG_5042.jpg"))], "query")
    assert outcome is not None
    badges = [(number, child) for number, card in enumerate(app.grid.children) for child in card.children
              if "photo-search-also" in child._dom_classes]
    # The query photo is left out; its burst, shot seconds later, is one card.
    number, badge = next((n, b) for n, b in badges if b.description == "+3 similar")
    assert "burst/" in app.results[number].photo.path
    badge.click()
    assert app.widget.children[-1] is app.also_view and len(app.also_grid.children) == 4
    app.also_back.click()
    assert app.widget.children[-1] is app.result_area
