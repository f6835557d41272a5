"""The command line as outside checks call it: exit codes, one JSON object, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def photo_search(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "helpers", *args], capture_output=True, text=True, timeout=300)


def test_help_lists_every_contract_command() -> None:
    done = photo_search("--help")
    assert done.returncode == 0
    for command in ("index", "search", "dupes", "report", "eval", "gallery"):
        assert command in done.stdout


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("photo-search")
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("photo-search ")


def test_report_json_shape(practice_library: Path) -> None:
    done = photo_search("report", str(practice_library), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)  # exactly one JSON object, nothing else on stdout
    assert set(result) >= {"files", "loaded", "skipped", "by_reason", "by_format"}
    assert result["files"] == result["loaded"] + len(result["skipped"])
    assert result["by_reason"] == {"truncated": 1, "empty file": 1, "not an image": 1}
    assert all("/" in item["path"] and "\\" not in item["path"] for item in result["skipped"])
    assert sum(result["by_format"].values()) == result["loaded"]


def test_report_human_output(practice_library: Path) -> None:
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
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...]) -> None:
    done = photo_search(*args)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr
    if "--json" in args:
        assert "error" in json.loads(done.stdout)
