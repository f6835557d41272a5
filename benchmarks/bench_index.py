"""Indexing throughput against rclip 3.3, cold start, no-change re-runs: whole-process timings.

Both tools index the same folder of 200 camera-size JPEGs with the same architecture (OpenCLIP
ViT-B-32-256; random weights, since nothing can be downloaded here: compute is identical to the
real model). Each run starts from an empty index; runs alternate between the tools; medians.

Sets up what it needs under data/bench/ (rclip in its own virtual environment, its model
exported to ONNX, the photo folder). Usage: python benchmarks/bench_index.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent / "data" / "bench"
RCLIP_VENV, RCLIP_DATA = BENCH / "rclip-venv", BENCH / "rclip-data"
PHOTO_SEARCH = [sys.executable, "-m", "helpers"]
SAME_ARCH = "openclip:ViT-B-32-256:none"


def timed(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run a command; return (wall seconds, peak resident MB, stdout)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return seconds, usage.ru_maxrss / 1024, output


def setup_rclip() -> Path:
    rclip = RCLIP_VENV / "bin" / "rclip"
    if not rclip.exists():
        subprocess.run([sys.executable, "-m", "venv", str(RCLIP_VENV)], check=True)
        subprocess.run([str(RCLIP_VENV / "bin" / "pip"), "install", "-q", "rclip==3.3.0"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "onnx==1.23.2"], check=True)
    subprocess.run([sys.executable, str(HERE / "export_rclip_model.py"), str(RCLIP_DATA)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return rclip


def tiny_folder(folder: Path, count: int) -> Path:
    """`count` small distinct JPEGs, for the no-change re-run (only stat work should happen)."""
    marker = folder / f".complete-{count}"
    if marker.exists():
        return folder
    rng = np.random.default_rng(0)
    for index in range(count):
        sub = folder / f"{index // 500:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(sub / f"IMG_{index:05d}.jpg", quality=80)
    marker.touch()
    return folder


def median_row(label: str, runs: list[float], photos: int) -> tuple[float, str]:
    middle = statistics.median(runs)
    return middle, f"| {label} | {middle:.1f} | {photos / middle:.1f} | {', '.join(f'{r:.1f}' for r in runs)} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rerun-photos", type=int, default=10_000)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from camera_folder import build

    photos = build(BENCH / "camera200", 200)
    count = sum(1 for _ in photos.glob("*.jpg"))
    rclip = setup_rclip()
    rclip_env = {**os.environ, "RCLIP_DATADIR": str(RCLIP_DATA)}
    index = BENCH / "index-clip"
    ours, theirs, peaks = [], [], {}
    for _ in range(args.runs):
        for tool in ("rclip", "photo-search"):
            if tool == "rclip":
                for stale in RCLIP_DATA.glob("db.sqlite3*"):
                    stale.unlink()
                seconds, peak, _ = timed([str(rclip), "-f", "-t", "1", "a photo"], cwd=photos, env=rclip_env)
                theirs.append(seconds)
            else:
                shutil.rmtree(index, ignore_errors=True)
                seconds, peak, _ = timed([*PHOTO_SEARCH, "index", str(photos), "--index", str(index),
                                          "--model", SAME_ARCH, "--json"])
                ours.append(seconds)
            peaks[tool] = max(peaks.get(tool, 0), peak)
    print(f"## Indexing {count} camera JPEGs (6-12 MP), whole process, empty index each run\n")
    print("| tool | median seconds | photos/s | runs (s) |\n|---|---:|---:|---|")
    ours_median, row = median_row(f"photo-search ({SAME_ARCH})", ours, count)
    print(row)
    theirs_median, row = median_row("rclip 3.3.0 (same architecture, ONNX)", theirs, count)
    print(row)
    print(f"\nspeed-up: {theirs_median / ours_median:.2f}x; peak RSS: photo-search {peaks['photo-search']:.0f} MB, "
          f"rclip {peaks['rclip']:.0f} MB\n")

    lite = BENCH / "index-lite0"
    runs = []
    for _ in range(args.runs):
        shutil.rmtree(lite, ignore_errors=True)
        runs.append(timed([*PHOTO_SEARCH, "index", str(photos), "--index", str(lite), "--model",
                           "efficientnet-lite0", "--json"])[0])
    print("| model | median seconds | photos/s | runs (s) |\n|---|---:|---:|---|")
    print(median_row("photo-search (efficientnet-lite0)", runs, count)[1])

    print("\n## Cold start to first result (whole process, index of the 200 photos)\n")
    print("| query | model | median seconds |\n|---|---|---:|")
    for label, idx, model, query in (
        ("text", index, SAME_ARCH, ["--text", "a red car"]),
        ("image from the library", index, SAME_ARCH, ["--image", str(next(photos.glob("*.jpg")))]),
        ("text (ImageNet labels)", lite, "efficientnet-lite0", ["--text", "schooner"]),
        ("image from the library", lite, "efficientnet-lite0", ["--image", str(next(photos.glob("*.jpg")))]),
    ):
        seconds = [timed([*PHOTO_SEARCH, "search", "--index", str(idx), *query, "--json"])[0]
                   for _ in range(args.runs)]
        print(f"| {label} | {model} | {statistics.median(seconds):.2f} |")

    folder = tiny_folder(BENCH / f"tiny{args.rerun_photos}", args.rerun_photos)
    rerun_index = BENCH / f"index-tiny{args.rerun_photos}"
    if not rerun_index.exists():
        timed([*PHOTO_SEARCH, "index", str(folder), "--index", str(rerun_index), "--model", "tiny-clip", "--json"])
    walls, inner = [], []
    for _ in range(args.runs):
        seconds, _, output = timed([*PHOTO_SEARCH, "index", str(folder), "--index", str(rerun_index), "--json"])
        walls.append(seconds)
        inner.append(json.loads(output)["seconds"])
    start_only = statistics.median([timed([*PHOTO_SEARCH, "--version"])[0] for _ in range(args.runs)])
    print(f"\n## No-change re-run over {args.rerun_photos:,} photos\n")
    print(f"whole process {statistics.median(walls):.2f} s (of which start-up {start_only:.2f} s); "
          f"the update itself {statistics.median(inner):.3f} s")


if __name__ == "__main__":
    main()
