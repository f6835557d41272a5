"""Cleaning flags: likely-blurry, tiny and screenshot photos are noted (never skipped) by `report`,
from a folder or an index alike, and search can hide them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageFilter

from helpers.cleaning import BLURRY_BELOW, photo_flags, sharpness
from helpers.indexer import update_index
from helpers.models import load_model
from helpers.search import Filters, Library, Term

if TYPE_CHECKING:
    from conftest import PhotoSearch

STREET = "retrieval/scenes/opensfm_lund/05.jpg"


def test_flags_follow_their_rules() -> None:
    assert photo_flags(4000, 3000, "JPEG", "Apple iPhone", 900.0) == []
    assert photo_flags(4000, 3000, "JPEG", "Apple iPhone", BLURRY_BELOW - 1) == ["blurry"]
    assert photo_flags(200, 150, "JPEG", "", None) == ["tiny"]
    assert photo_flags(1170, 2532, "PNG", "", 500.0) == ["screenshot"]
    assert photo_flags(1170, 2532, "PNG", "Apple iPhone", 500.0) == []  # a camera wrote it: a photo


def test_a_blurred_copy_is_blurry_and_the_photo_is_not(photos: Path) -> None:
    photo = Image.open(photos / STREET).convert("RGB")
    assert sharpness(photo) > BLURRY_BELOW > sharpness(photo.filter(ImageFilter.GaussianBlur(8)))


def test_report_and_search_use_the_flags(tmp_path: Path, photos: Path, photo_search: PhotoSearch) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(photos / STREET, folder / "street.jpg")
    shutil.copy(photos / "retrieval/scenes/opensfm_lund/06.jpg", folder / "next.jpg")
    photo = Image.open(photos / STREET).convert("RGB")
    photo.filter(ImageFilter.GaussianBlur(8)).save(folder / "shaky.jpg", quality=90)
    photo.resize((160, 120)).save(folder / "preview.jpg")
    shutil.copy(photos / "messy/screenshots/topview.png", folder / "screen.png")
    expected = {"shaky.jpg": ["blurry"], "preview.jpg": ["tiny"], "screen.png": ["screenshot"]}

    from_folder = json.loads(photo_search("report", str(folder), "--json").stdout)
    assert {item["path"]: item["flags"] for item in from_folder["flagged"]} == expected
    assert from_folder["loaded"] == 5  # flags are notes: every file still loads and is indexed
    update_index(folder, tmp_path / "index", embedder=load_model("efficientnet-lite0"))
    from_index = json.loads(photo_search("report", "--index", str(tmp_path / "index"), "--json").stdout)
    assert {item["path"]: item["flags"] for item in from_index["flagged"]} == expected

    library = Library.open(tmp_path / "index")
    query = Term("path", str(photos / STREET))  # street.jpg itself is the query's exact copy: left out
    everything = {r.photo.path for r in library.search(query, k=4, min_score=0, collapse=False).results}
    hidden = {r.photo.path for r in library.search(query, k=4, min_score=0, collapse=False,
                                                   filters=Filters(hide_flagged=True)).results}
    assert everything == {"next.jpg", *expected} and hidden == {"next.jpg"}
