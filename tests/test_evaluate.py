"""Ranking metrics against hand-computed values, and the eval command's JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.errors import BadInput
from helpers.evaluate import average_precision_at_k, read_groups


def test_average_precision_by_hand() -> None:
    # Relevant at ranks 1 and 3 of 4, 2 relevant in all: (1/1 + 2/3) / 2.
    assert average_precision_at_k([True, False, True, False], 2, 4) == pytest.approx((1 + 2 / 3) / 2)
    # Only 1 of 3 relevant photos found, at rank 2; K = 2 caps the denominator at 2: (1/2) / 2.
    assert average_precision_at_k([False, True, False], 3, 2) == pytest.approx(0.25)
    assert average_precision_at_k([True, True], 2, 2) == 1.0
    assert average_precision_at_k([False, False], 2, 2) == 0.0
    assert average_precision_at_k([], 0, 10) == 0.0


def test_groups_csv_is_checked(tmp_path: Path) -> None:
    good = tmp_path / "groups.csv"
    good.write_text("path,group,extra\na/1.jpg,cats,x\na\\2.jpg,cats,y\n")
    assert read_groups(good) == {"a/1.jpg": "cats", "a/2.jpg": "cats"}
    bad = tmp_path / "bad.csv"
    bad.write_text("file,label\n1.jpg,x\n")
    with pytest.raises(BadInput, match="path,group"):
        read_groups(bad)
    with pytest.raises(BadInput, match="not found"):
        read_groups(tmp_path / "missing.csv")


def test_eval_command_json(tmp_path: Path, practice_library: Path) -> None:
    from test_cli import photo_search

    index = tmp_path / "index"
    assert photo_search("index", str(practice_library), "--index", str(index), "--model", "efficientnet-lite0",
                        "--json").returncode == 0
    groups = practice_library.with_name(practice_library.name + ".groups.csv")
    done = photo_search("eval", "--index", str(index), "--groups", str(groups), "-k", "3", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert {"queries", "map_at_k", "precision_at_k", "recall_at_k", "k"} <= set(result)
    assert result["k"] == 3 and result["queries"] > 10 and result["missing"] == 0
    # Practice subjects are easy for a real model: copies of one photo find each other.
    assert result["map_at_k"] >= 0.8
