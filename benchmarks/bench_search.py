"""Query latency, approximate-search recall and memory at 10k, 100k and 1M stored vectors.

Vectors are synthetic but shaped like photo embeddings: unit vectors in clusters (many photos of
few subjects), 512 dimensions as CLIP ViT-B-32, stored as float16 as the index stores them.
Timed: the ranking of one query as `photo-search search` does it (top-K with re-ranking of the
best 100), median over 200 queries. Recall@10 compares approximate top-10 with exact top-10.

Usage: python benchmarks/bench_search.py [--sizes 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from helpers.search import RERANK_POOL, rerank_candidates
from helpers.vectors import VectorSearch


def clustered_vectors(count: int, dimension: int = 512, clusters: int | None = None, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    clusters = clusters or max(10, count // 200)  # about 200 photos a subject
    centres = rng.standard_normal((clusters, dimension)).astype(np.float32)
    out = np.empty((count, dimension), dtype=np.float16)
    for start in range(0, count, 100_000):
        size = min(100_000, count - start)
        noise = 0.9 * rng.standard_normal((size, dimension)).astype(np.float32)
        block = centres[rng.integers(0, clusters, size)] + noise
        out[start:start + size] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def exact_top(vectors: np.ndarray, query: np.ndarray, k: int) -> set[int]:
    scores = np.concatenate([np.asarray(vectors[s:s + 200_000], np.float32) @ query
                             for s in range(0, len(vectors), 200_000)])
    return set(np.argpartition(-scores, k)[:k].tolist())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    print("| stored vectors | search | build (s) | median query (ms) | p95 (ms) | recall@10 vs exact | peak RSS (MB) |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        # The queries are new photos of the same subjects: drawn like the stored vectors, not stored.
        drawn = clustered_vectors(size + args.queries)
        vectors, queries = drawn[:size], np.asarray(drawn[size:], np.float32)
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            search = VectorSearch(vectors, cache=Path(folder) / "ann.faiss")
            build = time.perf_counter() - started
            timings, recalls = [], []
            for query in queries:
                start = time.perf_counter()
                positions, _ = search.top(query, RERANK_POOL)
                rerank_candidates(query, search.rows(positions))
                timings.append((time.perf_counter() - start) * 1000)
                if search.approximate and len(recalls) < 50:
                    found = set(search.top(query, 10)[0].tolist())
                    recalls.append(len(found & exact_top(vectors, query, 10)) / 10)
        recall = f"{statistics.mean(recalls):.3f}" if recalls else "exact"
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        kind = "approximate (faiss IVF-SQ8)" if search.approximate else "exact"
        print(f"| {size:,} | {kind} | {build:.1f} | {statistics.median(timings):.2f} | "
              f"{np.percentile(timings, 95):.2f} | {recall} | {peak:.0f} |", flush=True)


if __name__ == "__main__":
    main()
