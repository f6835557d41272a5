"""The command line never shows a traceback: every command with random options and hostile
values ends with exit 0, or exit 2 and one line saying why. Also the edge cases found by trying:
an index folder that cannot be created, a 100,000-character query, two runs on one index."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.cli import main
from helpers.errors import IndexBusy
from helpers.index import PhotoIndex
from helpers.indexer import update_index
from helpers.models import load_model

if TYPE_CHECKING:
    from conftest import PhotoSearch

LONG = "x" * 100_000
OPTIONS = {
    "index": ["--model", "--batch-size", "--workers", "--max-megapixels", "--engine", "--reembed"],
    "search": ["--text", "--image", "--query", "-k", "--folder", "--since", "--until", "--camera", "--min-score",
               "--diversity", "--no-rerank", "--engine"],
    "report": ["--index", "--max-megapixels", "--workers"],
    "eval": ["--index", "--groups", "--folders", "--captions", "-k", "--no-rerank", "--per-query"],
    "gallery": ["--text", "--image", "--out", "-k"],
    "dupes": ["--threshold", "--out", "--precision", "--sample"],
}
FLAGS = {"--reembed", "--folders", "--no-rerank", "--per-query"}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory, practice_library: Path) -> Iterator[dict[str, str]]:
    """A private copy of the practice library and an index of it, so fuzzing changes nothing shared;
    the working folder is the sandbox too, so a drawn relative --out lands there, not in the checkout."""
    root = tmp_path_factory.mktemp("fuzz")
    photos = root / "photos"
    shutil.copytree(practice_library, photos)
    index = root / "index"
    update_index(photos, index, embedder=load_model("efficientnet-lite0"))
    before = Path.cwd()
    os.chdir(root)
    yield {"photos": str(photos), "index": str(index), "root": str(root),
           "photo": str(next(photos.rglob("*.jpg"))), "groups": str(practice_library) + ".groups.csv"}
    os.chdir(before)


def _values(sandbox: dict[str, str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from([sandbox["photos"], sandbox["index"], sandbox["photo"], sandbox["groups"], LONG, "", "-1",
                         "0", "3", "1e309", "nan", "2024-02-30", "efficientnet-lite0", "baseline-pixels", "torch",
                         "onnx", "openclip:nope", f"{sandbox['root']}/out.html", f"{sandbox['root']}/new-index",
                         "/nonexistent/folder", "bad\x00name", "名前.jpg", "../../etc/passwd"]),
        st.text(max_size=30),
    )


def _run(argv: list[str]) -> tuple[int, str]:
    """main() in this process; the exit code (argparse's own exits included) and what it printed."""
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 2
    return code, err.getvalue()


# Derandomized: the same examples on every run, so CI never fails on a draw nobody can replay. To explore
# further, run it with PHOTO_SEARCH_FUZZ=random.
@settings(max_examples=200, deadline=None, derandomize=os.environ.get("PHOTO_SEARCH_FUZZ") != "random",
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_traceback_ever(sandbox: dict[str, str], data: st.DataObject) -> None:
    command = data.draw(st.sampled_from(sorted(OPTIONS)))
    argv = [command]
    if command == "index":
        argv += [data.draw(_values(sandbox)), "--index", data.draw(st.sampled_from(
            [sandbox["index"], f"{sandbox['root']}/other-index", LONG, "/proc/forbidden"]))]
    elif command in ("search", "eval", "gallery", "dupes"):
        argv += ["--index", data.draw(st.sampled_from([sandbox["index"], LONG, "/nonexistent", sandbox["photos"]]))]
    elif command == "report":
        argv += [data.draw(st.sampled_from([sandbox["photos"], LONG, sandbox["photo"]]))]
    for option in data.draw(st.lists(st.sampled_from(OPTIONS[command]), max_size=4, unique=True)):
        argv += [option] if option in FLAGS else [option, data.draw(_values(sandbox))]
    argv += data.draw(st.sampled_from([[], ["--json"]]))
    code, errors = _run(argv)
    assert code in (0, 2), (argv, errors[-500:])
    assert "Traceback" not in errors, (argv, errors[-2000:])
    if code == 2:
        message = [line for line in errors.splitlines() if line.startswith("photo-search")]
        assert message and len(message[-1]) < 600, errors[-600:]  # one readable line, input shortened


def test_a_100000_character_query_is_one_short_line(sandbox: dict[str, str]) -> None:
    for argv in (["search", "--index", sandbox["index"], "--image", LONG],
                 ["search", "--index", sandbox["index"], "--query", f"{LONG} + 'a'"],
                 ["index", LONG, "--index", f"{sandbox['root']}/never"]):
        code, errors = _run(argv)
        assert code == 2 and errors.count("\n") == 1 and len(errors) < 400, errors[:400]


def test_an_index_folder_that_cannot_be_created_is_one_line(tmp_path: Path, practice_library: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    command = [sys.executable, "-m", "helpers", "index", str(practice_library), "--index", str(locked / "index"),
               "--model", "baseline-pixels"]
    if os.geteuid() == 0:  # root writes anywhere; without these capabilities it obeys permissions like anyone
        if not shutil.which("setpriv"):
            pytest.skip("running as root and util-linux setpriv is missing")
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *command]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    finally:
        locked.chmod(0o755)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert f"cannot create the index folder {locked / 'index'}" in done.stderr
    assert "give --index a folder you can write to" in done.stderr


def test_a_second_run_waits_then_finds_nothing_left(tmp_path: Path, practice_library: Path,
                                                    photo_search: PhotoSearch) -> None:
    load_model("efficientnet-lite0")  # the one-time export, so both runs start alike
    index, folder = tmp_path / "index", tmp_path / "photos"
    folder.mkdir()
    for photo in sorted(practice_library.rglob("*.jpg"))[:30]:  # a run the second one can wait for (WRITER_WAIT)
        shutil.copy2(photo, folder / photo.name)
    runs: list[subprocess.CompletedProcess[str]] = []
    argv = ("index", str(folder), "--index", str(index), "--model", "efficientnet-lite0", "--json")
    threads = [threading.Thread(target=lambda: runs.append(photo_search(*argv))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [run.returncode for run in runs] == [0, 0], [run.stderr for run in runs]
    added = sorted(json.loads(run.stdout)["added"] for run in runs)
    assert added[0] == 0 and added[1] == json.loads(runs[0].stdout)["indexed"]  # every photo embedded once


def test_a_run_that_cannot_get_the_index_says_so(tmp_path: Path, practice_library: Path) -> None:
    index = tmp_path / "index"
    busy = f"another photo-search run \\(process {os.getpid()}: starting\\) is updating"
    with PhotoIndex.open(index, create=True) as held, held.writer(), pytest.raises(IndexBusy, match=busy), \
            PhotoIndex.open(index) as second, second.writer(wait=0.3):
        pass
    update_index(practice_library, index, model="baseline-pixels")  # released: the next run proceeds
