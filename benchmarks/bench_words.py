"""Words inside photos: how well `--words` finds the text kit's photos, on the kit as it is and on
harder copies of it made here, and what the words stage costs beside the embedding stage.

Sets (built once under data/bench/words-*, from ../shared/photos/text_in_photos):
- `kit`: the photos as they are;
- `half`: each photo at half its size, re-encoded at JPEG quality 70 (smaller, blurrier text);
- `camera`: each photo placed on a 12 MP camera-size canvas (a quarter of its width, the rest a
  real photo from ../shared/photos/retrieval), stored sideways with EXIF orientation 6, as a phone
  does: small text in a large photo that must be turned upright first.
recall@5 per language for each set, the worst set beside the kit. Cost: the words stage per photo
with and without words, and against the model stage in one run over distinct 12 MP camera photos
(`camera_folder.build_distinct`, mostly without words), with the same architecture as the default.
Usage: python benchmarks/bench_words.py [--runs 3] [--count 100]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import statistics
import sys
import time
import unicodedata
from pathlib import Path

from bench_index import BENCH, SAME_ARCH, cpu_model, our_index
from camera_folder import TESTDATA, build_distinct
from PIL import Image

from helpers.ocr import Line, Reader

KIT = TESTDATA / "text_in_photos"
NOWHERE = ("purple elephant", "boarding pass", "xylophone quartet", "wifi password", "mountain trail")


def build(kind: str) -> Path:
    out = BENCH / f"words-{kind}"
    if (out / ".complete").exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    backgrounds = sorted((TESTDATA / "retrieval" / "scenes").rglob("*.jpg"))
    rng = random.Random(0)
    for path in sorted((KIT / "images").iterdir()):
        with Image.open(path) as image:
            image = image.convert("RGB")
        if kind == "kit":
            shutil.copy2(path, out / path.name)
        elif kind == "half":
            image.resize((max(1, image.width // 2), max(1, image.height // 2)), Image.Resampling.LANCZOS).save(
                out / f"{path.stem}.jpg", quality=70)
        else:
            with Image.open(rng.choice(backgrounds)) as background:
                canvas = background.convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC)
            scale = 1000 / image.width
            canvas.paste(image.resize((1000, max(1, round(image.height * scale))), Image.Resampling.LANCZOS),
                         (rng.randint(0, 2900), rng.randint(0, max(0, 3000 - round(image.height * scale)))))
            exif = Image.Exif()
            exif[0x0112] = 6  # the pixels are stored turned a quarter to the left; a viewer turns them back
            canvas.transpose(Image.Transpose.ROTATE_90).save(out / f"{path.stem}.jpg", quality=90, exif=exif)
    (out / ".complete").touch()
    return out


def recall(folder: Path) -> tuple[dict[str, float], int, float]:
    """recall@5 per script ('latin', 'chinese'), false word matches of NOWHERE, and the median
    milliseconds of a words-only query."""
    from helpers.index import PhotoIndex
    from helpers.search import Library, Term

    index_dir = BENCH / f"index-{folder.name}"
    our_index(folder, index_dir, "efficientnet-lite0")
    found: dict[str, list[float]] = {"latin": [], "chinese": []}
    times = []
    with PhotoIndex.open(index_dir) as index, open(KIT / "queries.csv", newline="", encoding="utf-8") as handle:
        library = Library(index)
        for row in csv.DictReader(handle):
            started = time.perf_counter()
            paths = {Path(result.photo.path).stem for result in library.search([Term("words", row["query"])],
                                                                               k=5).results}
            times.append((time.perf_counter() - started) * 1000)
            relevant = [Path(path).stem for path in row["relevant_paths"].split(";")]
            script = "chinese" if any(unicodedata.east_asian_width(c) == "W" for c in row["query"]) else "latin"
            found[script].append(sum(stem in paths for stem in relevant) / len(relevant))
        false = sum(len(library.search([Term("words", query)]).results) for query in NOWHERE)
    return {script: statistics.mean(values) for script, values in found.items()}, false, statistics.median(times)


def per_photo_cost() -> tuple[float, float]:
    """Median seconds of the words stage's reading per kit photo (all have words) and per photo where
    the first look sees none (distinct camera photos), one core each."""
    reader = Reader()
    kit = sorted((KIT / "images").iterdir())
    reader.lines_in(kit[0])
    with_words = [_timed_lines(reader, path)[0] for path in kit]
    empty = []
    for path in sorted(build_distinct(BENCH / "distinct100", 100).glob("*.jpg")):
        seconds, lines = _timed_lines(reader, path)
        if not lines:
            empty.append(seconds)
    return statistics.median(with_words), statistics.median(empty)


def _timed_lines(reader: Reader, path: Path) -> tuple[float, list[Line]]:
    started = time.perf_counter()
    lines = reader.lines_in(path)
    return time.perf_counter() - started, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    os.environ["PHOTO_SEARCH_CACHE"] = str(BENCH / "cache")
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; engine: ONNX Runtime\n")
    print("## Words inside photos: `--words` recall@5 on the text kit and harder copies of it\n")
    print("| set | Latin recall@5 | Chinese recall@5 | word matches for 5 absent phrases | query ms |")
    print("|---|---:|---:|---:|---:|")
    rows = {}
    for kind in ("kit", "half", "camera"):
        rows[kind] = recall(build(kind))
        scores, false, ms = rows[kind]
        print(f"| {kind} | {scores['latin']:.3f} | {scores['chinese']:.3f} | {false} | {ms:.1f} |")
    worst = min(rows, key=lambda kind: rows[kind][0]["latin"] + rows[kind][0]["chinese"])
    print(f"\nworst set: {worst}\n")

    with_words, empty = per_photo_cost()
    print(f"reading, one core: {with_words * 1000:.0f} ms per kit photo (median, all with words); "
          f"{empty * 1000:.0f} ms per camera photo where nothing is read (median)\n")
    folder = build_distinct(BENCH / f"distinct{args.count}", args.count)
    stages = [our_index(folder, BENCH / "index-words-distinct", SAME_ARCH)[2]["stages"] for _ in range(args.runs)]
    words = [run["words"] for run in stages]
    middle = stages[words.index(statistics.median_low(words))]
    print(f"## The words stage beside the model stage: {args.count} distinct 12 MP camera photos, `{SAME_ARCH}`\n")
    print("| run | model s | words s | words / model |\n|---|---:|---:|---:|")
    for number, run in enumerate(stages, 1):
        print(f"| {number} | {run['model']:.2f} | {run['words']:.2f} | {run['words'] / run['model']:.0%} |")
    print(f"\nmedian run: words {middle['words']:.2f} s against model {middle['model']:.2f} s "
          f"({middle['words'] / middle['model']:.0%})")


if __name__ == "__main__":
    sys.exit(main())
