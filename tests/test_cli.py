"""The command line as outside checks call it: exit codes, one JSON object, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import PhotoSearch



def test_help_lists_every_contract_command(photo_search: PhotoSearch) -> None:
    done = photo_search("--help")
    assert done.returncode == 0
    for command in ("index", "search", "dupes", "report", "eval", "gallery"):
        assert command in done.stdout


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("photo-search")
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("photo-search ")


def test_report_json_shape(practice_library: Path, photo_search: PhotoSearch) -> None:
    done = photo_search("report", str(practice_library), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)  # exactly one JSON object, nothing else on stdout
    assert set(result) >= {"files", "loaded", "skipped", "by_reason", "by_format"}
    assert result["files"] == result["loaded"] + len(result["skipped"])
    assert result["by_reason"] == {"truncated": 1, "empty file": 1, "not an image": 1}
    assert all("/" in item["path"] and "\\" not in item["path"] for item in result["skipped"])
    assert sum(result["by_format"].values()) == result["loaded"]


def test_report_human_output(practice_library: Path, photo_search: PhotoSearch) -> None:
    done = photo_search("report", str(practice_library))
    assert done.returncode == 0
    assert "skipped unsorted/shopping_list.jpg: not an image" in done.stdout


@pytest.mark.parametrize("args", [
    ("report", "/definitely/not/here"),
    ("report", "/definitely/not/here", "--json"),
    ("report",),
    ("report", ".", "--max-megapixels", "lots"),
    ("frobnicate",),
])
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], photo_search: PhotoSearch) -> None:
    done = photo_search(*args)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr
    if "--json" in args:
        assert "error" in json.loads(done.stdout)


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory: pytest.TempPathFactory, practice_library: Path,
              photo_search: PhotoSearch, practice_loads: int) -> Path:
    index_dir = tmp_path_factory.mktemp("cli") / "index"
    done = photo_search("index", str(practice_library), "--index", str(index_dir), "--model", "efficientnet-lite0",
                        "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) >= {"indexed", "added", "updated", "removed", "moved", "skipped", "seconds",
                           "images_per_second"}
    assert (result["indexed"], result["added"]) == (practice_loads, practice_loads)
    assert {item["reason"] for item in result["skipped"]} == {"truncated", "empty file", "not an image"}
    return index_dir


def test_search_json_shape(cli_index: Path, practice_library: Path, photo_search: PhotoSearch) -> None:
    photo = practice_library / "2024/Camera Roll/IMG_5049.jpg"
    query = ("search", "--index", str(cli_index), "--image", str(photo), "-k", "3", "--json")
    done = photo_search(*query, "--no-collapse")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {"results", "min_score", "note", "took_ms"} and len(result["results"]) == 3
    for item in result["results"]:
        assert set(item) == {"path", "score", "date", "folder", "place", "also"}  # the contract, DESIGN.md
        assert item["also"] == [] and item["place"] is None
    first = result["results"][0]  # its own black-and-white copy, dated as the original was
    assert first["path"] == "2024/Camera Roll/edited/IMG_5049 black and white.jpg"
    assert first["folder"] == "2024/Camera Roll/edited" and first["date"].startswith("2024-03-23")
    folded = json.loads(photo_search(*query).stdout)["results"]  # the default: one slot per photo
    listed = [{item["path"], *(a["path"] for a in item["also"])} for item in folded]
    assert set().union(*listed) >= {r["path"] for r in result["results"]} and len(folded) < 3
    assert all(a["kind"] == "near" for item in folded for a in item["also"])


def test_search_filters_and_text_on_the_command_line(cli_index: Path, photo_search: PhotoSearch) -> None:
    done = photo_search("search", "--index", str(cli_index), "--text", "pizza", "-k", "3", "--folder", "2023",
                        "--since", "2023-06-01", "--json")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)["results"]
    assert len(results) == 3 and all(r["folder"] == "2023/2023-11 at home" for r in results)
    assert all(r["date"] >= "2023-06-01" for r in results)


def test_report_from_an_index(cli_index: Path, photo_search: PhotoSearch, practice_loads: int) -> None:
    done = photo_search("report", "--index", str(cli_index), "--json")
    result = json.loads(done.stdout)
    assert (result["files"], result["loaded"]) == (practice_loads + 3, practice_loads)
    assert result["by_reason"] == {"truncated": 1, "empty file": 1, "not an image": 1}


@pytest.mark.parametrize("args", [
    ("search", "--index", "/no/such/index", "--text", "cat"),
    ("search", "--index", "{index}", "--image", "/no/such/photo.jpg"),
    ("search", "--index", "{index}", "--text", "cat", "--since", "last tuesday"),
    ("search", "--index", "{index}", "--text", "cat", "--image", "x.jpg"),
    ("index", "/no/such/folder", "--index", "{index}"),
    ("index", "{photos}", "--index", "{index}", "--model", "no-such-model"),
])
def test_search_and_index_bad_input(args: tuple[str, ...], cli_index: Path, practice_library: Path,
                                    photo_search: PhotoSearch) -> None:
    done = photo_search(*(a.format(index=cli_index, photos=practice_library) for a in args))
    assert done.returncode == 2, done.stdout
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_the_cli_reads_the_duplicate_settings_without_loading_opencv() -> None:
    code = ("import sys, helpers.cli, helpers.search; from helpers.duplicates.settings import DEFAULT_THRESHOLD; "
            "assert 'cv2' not in sys.modules; print(DEFAULT_THRESHOLD)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    help_text = subprocess.run([sys.executable, "-m", "helpers", "dupes", "--help"], capture_output=True, text=True,
                               check=True).stdout
    assert f"else {done.stdout.strip()})" in " ".join(help_text.split())
