"""Ranking metrics against hand-computed values, and the eval command's JSON."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

if TYPE_CHECKING:
    from conftest import PhotoSearch

from helpers.errors import BadInput, NoTextEncoder
from helpers.evaluate import (
    average_precision_at_k,
    compare_models,
    evaluate_image_queries,
    evaluate_text_queries,
    groups_from_folders,
    precision_recall_by_k,
    read_groups,
    read_text_queries,
)
from helpers.index import PhotoIndex
from helpers.search import Library
from helpers.vectors import VectorSearch


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
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(100))  # a photo given where the CSV goes (found by fuzzing)
    with pytest.raises(BadInput, match="is not a CSV text file"):
        read_groups(photo)


def test_eval_command_json(tmp_path: Path, practice_library: Path, photo_search: PhotoSearch) -> None:
    
    index = tmp_path / "index"
    assert photo_search("index", str(practice_library), "--index", str(index), "--model", "efficientnet-lite0",
                        "--json").returncode == 0
    groups = practice_library.with_name(practice_library.name + ".groups.csv")
    done = photo_search("eval", "--index", str(index), "--groups", str(groups), "-k", "3", "--json", "--per-query")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert {"queries", "map_at_k", "precision_at_k", "recall_at_k", "k"} <= set(result)
    assert result["k"] == 3 and result["queries"] > 150 and result["missing"] == 0
    # Subjects, not only copies: a real model is far from perfect on them, and far above chance.
    assert 0.6 <= result["map_at_k"] <= 0.95
    # A photo whose only partner is its byte-identical copy is no query: search never shows that copy.
    queried = {query["path"] for query in result["per_query"]}
    assert "2024/Camera Roll/IMG_5070.jpg" not in queried and "2024/Camera Roll/IMG_5021.jpg" in queried


def test_text_queries_from_captions_and_labels(tmp_path: Path) -> None:
    captions = tmp_path / "captions.csv"
    captions.write_text("path,caption_id,caption\na.jpg,0,a cat on a sofa\nb.jpg,0,a cat on a sofa\nc.jpg,0,pizza\n")
    assert read_text_queries(captions) == {"a cat on a sofa": {"a.jpg", "b.jpg"}, "pizza": {"c.jpg"}}
    labels = tmp_path / "labels.csv"
    labels.write_text("path,categories\na.jpg,cat;couch\nb.jpg,cat\n")
    assert read_text_queries(labels) == {"cat": {"a.jpg", "b.jpg"}, "couch": {"a.jpg"}}
    (tmp_path / "bad.csv").write_text("path,group\na.jpg,x\n")
    with pytest.raises(BadInput, match="caption"):
        read_text_queries(tmp_path / "bad.csv")


class _FakeLibrary:
    """Three photos on the axes of 3-D space; text maps words to axes."""

    class _Embedder:
        @staticmethod
        def embed_texts(texts: list[str]) -> np.ndarray:
            axes = {"red": [1, 0, 0], "green": [0, 1, 0], "redgreen": [0.8, 0.6, 0]}
            if texts[0] not in axes:
                raise NoTextEncoder("unknown word")
            return np.array([axes[texts[0]]], dtype=np.float32)

    def __init__(self) -> None:
        self.rows = [type("Row", (), {"path": p})() for p in ("r.jpg", "g.jpg", "b.jpg")]
        self.vectors = VectorSearch(np.eye(3, dtype=np.float16))
        self.embedder = self._Embedder()


def test_text_recall_at_k_by_hand() -> None:
    library = _FakeLibrary()
    # "red" finds r.jpg first (rank 1); "redgreen" wants g.jpg, which comes second; "blue" is unreadable.
    report = evaluate_text_queries(library, {"red": {"r.jpg"}, "redgreen": {"g.jpg"}, "blue": {"b.jpg"},
                                             "green": {"gone.jpg"}})
    ranks = {q.text: q.rank for q in report.queries}
    assert ranks == {"red": 1, "redgreen": 2, "blue": None} and report.missing == 1
    assert report.recall_at(1) == pytest.approx(1 / 3) and report.recall_at(5) == pytest.approx(2 / 3)
    assert report.as_dict()["unreadable"] == 1


def test_folders_as_weak_labels_and_model_comparison(tmp_path: Path, practice_library: Path) -> None:
    rows = compare_models(practice_library, ["baseline-pixels", "baseline-histogram", "no-such-model"],
                          tmp_path / "work", k=3)
    by_model = {row["model"]: row for row in rows}
    assert "unknown model" in by_model["no-such-model"]["error"]
    for name in ("baseline-pixels", "baseline-histogram"):
        row = by_model[name]
        assert 0 <= row["map_at_k"] <= 1 and row["queries"] > 0 and row["photos_per_second"] > 0
    with PhotoIndex.open(tmp_path / "work" / "baseline-pixels") as index:
        library = Library(index)
        folders = groups_from_folders(library)
        roll = "2024/Camera Roll"
        assert folders[f"{roll}/IMG_5021.jpg"] == folders[f"{roll}/IMG_5007.jpg"] == roll
        curve = precision_recall_by_k(evaluate_image_queries(library, folders, k=4))
        assert [k for k, _, _ in curve] == [1, 2, 3, 4]
        assert all(later[2] >= earlier[2] for earlier, later in itertools.pairwise(curve))  # recall never drops


def test_eval_per_query_and_folders_cli(tmp_path: Path, practice_library: Path, photo_search: PhotoSearch) -> None:
    
    index = tmp_path / "index"
    assert photo_search("index", str(practice_library), "--index", str(index), "--model", "baseline-pixels",
                        "--json").returncode == 0
    done = photo_search("eval", "--index", str(index), "--folders", "--per-query", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    scores = [q["average_precision"] for q in result["per_query"]]
    assert scores == sorted(scores) and len(scores) == result["queries"]
    missing = photo_search("eval", "--index", str(index))
    assert missing.returncode == 2 and "--groups" in missing.stderr
