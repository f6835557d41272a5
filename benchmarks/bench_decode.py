"""Decode speed: full decode vs JPEG draft (DCT-scaled) decode, on camera-size photos.

Usage: python benchmarks/bench_decode.py [FOLDER] [--runs N]
Prints a Markdown table (per photo, median of N runs) ready for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from PIL import Image

from helpers.images import LoadOptions, load_photo, shrink_to_min_side

TESTDATA = Path(os.environ.get("PHOTO_SEARCH_TESTDATA", Path(__file__).resolve().parents[2] / "shared" / "photos"))


def median_ms(function, runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=TESTDATA / "retrieval" / "full_resolution", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--min-side", type=int, default=224)
    args = parser.parse_args()
    print("| photo | megapixels | full decode + shrink (ms) | draft decode + shrink (ms) | speed-up |")
    print("|---|---:|---:|---:|---:|")
    ratios = []
    for path in sorted(p for p in args.folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg")):
        with Image.open(path) as image:
            megapixels = image.width * image.height / 1e6
        full = median_ms(lambda p=path: shrink_to_min_side(load_photo(p).image, args.min_side), args.runs)
        draft = median_ms(lambda p=path: load_photo(p, LoadOptions(min_side=args.min_side)), args.runs)
        ratios.append(full / draft)
        print(f"| {path.name} | {megapixels:.1f} | {full:.1f} | {draft:.1f} | {full / draft:.1f}x |")
    print(f"\nmedian speed-up: {statistics.median(ratios):.1f}x (min side {args.min_side}, {args.runs} runs each)")


if __name__ == "__main__":
    main()
