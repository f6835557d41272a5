"""The command line's text output, compared line by line with saved expected output.

What a person reads is part of the interface: a change to it shows up here as a diff. Timings and
temporary paths are replaced by placeholders. After a deliberate change, regenerate the files with
PHOTO_SEARCH_UPDATE_EXPECTED=1 pytest tests/test_cli_output.py and review the diff.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import PhotoSearch

EXPECTED = Path(__file__).parent / "expected"
_TIMINGS = [(re.compile(r"in \d+\.\d s \(\d+\.\d photos/s\)"), "in <s> s (<rate> photos/s)"),
            (re.compile(r"in \d+\.\d s"), "in <s> s"),
            (re.compile(r"\(\d+ ms\)"), "(<ms> ms)")]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, practice_library: Path,
         photo_search: PhotoSearch) -> dict[str, str]:
    """Each command as a person types it, on the practice library with a model that needs no weights."""
    work = tmp_path_factory.mktemp("output")
    index = work / "index"
    photo = min(practice_library.rglob("*.jpg"))
    commands = {
        "report": ["report", str(practice_library)],
        "index": ["index", str(practice_library), "--index", str(index), "--model", "baseline-histogram"],
        "index-again": ["index", str(practice_library), "--index", str(index)],
        "search": ["search", "--index", str(index), "--image", str(photo), "-k", "5"],
        "search-empty": ["search", "--index", str(index), "--image", str(photo), "--min-score", "1.01"],
        "eval": ["eval", "--index", str(index), "--groups", f"{practice_library}.groups.csv", "-k", "3"],
        "bad-date": ["search", "--index", str(index), "--text", "x", "--since", "31/12/2024"],
    }
    outputs = {}
    for name, argv in commands.items():
        done = photo_search(*argv)
        text = done.stdout + (f"[stderr]\n{done.stderr}" if done.stderr else "") + f"[exit {done.returncode}]\n"
        for pattern, placeholder in _TIMINGS:
            text = pattern.sub(placeholder, text)
        outputs[name] = text.replace(str(practice_library), "<photos>").replace(str(work), "<work>")
    return outputs


@pytest.mark.parametrize("name", ["report", "index", "index-again", "search", "search-empty", "eval", "bad-date"])
def test_text_output_is_as_saved(runs: dict[str, str], name: str) -> None:
    saved = EXPECTED / f"{name}.txt"
    if os.environ.get("PHOTO_SEARCH_UPDATE_EXPECTED"):
        saved.parent.mkdir(exist_ok=True)
        saved.write_text(runs[name])
    assert saved.is_file(), f"no saved output for {name}: run with PHOTO_SEARCH_UPDATE_EXPECTED=1 once"
    assert runs[name].splitlines() == saved.read_text().splitlines()
