"""Indexing distinct camera photos (no copies) until the library is fully searchable, against rclip
3.3 side by side, with the time of every stage; and the copy stage against the model stage with a
real-weights model (efficientnet-lite0: random weights make all photos look alike, so they would
give the copy stage work no real library has), with and without camera EXIF.

Folders (built once under data/bench/, from ../shared/photos/retrieval; `camera_folder.build_distinct`):
300 web-size photos enlarged to 12 MP with sensor-like noise, each a different photo; one copy of the
folder carries a phone's make, model and capture times, the other no EXIF at all.
Usage: python benchmarks/bench_distinct.py [--runs 3] [--count 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

from bench_index import BENCH, RCLIP_DATA, SAME_ARCH, cpu_model, our_index, rclip_index, row, setup_rclip, timed
from camera_folder import build_distinct

STAGES = ("decode", "model", "places", "copies", "cutoff")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    os.environ["PHOTO_SEARCH_CACHE"] = str(BENCH / "cache")
    camera = build_distinct(BENCH / f"distinct{args.count}", args.count)
    bare = build_distinct(BENCH / f"distinct{args.count}-noexif", args.count, camera_exif=False)
    rclip = setup_rclip()
    timed([sys.executable, "-c", f"from helpers.models import load_model; load_model({SAME_ARCH!r})"])  # exports
    timed([sys.executable, "-c", "from helpers.models import load_model; load_model('efficientnet-lite0')"])
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; engine: ONNX Runtime\n")

    env = {**os.environ, "RCLIP_DATADIR": str(RCLIP_DATA)}
    ours, theirs, stages = [], [], []
    for _ in range(args.runs):
        theirs.append(rclip_index(rclip, camera, env)[0])
        seconds, _, summary = our_index(camera, BENCH / "index-distinct", SAME_ARCH)
        ours.append(seconds)
        stages.append(summary["stages"])
    print(f"## Indexing {args.count} distinct 12 MP camera photos, every stage on, whole process, empty index\n")
    print("| tool | median seconds | photos/s | runs (s) |\n|---|---:|---:|---|")
    ours_median, line = row(f"photo-search (`{SAME_ARCH}`: embedding, places, copy groups, cutoff)", ours, args.count)
    print(line)
    theirs_median, line = row("rclip 3.3.0 (same architecture, ONNX Runtime)", theirs, args.count)
    print(line)
    print(f"\nphoto-search is **{theirs_median / ours_median:.2f}x** rclip's speed")
    print(f"stages of the median run (s): {_stages(stages[ours.index(statistics.median_low(ours))])}\n")

    print("## The copy stage against the model stage, efficientnet-lite0 (real weights)\n")
    print("| folder | median seconds | model s | copies s | copies / model | runs (s) |\n|---|---:|---:|---:|---:|---|")
    for label, folder in (("camera EXIF (one phone, capture times)", camera), ("no EXIF", bare)):
        runs = [our_index(folder, BENCH / "index-distinct-lite0", "efficientnet-lite0") for _ in range(args.runs)]
        walls = [seconds for seconds, _, _ in runs]
        middle = runs[walls.index(statistics.median_low(walls))][2]["stages"]
        print(f"| {label} | {statistics.median(walls):.2f} | {middle['model']:.2f} | {middle['copies']:.2f} | "
              f"{middle['copies'] / middle['model']:.0%} | {', '.join(f'{w:.2f}' for w in walls)} |")


def _stages(stages: dict[str, float]) -> str:
    return ", ".join(f"{name} {stages[name]:.2f}" for name in STAGES if name in stages)


if __name__ == "__main__":
    main()
