"""A 100,000-photo index in real use: load time, memory, and query latency through the library.

The index is synthetic (clustered unit vectors, 512 dimensions, metadata rows without
thumbnails) but written and read through the same code as a real one.
Usage: python benchmarks/bench_library.py [--photos 100000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from helpers.images.metadata import PhotoMetadata
from helpers.index import PhotoIndex
from helpers.records import Batch, EmbeddedPhoto
from helpers.scan import PhotoRecord
from helpers.search import Filters, Library, Term


def write_synthetic(folder: Path, count: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_search import clustered_vectors

    vectors = clustered_vectors(count)
    with PhotoIndex.open(folder, create=True) as index:
        index.set_config(model_id="synthetic", fingerprint="none", dimension=vectors.shape[1],
                         photos_root="/nonexistent")
        for start in range(0, count, 5000):
            photos = [EmbeddedPhoto(PhotoRecord(f"{i // 1000:03d}/IMG_{i:06d}.jpg", 1, 1, "JPEG", f"{i:032x}"), "JPEG",
                                    PhotoMetadata(4000, 3000, f"20{10 + i % 15:02d}-06-01T12:00:00", "DateTimeOriginal",
                                                  "Camera", f"Model {i % 7}"), vectors[i], b"")
                      for i in range(start, min(count, start + 5000))]
            index.write_batch(Batch(photos, []))


def measure(folder: str) -> None:
    """In a fresh process, so that memory is the loaded library's own."""
    import psutil  # ru_maxrss would carry the parent's peak across exec

    process = psutil.Process()
    baseline = process.memory_info().rss
    started = time.perf_counter()
    library = Library.open(folder)
    load = time.perf_counter() - started
    resident = process.memory_info().rss
    timings, filtered = [], []
    for position in np.random.default_rng(0).integers(0, len(library), 100):
        photo = Term("photo", int(library.ids[position]))
        start = time.perf_counter()
        library.search(photo, k=10)
        timings.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        library.search(photo, k=10, filters=Filters(folder="042", camera="model 3"))
        filtered.append((time.perf_counter() - start) * 1000)
    print(f"## A {len(library):,}-photo index through the library\n")
    print(f"load {load:.2f} s; memory of the loaded library {(resident - baseline) / 2**20:.0f} MB "
          f"(process {resident / 2**20:.0f} MB); "
          f"query median {statistics.median(timings):.1f} ms, with folder + camera filters "
          f"{statistics.median(filtered):.1f} ms (re-ranking on)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return
    with tempfile.TemporaryDirectory() as folder:
        write_synthetic(Path(folder), args.photos)
        subprocess.run([sys.executable, __file__, "--measure", folder], check=True)


if __name__ == "__main__":
    main()
