"""Top-K over unit vectors: exact (one matrix product) for libraries up to a few hundred thousand
photos, approximate beyond (a faiss inverted-file index), where an exact scan gets slow.

The approximate index is built once per index state and saved beside the index, so only the
first query after a change pays for it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

# Above this many vectors an exact scan costs tens of milliseconds a query: switch to faiss.
APPROXIMATE_FROM = 300_000
# Lists probed per query. Measured on 1M clustered vectors (BENCHMARKS.md): recall@10 >= 0.95.
NPROBE = 48
# Approximate candidates re-scored exactly (from the stored vectors) before the final cut.
RESCORE_FACTOR = 4


class VectorSearch:
    """Answers top-K queries over a fixed set of unit vectors (one row per photo)."""

    def __init__(self, vectors: np.ndarray, *, cache: Path | None = None, approximate: bool | None = None) -> None:
        self.approximate = len(vectors) >= APPROXIMATE_FROM if approximate is None else approximate
        # Exact search multiplies float32 (what BLAS does fastest); a large library keeps only
        # the compact stored copy (float16) and reads rows from it on demand.
        self._vectors = vectors if self.approximate else np.ascontiguousarray(vectors, dtype=np.float32)
        self._ann = _load_or_build_ivf(vectors, cache) if self.approximate else None

    def __len__(self) -> int:
        return self._vectors.shape[0]

    @property
    def nbytes(self) -> int:
        """Memory of the stored vectors (the approximate index, when built, comes on top)."""
        return int(self._vectors.nbytes)

    @property
    def dimension(self) -> int:
        return self._vectors.shape[1]

    def row(self, position: int) -> np.ndarray:
        return self.rows(np.asarray([position]))[0]

    def rows(self, positions: np.ndarray) -> np.ndarray:
        return np.asarray(self._vectors[np.asarray(positions, dtype=np.int64)], dtype=np.float32)

    def top(self, query: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Positions and scores of the k best rows (only rows where `mask` is True), best first."""
        query = np.asarray(query, dtype=np.float32)
        allowed = len(self) if mask is None else int(mask.sum())
        k = min(k, allowed)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if self._ann is not None and allowed >= min(APPROXIMATE_FROM, len(self) // 2):
            return self._top_approximate(query, k, mask)
        if not self.approximate:
            scores = self._vectors @ query
            if mask is not None:
                scores = np.where(mask, scores, -np.inf)
            return _best(scores, np.arange(len(scores)), k)
        assert mask is not None  # only a filter leaves too few rows for the approximate index
        subset = np.flatnonzero(mask)  # a filter left few enough rows for an exact scan
        return _best(self.rows(subset) @ query, subset, k)

    def _top_approximate(self, query: np.ndarray, k: int, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        wanted = min(len(self), k * RESCORE_FACTOR)
        assert self._ann is not None
        params = faiss.SearchParametersIVF(nprobe=NPROBE)  # type: ignore[call-arg]  # SWIG keywords
        if mask is not None:
            bitmap = np.packbits(mask, bitorder="little")
            selector = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bitmap))
            params = faiss.SearchParametersIVF(nprobe=NPROBE, sel=selector)  # type: ignore[call-arg]
        _, found = self._ann.search(query[None, :], wanted, params=params)
        candidates = found[0][found[0] >= 0]
        return _best(self.rows(candidates) @ query, candidates, k)


def _best(scores: np.ndarray, positions: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Partial selection: O(n) to find the k best, then sort only those k."""
    k = min(k, len(scores))
    best = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    best = best[np.argsort(-scores[best], kind="stable")]
    return positions[best], scores[best].astype(np.float32)


def _load_or_build_ivf(vectors: np.ndarray, cache: Path | None):
    import faiss

    if cache is not None and cache.exists():
        index = faiss.read_index(str(cache))
        if index.ntotal == len(vectors) and index.d == vectors.shape[1]:
            return index
    index = build_ivf(vectors)
    if cache is not None:
        partial = cache.with_suffix(".partial")
        faiss.write_index(index, str(partial))
        os.replace(partial, cache)  # atomic: a reader sees the old file or the whole new one
    return index


def build_ivf(vectors: np.ndarray):
    """An inverted-file index with 8-bit scalar quantisation: about d bytes a vector (a quarter
    of float32), inner-product metric (cosine, for unit vectors)."""
    import faiss

    count, dimension = vectors.shape
    lists = int(2 ** round(np.log2(4 * np.sqrt(count))))
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dimension, lists, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    sample = rng.choice(count, size=min(count, 40 * lists), replace=False)
    index.train(np.asarray(vectors[np.sort(sample)], dtype=np.float32))
    for start in range(0, count, 100_000):  # in chunks: never a float32 copy of everything
        index.add(np.asarray(vectors[start:start + 100_000], dtype=np.float32))
    return index
