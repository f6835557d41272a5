"""Indexing throughput and cold queries against rclip 3.3, side by side: whole-process timings.

Both tools run OpenCLIP ViT-B-32-256 (seeded random weights, since nothing can be downloaded
here: the compute is the real model's). Folders, built from the 7 full-resolution camera photos
of ../shared/photos: 252 distinct camera JPEGs (36 shifted crops each, quality 86-93, EXIF kept)
for indexing, and 84 (12 each) for the cold queries. Runs alternate between the tools; medians.
The one-time ONNX export is made first, timed on its own and excluded from the indexing runs.

Sets up what it needs under data/bench/ (rclip in its own virtual environment, its model exported
to ONNX in rclip's layout, the photo folders, an export cache). Usage:
python benchmarks/bench_index.py [--runs 3] [--queries 5]
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
QUERIES = ["a red car", "two dogs playing in the snow", "a bowl of soup", "the eiffel tower at night",
           "children on a beach"]


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


def cpu_model() -> str:
    for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def setup_rclip() -> Path:
    rclip = RCLIP_VENV / "bin" / "rclip"
    if not rclip.exists():
        subprocess.run([sys.executable, "-m", "venv", str(RCLIP_VENV)], check=True)
        subprocess.run([str(RCLIP_VENV / "bin" / "pip"), "install", "-q", "rclip==3.3.0"], check=True)
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


def row(label: str, runs: list[float], photos: int | None = None) -> tuple[float, str]:
    middle = statistics.median(runs)
    rate = f" {photos / middle:.1f} |" if photos else ""
    return middle, f"| {label} | {middle:.2f} |{rate} {', '.join(f'{r:.2f}' for r in runs)} |"


def rclip_index(rclip: Path, photos: Path, env: dict[str, str]) -> tuple[float, float]:
    for stale in RCLIP_DATA.glob("db.sqlite3*"):
        stale.unlink()
    seconds, peak, _ = timed([str(rclip), "-f", "-t", "1", "a photo"], cwd=photos, env=env)
    return seconds, peak


def our_index(photos: Path, index: Path, model: str, *extra: str) -> tuple[float, float, dict]:
    shutil.rmtree(index, ignore_errors=True)
    seconds, peak, output = timed([*PHOTO_SEARCH, "index", str(photos), "--index", str(index), "--model", model,
                                   *extra, "--json"])
    return seconds, peak, json.loads(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", type=int, default=5, help="text queries per tool (each a new process)")
    parser.add_argument("--rerun-photos", type=int, default=10_000)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from camera_folder import build_shifted

    os.environ["PHOTO_SEARCH_CACHE"] = str(BENCH / "cache")
    folder = build_shifted(BENCH / "camera252", 36)
    small = build_shifted(BENCH / "camera84", 12)
    count = sum(1 for _ in folder.glob("*.jpg"))
    rclip = setup_rclip()
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; engine: ONNX Runtime (photo-search default on a CPU)\n")

    shutil.rmtree(BENCH / "cache", ignore_errors=True)
    make_export = f"from helpers.models import load_model; load_model({SAME_ARCH!r})"
    export_seconds, export_peak, _ = timed([sys.executable, "-c", make_export])
    print(f"One-time ONNX export of {SAME_ARCH} (a new process, empty cache: import PyTorch, build, export, "
          f"verify): {export_seconds:.1f} s, peak {export_peak:.0f} MB\n")

    env = {**os.environ, "RCLIP_DATADIR": str(RCLIP_DATA)}
    ours, theirs, peaks, stages = [], [], {"photo-search": 0.0, "rclip": 0.0}, []
    for _ in range(args.runs):
        seconds, peak = rclip_index(rclip, folder, env)
        theirs.append(seconds)
        peaks["rclip"] = max(peaks["rclip"], peak)
        seconds, peak, summary = our_index(folder, BENCH / "index-252", SAME_ARCH)
        ours.append(seconds)
        peaks["photo-search"] = max(peaks["photo-search"], peak)
        stages.append(summary["stages"])
    print(f"## Indexing {count} camera JPEGs (6-11 MP), whole process, empty index each run\n")
    print("| tool | median seconds | photos/s | runs (s) |\n|---|---:|---:|---|")
    ours_median, line = row(f"photo-search (`{SAME_ARCH}`, ONNX Runtime)", ours, count)
    print(line)
    theirs_median, line = row("rclip 3.3.0 (same architecture, ONNX Runtime)", theirs, count)
    print(line)
    print(f"\nspeed-up **{theirs_median / ours_median:.2f}x**; peak resident memory: photo-search "
          f"{peaks['photo-search']:.0f} MB, rclip {peaks['rclip']:.0f} MB")
    middle = stages[ours.index(ours_median)] if ours_median in ours else stages[0]
    print(f"\nStages of the median photo-search run (s; decode is summed over the decode threads): {middle}\n")

    print("| engine / model | median seconds | photos/s | runs (s) |\n|---|---:|---:|---|")
    torch_runs = [our_index(folder, BENCH / "index-torch", SAME_ARCH, "--engine", "torch")[0]
                  for _ in range(max(1, args.runs - 1))]
    print(row(f"photo-search, PyTorch engine (`{SAME_ARCH}`)", torch_runs, count)[1])
    our_index(small, BENCH / "index-lite0-warm", "efficientnet-lite0")  # its one-time export
    lite_runs = [our_index(folder, BENCH / "index-lite0", "efficientnet-lite0")[0] for _ in range(args.runs)]
    print(row("photo-search (`efficientnet-lite0`, ONNX Runtime)", lite_runs, count)[1])

    cold_queries(rclip, small, env, args.queries)
    rerun(args.rerun_photos, args.runs)


def cold_queries(rclip: Path, small: Path, env: dict[str, str], queries: int) -> None:
    """A new process per query, on an index of the 84 photos; tools alternate."""
    index = BENCH / "index-84"
    our_index(small, index, SAME_ARCH)
    rclip_index(rclip, small, env)
    ours, theirs, our_peak, their_peak = [], [], 0.0, 0.0
    for query in (QUERIES * 4)[:queries]:
        seconds, peak, _ = timed([str(rclip), "-n", "-t", "5", query], cwd=small, env=env)
        theirs.append(seconds)
        their_peak = max(their_peak, peak)
        seconds, peak, _ = timed([*PHOTO_SEARCH, "search", "--index", str(index), "--text", query, "-k", "5", "--json"])
        ours.append(seconds)
        our_peak = max(our_peak, peak)
    print(f"\n## Cold text query: a new process answering one query, index of {len(list(small.glob('*.jpg')))} "
          "photos\n")
    print("| tool | median seconds | runs (s) |\n|---|---:|---|")
    ours_median, line = row("photo-search `search --text` (ONNX Runtime, no PyTorch)", ours)
    print(line)
    theirs_median, line = row("rclip 3.3.0 `-n -t 5`", theirs)
    print(line)
    print(f"\nphoto-search takes **{ours_median / theirs_median:.2f}x** rclip's time; peak memory "
          f"{our_peak:.0f} MB vs {their_peak:.0f} MB\n")
    inside = min(small.glob("*.jpg"))
    outside = BENCH / "query-outside.jpg"
    Image.open(max((BENCH / "camera252").glob("*.jpg"))).save(outside, quality=90)
    print("| image query | median seconds |\n|---|---:|")
    for label, path in (("a photo already in the library (no model needed)", inside),
                        ("a photo from outside the library (decoded and embedded)", outside)):
        seconds = [timed([*PHOTO_SEARCH, "search", "--index", str(index), "--image", str(path), "--json"])[0]
                   for _ in range(3)]
        print(f"| {label} | {statistics.median(seconds):.2f} |")


def rerun(count: int, runs: int) -> None:
    folder = tiny_folder(BENCH / f"tiny{count}", count)
    rerun_index = BENCH / f"index-tiny{count}"
    if not rerun_index.exists():
        timed([*PHOTO_SEARCH, "index", str(folder), "--index", str(rerun_index), "--model", "tiny-clip", "--json"])
    walls, inner = [], []
    for _ in range(runs):
        seconds, _, output = timed([*PHOTO_SEARCH, "index", str(folder), "--index", str(rerun_index), "--json"])
        walls.append(seconds)
        inner.append(json.loads(output)["seconds"])
    start_only = statistics.median([timed([*PHOTO_SEARCH, "--version"])[0] for _ in range(runs)])
    print(f"\n## No-change re-run over {count:,} photos\n")
    print(f"whole process {statistics.median(walls):.2f} s (of which start-up {start_only:.2f} s); "
          f"the update itself {statistics.median(inner):.3f} s")


if __name__ == "__main__":
    main()
