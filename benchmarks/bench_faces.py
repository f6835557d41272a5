"""People: how well faces are found and grouped on the face kit (held-out identities, worst split),
what finding them costs per photo, and the faces stage against the model stage on distinct 12 MP
camera photos (`index --faces`, the stages' own times).

Quality: ../shared/photos/faces (identities.csv). Grouping is scored on splits of its identities:
each split keeps half of them (the grouping rule was chosen on none of these splits' choices);
the worst split is reported beside the median. `--person` precision: for each person found, the
share of all their faces (not only the first ten) that show that identity. The faces found in
retrieval/ are then mixed in, to see whether strangers, statues and false faces join a kit person.
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
    args = parser.parse_args()
    os.environ["PHOTO_SEARCH_CACHE"] = str(BENCH / "cache")
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; dlib HOG detector, 5-point landmarks, ResNet descriptor\n")
    kit = _kit()
    counted = sum(count for _, _, count, _ in kit if count)
    found = sum(min(len(faces), count) for _, _, count, faces in kit if count)
    faceless = [faces for _, identity, _, faces in kit if identity == "none"]
    print(f"faces found: **{found} of {counted}** counted ({found / counted:.1%}); kit photos without a face "
          f"given one: {sum(bool(faces) for faces in faceless)} of {len(faceless)}\n")
    strangers = _negatives_and_strangers()
    _quality(kit, args.splits, [])
    print(f"The same splits with the {len(strangers)} faces found in ../shared/photos/retrieval mixed in (people "
          "of other photos, statues and false faces: their own identities are unknown, so precision counts the "
          "pairs that hold a kit face, and --person precision the people whose faces are mostly one kit "
          "identity):\n")
    _quality(kit, args.splits, strangers)
    camera = build_distinct(BENCH / "distinct100-people", 100, people_share=1 / 3)
    _per_photo("face kit", [path for path, *_ in kit])
    _per_photo("distinct 12 MP camera photos, a third of people", sorted(camera.glob("*.jpg"))[:40])
    _stage_cost(camera, args.runs)


def _found(paths: list[Path]) -> list[list[Face]]:
    finder = FaceFinder()
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        return list(pool.map(finder.faces_in, paths))


def _kit() -> list[tuple[Path, str, int | None, list[Face]]]:
    folder = TESTDATA / "faces"
    rows = list(csv.DictReader((folder / "identities.csv").open(encoding="utf-8")))
    found = _found([folder / row["path"] for row in rows])
    return [(folder / row["path"], row["identity"], int(row["faces"]) if row["faces"] else None, faces)
            for row, faces in zip(rows, found, strict=True)]


def _negatives_and_strangers() -> list[np.ndarray]:
    """Faces found in every photo of retrieval/, and the photos among them that hold no person (Caltech
    and clothing photos, COCO photos whose labels name no person) which were given one anyway."""
    folder = TESTDATA / "retrieval"
    groups = {row["path"]: row["group"] for row in csv.DictReader((folder / "groups.csv").open(encoding="utf-8"))}
    persons = {row["path"] for row in csv.DictReader((folder / "coco_labels.csv").open(encoding="utf-8"))
               if "person" in row["categories"].split(";")}
    names = sorted(groups)  # paths relative to retrieval/
    found = dict(zip(names, _found([folder / name for name in names]), strict=True))
    statues = [name for name in names if groups[name] == "caltech101:buddha"]
    negatives = [name for name in names if name not in statues and (
        groups[name].startswith(("caltech101:", "clothing:"))
        or name.startswith("coco_captions/") and name not in persons)]
    wrong = [name for name in negatives if found[name]]
    print(f"photos of retrieval/ without a person (Caltech, clothing, COCO without a person) given a face: "
          f"**{len(wrong)} of {len(negatives)}** ({', '.join(wrong) or 'none'}); Buddha statues given one: "
          f"{sum(bool(found[name]) for name in statues)} of {len(statues)}\n")
    return [face.descriptor for faces in found.values() for face in faces]


def _quality(kit: list[tuple[Path, str, int | None, list[Face]]], splits: int, strangers: list[np.ndarray]) -> None:
    labelled = [(identity, faces[0].descriptor, path.name) for path, identity, _, faces in kit
                if len(faces) == 1 and ";" not in identity and identity not in ("unknown", "none")]
    identities = sorted({identity for identity, _, _ in labelled})
    print(f"grouping at distance {THRESHOLD}, {splits} splits of {len(identities)} identities (half held each):\n")
    print("| split | identities | faces | pairwise precision | pairwise recall | "
          "--person precision, all faces (worst) |")
    print("|---|---:|---:|---:|---:|---:|")
    scores = []
    for seed in range(splits):
        held = set(random.Random(seed).sample(identities, len(identities) // 2))
        chosen = [item for item in labelled if item[0] in held]
        truth = [identity for identity, _, _ in chosen] + [f"stranger {n}" for n in range(len(strangers))]
        labels = clusters(np.stack([descriptor for _, descriptor, _ in chosen] + strangers))
        precision = _kit_precision(labels, truth, len(chosen))
        _, recall = grouping_scores(labels[:len(chosen)], truth[:len(chosen)])
        person = _person_precision(labels, truth, held)
        scores.append((precision, recall, person))
        print(f"| {seed} | {len(held)} | {len(chosen)} | {precision:.3f} | {recall:.3f} | {person:.3f} |")
    for name, pick in (("worst", min), ("median", statistics.median)):
        print(f"| **{name}** | | | {pick(s[0] for s in scores):.3f} | {pick(s[1] for s in scores):.3f} | "
              f"{pick(s[2] for s in scores):.3f} |")
    print()


def _kit_precision(labels: list[int], truth: list[str], kit: int) -> float:
    """Pairwise precision over the pairs put together that hold at least one kit face (the first
    `kit`): a stranger joined to a kit person counts against it, two strangers together do not."""
    pairs = [(a, b) for a in range(kit) for b in range(a + 1, len(labels)) if labels[a] == labels[b]]
    return sum(truth[a] == truth[b] for a, b in pairs) / len(pairs) if pairs else 1.0


def _person_precision(labels: list[int], truth: list[str], identities: set[str]) -> float:
    """The worst `--person` precision among the people who are mostly one of `identities`: of all their
    faces (stricter than of their first ten, which could hide strangers), the share of that identity."""
    worst = 1.0
    for label, size in Counter(labels).items():
        members = [identity for identity, group in zip(truth, labels, strict=True) if group == label]
        main, _ = Counter(members).most_common(1)[0]
        if size < 2 or main not in identities:
            continue
        worst = min(worst, Counter(members)[main] / len(members))
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
