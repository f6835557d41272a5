"""Top-K selection, exact and approximate, and models known before they load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers.models import input_side, load_model
from helpers.vectors import VectorSearch


def _clustered(count: int, dimension: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((count // 100, dimension))
    points = centres[rng.integers(0, len(centres), count)] + 0.8 * rng.standard_normal((count, dimension))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float16)


def test_exact_top_k_is_sorted_and_respects_the_mask() -> None:
    vectors = _clustered(2000)
    search = VectorSearch(vectors)
    query = np.asarray(vectors[7], np.float32)
    positions, scores = search.top(query, 5)
    expected = np.argsort(-(np.asarray(vectors, np.float32) @ query))[:5]
    assert positions.tolist() == expected.tolist() and positions[0] == 7
    assert np.all(np.diff(scores) <= 0)
    mask = np.zeros(2000, dtype=bool)
    mask[1000:] = True
    positions, _ = search.top(query, 5, mask)
    assert len(positions) == 5 and positions.min() >= 1000
    assert len(search.top(query, 50, np.zeros(2000, dtype=bool))[0]) == 0


def test_approximate_search_finds_what_exact_search_finds(tmp_path: Path) -> None:
    vectors = _clustered(30_000)
    exact = VectorSearch(vectors)
    cache = tmp_path / "ann.faiss"
    approximate = VectorSearch(vectors, cache=cache, approximate=True)
    assert approximate.approximate and cache.exists()
    rng = np.random.default_rng(1)
    recall = []
    for position in rng.integers(0, len(vectors), 50):
        query = np.asarray(vectors[position], np.float32)
        truth = set(exact.top(query, 10)[0].tolist())
        recall.append(len(truth & set(approximate.top(query, 10)[0].tolist())) / 10)
    assert np.mean(recall) >= 0.9
    mask = np.zeros(len(vectors), dtype=bool)
    mask[::2] = True
    positions, _ = approximate.top(np.asarray(vectors[1], np.float32), 10, mask)
    assert len(positions) == 10 and all(p % 2 == 0 for p in positions)
    reloaded = VectorSearch(vectors, cache=cache, approximate=True)  # read back, not rebuilt
    assert reloaded.top(np.asarray(vectors[3], np.float32), 3)[0][0] == 3


@pytest.mark.parametrize("name", ["efficientnet-lite0", "tiny-clip", "openclip:ViT-B-32:none"])
def test_decode_size_is_known_before_the_model_loads(name: str) -> None:
    assert input_side(name) == load_model(name, engine="torch").preprocess.resize_to
