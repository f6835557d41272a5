"""All candidate pairs over a large library: time and peak memory of the blockwise pair search.

Synthetic unit vectors (512-d, stored float16 like the index) with planted near-copies; the
candidate stage of `photo-search dupes` finds every pair above the threshold without ever holding
an N x N matrix. Usage: python benchmarks/bench_dupes_scale.py [--photos 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np

from helpers.duplicates import DEFAULT_CANDIDATE_COSINE, pairs_above


def library(photos: int, dimension: int, planted: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((photos, dimension), dtype=np.float32)
    copies = rng.choice(photos, size=(planted, 2), replace=False)
    vectors[copies[:, 1]] = vectors[copies[:, 0]] + 0.3 * rng.standard_normal((planted, dimension), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--dimension", type=int, default=512)
    parser.add_argument("--planted", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    vectors = library(args.photos, args.dimension, args.planted)
    timings, found = [], 0
    for _ in range(args.runs):
        start = time.perf_counter()
        found = sum(len(i) for i, _, _ in pairs_above(vectors, DEFAULT_CANDIDATE_COSINE))
        timings.append(time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"| {args.photos:,} photos x {args.dimension}-d | {found} pairs >= {DEFAULT_CANDIDATE_COSINE} "
          f"({args.planted} planted) | {statistics.median(timings):.1f} s (median of {args.runs}) | "
          f"peak RSS {peak_mb:.0f} MB (vectors {vectors.nbytes / 2**20:.0f} MB) |")


if __name__ == "__main__":
    main()
