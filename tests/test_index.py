"""The index: incremental updates, moves, model changes, and surviving kill -9."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers.errors import IndexUnusable, ModelMismatch
from helpers.index import DB_NAME, PhotoIndex
from helpers.indexer import update_index
from helpers.search import Library, Term


@pytest.fixture
def library(tmp_path: Path, practice_library: Path) -> Path:
    copy = tmp_path / "photos"
    shutil.copytree(practice_library, copy)
    return copy


def _index(library: Path, index: Path, **options):
    return update_index(library, index, model=options.pop("model", "tiny-clip"), **options)


def test_first_run_then_nothing_to_do(library: Path, tmp_path: Path, practice_loads: int) -> None:
    n = practice_loads
    first = _index(library, tmp_path / "index")
    assert (first.indexed, first.added, first.updated, first.removed, first.moved) == (n, n, 0, 0, 0)
    assert {item.reason for item in first.skipped} == {"truncated", "empty file", "not an image"}
    again = _index(library, tmp_path / "index")
    counts = (again.indexed, again.added, again.updated, again.removed, again.moved, again.embedded)
    assert counts == (n, 0, 0, 0, 0, 0)
    assert len(again.skipped) == 3  # still reported, not retried


def _vector(index: PhotoIndex, photo_id: int) -> np.ndarray:
    ids, vectors = index.load_vectors()
    return vectors[list(ids).index(photo_id)]


def test_add_change_touch_delete_move(library: Path, tmp_path: Path, messy: Path, practice_loads: int) -> None:
    index_dir = tmp_path / "index"
    _index(library, index_dir)
    with PhotoIndex.open(index_dir) as index:
        moved_id = index.find_by_path("2024/Camera Roll/IMG_5007.jpg").id
        moved_vector = _vector(index, moved_id)

    shutil.copy(messy / "gps/DSCN0010.jpg", library / "new.jpg")  # added
    with Image.open(library / "2020/2020-05 spring walk/silver fir.jpg") as image:  # changed content
        image.rotate(90).save(library / "2020/2020-05 spring walk/silver fir.jpg")
    os.utime(library / "2014/2014-06 Lund trip/IMG_3120.jpg", (1_700_000_000, 1_700_000_000))  # touched only
    (library / "Downloads/IMG_5021.webp").unlink()  # deleted
    (library / "renamed").mkdir()
    (library / "2024/Camera Roll/IMG_5007.jpg").rename(library / "renamed/family cake.jpg")  # moved

    summary = _index(library, index_dir)
    assert (summary.added, summary.updated, summary.removed, summary.moved) == (1, 1, 1, 1)
    assert summary.embedded == 2 and summary.indexed == practice_loads
    with PhotoIndex.open(index_dir) as index:
        row = index.find_by_path("renamed/family cake.jpg")
        assert row is not None and row.id == moved_id and row.folder == "renamed"
        assert np.array_equal(_vector(index, moved_id), moved_vector)  # kept, not re-embedded
        assert index.find_by_path("2024/Camera Roll/IMG_5007.jpg") is None


def test_a_repaired_file_is_picked_up(library: Path, tmp_path: Path, messy: Path, practice_loads: int) -> None:
    _index(library, tmp_path / "index")
    shutil.copy(messy / "gps/DSCN0012.jpg", library / "unsorted/IMG_0001_truncated.jpg")
    summary = _index(library, tmp_path / "index")
    assert summary.indexed == practice_loads + 1 and summary.updated == 1
    assert "unsorted/IMG_0001_truncated.jpg" not in {item.path for item in summary.skipped}


def test_another_model_is_refused_then_reembeds_on_request(library: Path, tmp_path: Path,
                                                          practice_loads: int) -> None:
    _index(library, tmp_path / "index")
    with pytest.raises(ModelMismatch, match="tiny-clip"):
        _index(library, tmp_path / "index", model="openclip:ViT-B-32:none")
    summary = _index(library, tmp_path / "index", model="efficientnet-lite0", reembed=True)
    assert summary.model == "efficientnet-lite0" and summary.added == practice_loads
    with PhotoIndex.open(tmp_path / "index") as index:
        _ids, vectors = index.load_vectors()
    assert vectors.shape == (practice_loads, 1280)  # every vector from the new model, none left from the old


def test_index_inside_the_photo_folder_is_refused(library: Path) -> None:
    from helpers.errors import BadInput

    with pytest.raises(BadInput, match="inside the photo folder"):
        _index(library, library / ".index")


def test_misaligned_vectors_are_refused_at_load(library: Path, tmp_path: Path) -> None:

    _index(library, tmp_path / "index")
    with sqlite3.connect(tmp_path / "index" / DB_NAME) as db:
        db.execute("UPDATE photos SET vector = zeroblob(10) "
                   "WHERE id = (SELECT min(id) FROM photos WHERE status = 'indexed')")
    with pytest.raises(IndexUnusable, match="wrong size"):
        Library.open(tmp_path / "index")


def _indexed_count(database: Path) -> int:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT count(*) FROM photos WHERE status = 'indexed'").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_kill_9_mid_run_then_resume(tmp_path: Path, photos: Path) -> None:
    source = photos / "retrieval" / "caltech101"
    library = tmp_path / "photos"
    shutil.copytree(source, library)
    total = sum(1 for path in library.rglob("*.jpg"))
    index_dir = tmp_path / "index"
    run = subprocess.Popen([sys.executable, "-m", "helpers", "index", str(library), "--index", str(index_dir),
                            "--model", "efficientnet-lite0", "--batch-size", "4", "--json"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while _indexed_count(index_dir / DB_NAME) < 12 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.poll() is None, "the run ended before it could be killed; make the library larger"
    run.send_signal(signal.SIGKILL)
    run.wait()
    done_before = _indexed_count(index_dir / DB_NAME)
    assert 0 < done_before < total

    resumed = update_index(library, index_dir)  # the model comes from the index
    assert resumed.added == total - done_before  # nothing finished was redone
    assert resumed.indexed == total
    with PhotoIndex.open(index_dir) as index:
        paths = [row.path for row in index.photo_rows()]
    assert len(paths) == len(set(paths)) == total  # every photo exactly once
    assert len(Library.open(index_dir)) == total


def test_odd_file_names_survive_index_and_search(tmp_path: Path, messy: Path) -> None:
    library = tmp_path / "photos"
    library.mkdir()
    odd = os.fsencode(library) + b"/caf\xe9 'quoted' \"name\".jpg"  # Latin-1 byte: not valid UTF-8
    shutil.copy(messy / "gps/DSCN0010.jpg", odd)
    shutil.copy(messy / "gps/DSCN0012.jpg", library / "normal.jpg")
    summary = _index(library, tmp_path / "index")
    assert summary.indexed == 2 and not summary.skipped
    outcome = Library.open(tmp_path / "index").search(Term("path", library / "normal.jpg"), k=1)
    assert outcome.results[0].photo.path == "caf\\xe9 'quoted' \"name\".jpg"  # printable, escaped
    again = _index(library, tmp_path / "index")  # the exact bytes are remembered: nothing to redo
    assert (again.added, again.removed, again.moved) == (0, 0, 0)
