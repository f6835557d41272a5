"""Places: GPS photos get a town, region and country at index time (offline), `search --place`
filters by any of them (case and accents ignored), and the index report counts photos by place."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from helpers.indexer import update_index
from helpers.places import Place, locate, normalise
from helpers.search import Filters, Library, Term

if TYPE_CHECKING:
    from conftest import PhotoSearch

# Where the GPS photos of ../shared/photos were taken, as GeoNames names the nearest town.
EXPECTED = {
    "arezzo/DSCN0010.jpg": ("Arezzo", "Tuscany", "Italy"),
    "arezzo/DSCN0042.jpg": ("Arezzo", "Tuscany", "Italy"),
    "colorado/thompson-springs.jpg": ("Palisade", "Colorado", "United States"),
    "lund/08.jpg": ("Lund", "Skåne", "Sweden"),
    "berlin/01.jpg": ("Mitte", "State of Berlin", "Germany"),
}
SOURCES = {
    "arezzo/DSCN0010.jpg": "messy/gps/DSCN0010.jpg",
    "arezzo/DSCN0042.jpg": "messy/gps/DSCN0042.jpg",
    "colorado/thompson-springs.jpg": "messy/gps/thompson-springs.jpg",
    "lund/08.jpg": "retrieval/scenes/opensfm_lund/08.jpg",
    "berlin/01.jpg": "retrieval/scenes/opensfm_berlin/01.jpg",
    "nowhere/no-gps.jpg": "messy/gps/empty_gps.jpg",
}


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, photos: Path) -> Path:
    root = tmp_path_factory.mktemp("places")
    for target, source in SOURCES.items():
        (root / "photos" / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(photos / source, root / "photos" / target)
    update_index(root / "photos", root / "index", model="baseline-pixels")
    return root


def _places(index_dir: Path) -> dict[str, Place | None]:
    found = Library.open(index_dir)
    return {row.path: found.places.get(row.id) for row in found.rows}


def test_gps_photos_get_the_expected_towns(library: Path) -> None:
    places = _places(library / "index")
    for path, (city, region, country) in EXPECTED.items():
        place = places[path]
        assert place is not None and (place.city, place.region, place.country) == (city, region, country), path
    assert places["nowhere/no-gps.jpg"] is None


def test_far_from_any_town_there_is_no_place_and_names_are_normalised() -> None:
    at_sea, lund = locate([(0.0, -30.0), (55.7047, 13.1910)])
    assert at_sea is None and isinstance(lund, Place) and str(lund) == "Lund, Skåne, Sweden"
    assert normalise("  SKÅNE  Län ") == "skane lan"


@pytest.mark.parametrize("name,expected", [
    ("Arezzo", {"arezzo/DSCN0010.jpg", "arezzo/DSCN0042.jpg"}),
    ("skane", {"lund/08.jpg"}),                              # accents and case ignored
    ("BERLIN", {"berlin/01.jpg"}),                           # a whole word of "State of Berlin"
    ("united states", {"colorado/thompson-springs.jpg"}),
    ("Ital", set()),                                         # part of a word is not a place
])
def test_search_by_place(library: Path, name: str, expected: set[str]) -> None:
    lib = Library.open(library / "index")
    mask = lib.allowed(Filters(place=name))
    assert mask is not None
    assert {row.path for row, allowed in zip(lib.rows, mask, strict=True) if allowed} == expected


def test_place_combined_with_date_and_folder(library: Path) -> None:
    lib = Library.open(library / "index")
    italy = lib.allowed(Filters(place="italy"))
    in_folder = lib.allowed(Filters(place="italy", folder="arezzo"))
    elsewhere = lib.allowed(Filters(place="italy", folder="lund"))
    dated = lib.allowed(Filters(place="italy", since=date(2100, 1, 1)))
    assert italy is not None and in_folder is not None and elsewhere is not None and dated is not None
    assert italy.sum() == in_folder.sum() == 2 and elsewhere.sum() == 0 and dated.sum() == 0


def test_the_cli_shows_places_and_counts_them(library: Path, photo_search: PhotoSearch) -> None:
    done = photo_search("search", "--index", str(library / "index"), "--image",
                        str(library / "photos" / "lund" / "08.jpg"), "--place", "Sweden", "--json")
    results = json.loads(done.stdout)["results"]
    assert done.returncode == 0 and all(row["place"] == "Lund, Skåne, Sweden" for row in results)
    report = json.loads(photo_search("report", "--index", str(library / "index"), "--json").stdout)
    assert report["by_country"] == {"Italy": 2, "Germany": 1, "Sweden": 1, "United States": 1}
    assert report["by_city"]["Arezzo"] == 2


def test_an_index_from_before_the_stages_gets_places_and_copies_on_the_next_run(tmp_path: Path,
                                                                               library: Path) -> None:
    """A version-3 index kept places and copies in the core tables; opened, they leave it, and the
    next run has the stages find them again (without embedding anything)."""
    import sqlite3

    from helpers.index import DB_NAME, PhotoIndex

    old = tmp_path / "old-index"
    shutil.copytree(library / "index", old)
    with sqlite3.connect(old / DB_NAME) as db:  # what a version-3 index holds
        db.execute("DROP TABLE words_fts")  # a virtual table takes its shadow tables with it
        later = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                              "name NOT IN ('config', 'photos', 'thumbnails')")]
        for table in later:  # every stage's tables, and their bookkeeping, came after version 3
            db.execute(f"DROP TABLE {table}")
        for column in ("city", "region", "country", "district"):
            db.execute(f"ALTER TABLE photos ADD COLUMN {column} TEXT")
        db.execute("ALTER TABLE photos ADD COLUMN signature BLOB")
        db.execute("CREATE TABLE copy_pairs (a INTEGER, b INTEGER, cosine REAL, verdict TEXT)")
        db.execute("INSERT INTO config (key, value) VALUES ('dupes', '{\"threshold\": 0.7}')")
        db.execute("PRAGMA user_version = 3")
    with PhotoIndex.open(old) as index:
        columns = {row[1] for row in index.db.execute("PRAGMA table_info(photos)")}
        assert not columns & {"city", "signature"} and index.stage_state("copies.calibration") == {"threshold": 0.7}
    assert update_index(library / "photos", old).embedded == 0
    places = _places(old)
    assert str(places["lund/08.jpg"]) == "Lund, Skåne, Sweden" and places["nowhere/no-gps.jpg"] is None


def test_the_gallery_shows_the_place(library: Path, tmp_path: Path, photo_search: PhotoSearch) -> None:
    page = tmp_path / "lund.html"
    done = photo_search("gallery", "--index", str(library / "index"), "--image",
                        str(library / "photos" / "arezzo" / "DSCN0010.jpg"), "--out", str(page), "-k", "6")
    assert done.returncode == 0, done.stderr
    assert '<span class="place">Arezzo, Tuscany, Italy</span>' in page.read_text()


def test_the_app_filters_by_place_and_shows_it(library: Path) -> None:
    from helpers.app import SearchApp

    app = SearchApp(library / "index", library / "photos")
    app.close_only.value = False
    app.place.value = "tuscany"
    outcome = app._search([Term("path", str(library / "photos" / "lund" / "08.jpg"))], "query")
    assert outcome is not None and {r.photo.path for r in outcome.results} == {"arezzo/DSCN0010.jpg",
                                                                            "arezzo/DSCN0042.jpg"}
    app.show_detail(0)
    assert "Arezzo, Tuscany, Italy" in app.detail_text.value
