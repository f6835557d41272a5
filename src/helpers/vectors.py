"""Top-K over unit vectors: exact (one matrix product) for libraries up to a few hundred thousand
photos, approximate (a faiss inverted-file index) beyond, where exact search gets slow."""

from __future__ import annotations

import numpy as np

# Above this many vectors an exact scan costs tens of milliseconds per query; switch to faiss.
APPROXIMATE_FROM = 300_000


class VectorSearch:
    """Holds the vectors as float32 (what BLAS multiplies fastest) and answers top-K queries."""

    def __init__(self, vectors: np.ndarray) -> None:
        self.matrix = np.ascontiguousarray(vectors, dtype=np.float32)

    def __len__(self) -> int:
        return self.matrix.shape[0]

    @property
    def dimension(self) -> int:
        return self.matrix.shape[1]

    def row(self, position: int) -> np.ndarray:
        return self.matrix[position]

    def rows(self, positions: np.ndarray) -> np.ndarray:
        return self.matrix[positions]

    def scores(self, query: np.ndarray) -> np.ndarray:
        return self.matrix @ np.asarray(query, dtype=np.float32)

    def top(self, query: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Positions and scores of the k best rows (only rows where `mask` is True), best first."""
        scores = self.scores(query)
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
            available = int(mask.sum())
        else:
            available = len(scores)
        k = min(k, available)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        # Partial selection: O(n) to find the k best, then sort only those k.
        best = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        order = best[np.argsort(-scores[best], kind="stable")]
        return order, scores[order]
