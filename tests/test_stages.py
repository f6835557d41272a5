"""The stages after embedding: each finishes in every run, resumes after a kill, re-runs when its
version changes, reports its time; a one-off `dupes --threshold` never rewrites what is stored;
the index keeps its model whatever $PHOTO_SEARCH_MODEL says; faults are one line and lose nothing."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from helpers.course import practice
from helpers.duplicates.calibrate import library_pairs
from helpers.duplicates.finder import find_duplicates
from helpers.duplicates.settings import DEFAULT_THRESHOLD
from helpers.duplicates.store import STAGE as COPIES
from helpers.duplicates.store import CopyStore
from helpers.errors import BadInput
from helpers.index import DB_NAME, PhotoIndex
from helpers.indexer import update_index
from helpers.models import load_model
from helpers.stages.places import PlacesStage
from helpers.stages.runner import STAGES, StageContext, run_stages

if TYPE_CHECKING:
    from conftest import PhotoSearch


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, practice_library: Path) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("stages")
    shutil.copytree(practice_library, root / "photos")
    update_index(root / "photos", root / "index", embedder=load_model("efficientnet-lite0"))
    return root / "photos", root / "index"


def _copy(indexed: tuple[Path, Path], tmp_path: Path) -> Path:
    shutil.copytree(indexed[1], tmp_path / "index")
    return tmp_path / "index"


def test_every_stage_reports_its_time_and_finishes(indexed: tuple[Path, Path], photo_search: PhotoSearch,
                                                   tmp_path: Path) -> None:
    index_dir = _copy(indexed, tmp_path)
    with PhotoIndex.open(index_dir) as index:
        assert all(not index.pending(stage.name, stage.version) for stage in STAGES
                   if stage.name not in ("cutoff", "faces"))
        assert len(index.pending("faces", 1)) == index.count()  # opt-in: without --faces no photo is looked at
        assert CopyStore(index).groups_generation() == index.config().generation  # no budget cut it short
    done = photo_search("index", str(indexed[0]), "--index", str(index_dir), "--json")
    stages = json.loads(done.stdout)["stages"]
    assert {"hash", "decode", "model", "places", "copies", "cutoff"} <= set(stages), stages


def test_an_index_of_vectors_alone_runs_no_stage_and_a_later_run_catches_up(practice_library: Path,
                                                                            tmp_path: Path) -> None:
    """What a model comparison builds: vectors only; the stages find their photos pending later."""
    model = load_model("efficientnet-lite0")
    vectors_only = update_index(practice_library, tmp_path / "index", embedder=model, stages=())
    assert vectors_only.added and not {stage.name for stage in STAGES} & set(vectors_only.stages.seconds)
    with PhotoIndex.open(tmp_path / "index") as index:
        assert len(index.pending("places", PlacesStage.version)) == index.count()
        assert library_pairs(index, {}) == []  # no copies stage yet: no pairs, and no error
    later = update_index(practice_library, tmp_path / "index", embedder=model, stages=("places",))
    assert later.added == 0 and set(later.stages.seconds) >= {"places"} and "words" not in later.stages.seconds
    with pytest.raises(BadInput, match="no stage called wordz; the stages are cutoff, places"):
        update_index(practice_library, tmp_path / "index", embedder=model, stages=("wordz",))


def test_a_new_stage_version_runs_again_over_every_photo(indexed: tuple[Path, Path], tmp_path: Path) -> None:
    index_dir = _copy(indexed, tmp_path)

    class PlacesV2(PlacesStage):
        version = 2

    with PhotoIndex.open(index_dir) as index:
        count = index.count()
        assert len(index.pending("places", 2)) == count
        run_stages(index, StageContext(lambda: load_model("efficientnet-lite0")), [PlacesV2()])
        assert not index.pending("places", 2) and index.processed("places", 2) == count


def test_the_copy_stage_resumes_after_kill_9(indexed: tuple[Path, Path], tmp_path: Path) -> None:
    """Killed while verifying, the next run verifies only what was left, and the groups come out whole."""
    index_dir = _copy(indexed, tmp_path)
    with PhotoIndex.open(index_dir) as index:
        store = CopyStore(index)
        expected, never = sorted(store.groups()), store.unverified()  # pairs inside a group need no check
        with index.transaction() as db:  # as if the stage had never verified anything
            db.execute("UPDATE copy_pairs SET verdict = NULL")
            db.execute("DELETE FROM copy_groups")
        unverified = store.unverified()
    code = ("import sys; from helpers.duplicates import finder; finder.SAVE_EVERY = 8; "
            "from helpers.index import PhotoIndex; finder.find_duplicates(PhotoIndex.open(sys.argv[1]))")
    run = subprocess.Popen([sys.executable, "-c", code, str(index_dir)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _unverified(index_dir) > unverified - 40 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert run.poll() is None, "the stage ended before it could be killed"
    run.send_signal(signal.SIGKILL)
    run.wait()
    left = _unverified(index_dir)
    assert never < left < unverified
    with PhotoIndex.open(index_dir) as index:
        find_duplicates(index)
        assert CopyStore(index).unverified() == never and sorted(CopyStore(index).groups()) == expected


def _unverified(index_dir: Path) -> int:
    import sqlite3

    with sqlite3.connect(index_dir / DB_NAME, timeout=10) as db:
        return db.execute("SELECT count(*) FROM copy_pairs WHERE verdict IS NULL").fetchone()[0]


def test_a_one_off_threshold_is_a_look_only(indexed: tuple[Path, Path], tmp_path: Path) -> None:
    index_dir = _copy(indexed, tmp_path)
    with PhotoIndex.open(index_dir) as index:
        store = CopyStore(index)
        pairs, groups, state = sorted(store.pairs()), sorted(store.groups()), index.stage_state(COPIES)
        strict = find_duplicates(index, 0.9)
        loose = find_duplicates(index, 0.5)
        assert sorted(store.pairs()) == pairs and sorted(store.groups()) == groups
        assert index.stage_state(COPIES) == state
        again = find_duplicates(index)  # the library's own threshold: every verdict read back
        assert sorted(store.pairs()) == pairs and sorted(store.groups()) == groups
    assert (strict.threshold, loose.threshold) == (0.9, 0.5)
    assert all(m.score >= 0.9 for g in strict.groups for m in g.members if m.kind == "near")
    members = [{m.path for g in report.groups for m in g.members} | {g.keep for g in report.groups}
               for report in (strict, again, loose)]
    assert members[0] <= members[1] <= members[2], members


def test_the_index_keeps_its_model_whatever_the_environment_says(indexed: tuple[Path, Path], tmp_path: Path,
                                                                 photo_search: PhotoSearch) -> None:
    index_dir = _copy(indexed, tmp_path)
    env = {**os.environ, "PHOTO_SEARCH_MODEL": "tiny-clip"}
    done = subprocess.run([sys.executable, "-m", "helpers", "index", str(indexed[0]), "--index", str(index_dir),
                           "--json"], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["model"] == "efficientnet-lite0"
    refused = photo_search("index", str(indexed[0]), "--index", str(index_dir), "--model", "tiny-clip")
    assert refused.returncode == 2 and "--reembed" in refused.stderr


def test_a_read_only_index_folder_is_one_line(indexed: tuple[Path, Path], tmp_path: Path) -> None:
    """An index that became read-only after it was made (a read-only mount; for others, modes):
    a run with something to add says so in one line, and the index stays as it was."""
    index_dir = _copy(indexed, tmp_path)
    new = indexed[0] / "Downloads" / "new.jpg"
    new.write_bytes((indexed[0] / "2024/Camera Roll/IMG_5021.jpg").read_bytes()[:-10] + b"\xff\xd9")
    with _read_only(index_dir) as folder:
        done = subprocess.run([sys.executable, "-m", "helpers", "index", str(indexed[0]), "--index", str(folder)],
                              capture_output=True, text=True, check=False)
    new.unlink()
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr[-2000:]
    assert "read-only" in done.stderr or "cannot write" in done.stderr, done.stderr


@contextlib.contextmanager
def _read_only(index_dir: Path) -> Iterator[Path]:
    if os.geteuid() != 0:  # modes bind everyone but root
        try:
            for path in [index_dir, *index_dir.iterdir()]:
                path.chmod(0o555 if path.is_dir() else 0o444)
            yield index_dir
        finally:
            for path in [index_dir, *index_dir.iterdir()]:
                path.chmod(0o755 if path.is_dir() else 0o644)
        return
    mount = index_dir.parent / "read-only"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(mount)], check=False).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        shutil.copytree(index_dir, mount / "index")
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        yield mount / "index"
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk_is_one_line_and_the_next_run_resumes(practice_library: Path, tmp_path: Path) -> None:
    """The index on a 3 MB disk: the run stops with one line, what it committed stays, and after
    space is freed (here: a bigger disk) the next run adds exactly the rest."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small tmpfs")
    disk = tmp_path / "small-disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)], check=False).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        done = subprocess.run([sys.executable, "-m", "helpers", "index", str(practice_library), "--index",
                               str(disk / "index"), "--model", "efficientnet-lite0"],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 2, done.stderr[-2000:]
        assert len(done.stderr.strip().splitlines()) == 1 and "full" in done.stderr, done.stderr[-2000:]
        shutil.copytree(disk / "index", tmp_path / "index")
    finally:
        subprocess.run(["umount", str(disk)], check=False)
    with PhotoIndex.open(tmp_path / "index") as index:
        committed = index.count()
    summary = update_index(practice_library, tmp_path / "index")
    assert 0 < committed < summary.indexed and summary.added == summary.indexed - committed


def test_a_photo_folder_that_goes_away_is_one_line_and_loses_nothing(practice_library: Path, tmp_path: Path) -> None:
    library = tmp_path / "photos"
    shutil.copytree(practice_library, library)
    run = subprocess.Popen([sys.executable, "-m", "helpers", "index", str(library), "--index", str(tmp_path / "index"),
                            "--model", "efficientnet-lite0", "--batch-size", "4"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while _indexed(tmp_path / "index") < 8 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    library.rename(tmp_path / "unplugged")
    _, errors = run.communicate(timeout=300)
    assert run.returncode == 2 and len(errors.strip().splitlines()) == 1 and "went away" in errors, errors[-2000:]
    (tmp_path / "unplugged").rename(library)
    with PhotoIndex.open(tmp_path / "index") as index:
        committed = index.count()
        assert not any(item.reason == "file vanished" for item in index.skipped())
    summary = update_index(library, tmp_path / "index")
    assert summary.added == summary.indexed - committed and summary.removed == 0


def _indexed(index_dir: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(index_dir / DB_NAME, timeout=10) as db:
            return db.execute("SELECT count(*) FROM photos WHERE status = 'indexed'").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_search_answers_while_indexing_runs_and_says_how_far_it_got(tmp_path: Path, photos: Path,
                                                                    photo_search: PhotoSearch) -> None:
    library = tmp_path / "photos"
    shutil.copytree(photos / "retrieval" / "caltech101", library)
    index_dir = tmp_path / "index"
    run = subprocess.Popen([sys.executable, "-m", "helpers", "index", str(library), "--index", str(index_dir),
                            "--model", "efficientnet-lite0", "--batch-size", "4"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while _indexed(index_dir) < 12 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    query = next(library.rglob("*.jpg"))
    during = photo_search("search", "--index", str(index_dir), "--image", str(query), "--min-score", "0", "--json")
    still_running = run.poll() is None
    run.wait(timeout=600)
    assert during.returncode == 0, during.stderr
    answer = json.loads(during.stdout)
    assert answer["results"]
    if still_running:  # on a very fast machine the run may have ended meanwhile
        assert "indexing is in progress" in answer["note"] and "process" in answer["note"], answer["note"]
    after = json.loads(photo_search("search", "--index", str(index_dir), "--image", str(query), "--json").stdout)
    assert "indexing is in progress" not in (after["note"] or "")


def test_library_pairs_label_the_stored_pairs_by_a_truth(indexed: tuple[Path, Path]) -> None:
    """Chapter 5's hardest negatives: the practice library's real look-alikes (re-takes a step
    apart) score below the default threshold, its real copies above it, at no new keypoint cost."""
    photos, index_dir = indexed
    copy_of = {item.path: item.copy_of or item.path for item in practice.manifest(photos) if item.kind != "burst"}
    with PhotoIndex.open(index_dir) as index:
        scored = library_pairs(index, copy_of)
    copies = [pair for pair in scored if pair.same]
    look_alikes = [pair for pair in scored if not pair.same]
    assert len(copies) >= 10 and len(look_alikes) >= 100 and not any("burst" in pair.photo for pair in scored)
    assert max(pair.score for pair in look_alikes) < DEFAULT_THRESHOLD
    assert sum(pair.score >= DEFAULT_THRESHOLD for pair in copies) >= 0.9 * len(copies)
