"""Notebooks are committed clean: no outputs, no execution counts (outputs go to outputs/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_every_chapter_is_there_in_order() -> None:
    chapters = [path.stem for path in NOTEBOOKS if path.stem[:2].isdigit()]
    assert chapters == ["00_setup", "01_loading", "02_embeddings", "03_similarity", "04_indexing", "05_duplicates",
                        "06_app", "07_evaluation", "08_people",
                        "09_keeping"]
    assert (NOTEBOOKS[0].parent / "app.ipynb").exists()  # the page `make app` serves


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    cells = json.loads(path.read_text())["cells"]
    code = [cell for cell in cells if cell["cell_type"] == "code"]
    assert code, "a chapter without code"
    assert all(not cell.get("outputs") and cell.get("execution_count") is None for cell in code)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_code_cells_are_a_few_lines(path: Path) -> None:
    """A beginner reads a cell at a glance: ten lines at most, ending in something to look at."""
    cells = json.loads(path.read_text())["cells"]
    long = [i for i, cell in enumerate(cells)
            if cell["cell_type"] == "code" and len("".join(cell["source"]).splitlines()) > 10]
    assert not long, f"cells {long} are longer than ten lines"
