"""People: how well faces are found and grouped on the face kit (held-out identities, worst split),
what finding them costs per photo, and the faces stage against the model stage on distinct 12 MP
camera photos (`index --faces`, the stages' own times).

Quality: ../shared/photos/faces (identities.csv). Grouping is scored on splits of its identities:
each split keeps half of them (the grouping rule was chosen on none of these splits' choices);
the worst split is reported beside the median. `--person` precision@10: for each person found,
the share of their first ten photos that show that identity.
Usage: python benchmarks/bench_faces.py [--runs 2] [--splits 8]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from bench_index import BENCH, SAME_ARCH, cpu_model, our_index
from camera_folder import TESTDATA, build_distinct

from helpers.evaluate import grouping_scores
from helpers.faces import Face, FaceFinder
from helpers.people import THRESHOLD, clusters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--splits", type=int, default=8)
    parser.add_argument("--strangers", type=int, default=600, help="photos of retrieval/ whose faces are mixed in")
    args = parser.parse_args()
    os.environ["PHOTO_SEARCH_CACHE"] = str(BENCH / "cache")
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; dlib HOG detector, 5-point landmarks, ResNet descriptor\n")
    kit = _kit()
    strangers = _strangers(args.strangers)
    _quality(kit, args.splits, [])
    print(f"The same splits with the faces of {len(strangers)} strangers mixed in (every face found in "
          f"{args.strangers} photos of ../shared/photos/retrieval at most, each taken as a different person):\n")
    _quality(kit, args.splits, strangers)
    camera = build_distinct(BENCH / "distinct100-people", 100, people_share=1 / 3)
    _per_photo("face kit", [path for path, *_ in kit])
    _per_photo("distinct 12 MP camera photos, a third of people", sorted(camera.glob("*.jpg"))[:40])
    _stage_cost(camera, args.runs)


def _kit() -> list[tuple[Path, str, int | None, list[Face]]]:
    folder = TESTDATA / "faces"
    rows = list(csv.DictReader((folder / "identities.csv").open(encoding="utf-8")))
    finder = FaceFinder()
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        found = list(pool.map(lambda row: finder.faces_in(folder / row["path"]), rows))
    return [(folder / row["path"], row["identity"], int(row["faces"]) if row["faces"] else None, faces)
            for row, faces in zip(rows, found, strict=True)]


def _strangers(count: int) -> list[np.ndarray]:
    photos = sorted(path for path in (TESTDATA / "retrieval").rglob("*") if path.suffix.lower() in (".jpg", ".png"))
    finder = FaceFinder()
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        found = pool.map(finder.faces_in, random.Random(0).sample(photos, min(count, len(photos))))
        return [face.descriptor for faces in found for face in faces]


def _quality(kit: list[tuple[Path, str, int | None, list[Face]]], splits: int, strangers: list[np.ndarray]) -> None:
    if not strangers:
        counted = sum(count for _, _, count, _ in kit if count)
        found = sum(min(len(faces), count) for _, _, count, faces in kit if count)
        faceless = [faces for _, identity, _, faces in kit if identity == "none"]
        print(f"faces found: **{found} of {counted}** counted ({found / counted:.1%}); photos without a face "
              f"given one: {sum(bool(faces) for faces in faceless)} of {len(faceless)}\n")
    labelled = [(identity, faces[0].descriptor, path.name) for path, identity, _, faces in kit
                if len(faces) == 1 and ";" not in identity and identity not in ("unknown", "none")]
    identities = sorted({identity for identity, _, _ in labelled})
    print(f"grouping at distance {THRESHOLD}, {splits} splits of {len(identities)} identities (half held each):\n")
    print("| split | identities | faces | pairwise precision | pairwise recall | --person precision@10 (worst) |")
    print("|---|---:|---:|---:|---:|---:|")
    scores = []
    for seed in range(splits):
        held = set(random.Random(seed).sample(identities, len(identities) // 2))
        chosen = [item for item in labelled if item[0] in held]
        truth = [identity for identity, _, _ in chosen] + [f"stranger {n}" for n in range(len(strangers))]
        labels = clusters(np.stack([descriptor for _, descriptor, _ in chosen] + strangers))
        precision, recall = grouping_scores(labels, truth)
        person = _person_precision(labels, truth)
        scores.append((precision, recall, person))
        print(f"| {seed} | {len(held)} | {len(chosen)} | {precision:.3f} | {recall:.3f} | {person:.3f} |")
    for name, pick in (("worst", min), ("median", statistics.median)):
        print(f"| **{name}** | | | {pick(s[0] for s in scores):.3f} | {pick(s[1] for s in scores):.3f} | "
              f"{pick(s[2] for s in scores):.3f} |")
    print()


def _person_precision(labels: list[int], truth: list[str]) -> float:
    """The worst person's precision@10: of their first ten faces, the share of their main identity."""
    worst = 1.0
    for label, size in Counter(labels).items():
        if size < 2:
            continue
        members = [identity for identity, group in zip(truth, labels, strict=True) if group == label][:10]
        worst = min(worst, Counter(members).most_common(1)[0][1] / len(members))
    return worst


def _per_photo(label: str, paths: list[Path]) -> None:
    finder = FaceFinder()
    finder.faces_in(paths[0])  # the models load once
    seconds = []
    for path in paths:
        started = time.perf_counter()
        finder.faces_in(path)
        seconds.append(time.perf_counter() - started)
    print(f"- {label}: one core per photo, median **{statistics.median(seconds) * 1000:.0f} ms**, "
          f"max {max(seconds) * 1000:.0f} ms ({len(paths)} photos)")


def _stage_cost(camera: Path, runs: int) -> None:
    print(f"\nThe faces stage against the model stage (`{SAME_ARCH}`), {len(list(camera.glob('*.jpg')))} distinct "
          "12 MP camera photos (a third of them of people), `index --faces` from an empty index:\n")
    print("| run | model s | faces s | faces / model | words s | whole run s |\n|---|---:|---:|---:|---:|---:|")
    for run in range(runs):
        seconds, _, summary = our_index(camera, BENCH / "index-faces", SAME_ARCH, "--faces")
        stages = summary["stages"]
        print(f"| {run + 1} | {stages['model']:.1f} | {stages['faces']:.1f} | {stages['faces'] / stages['model']:.0%} |"
              f" {stages['words']:.1f} | {seconds:.1f} |")
    from helpers.index import PhotoIndex
    from helpers.people import counts

    with PhotoIndex.open(BENCH / "index-faces") as index:
        with_faces = index.db.execute("SELECT count(DISTINCT photo_id) FROM faces").fetchone()[0]
        print(f"\n{with_faces} of {index.count()} photos hold a face found; {counts(index)}")


if __name__ == "__main__":
    sys.exit(main())
