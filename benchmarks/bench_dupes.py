"""Duplicate finding quality and speed: photo-search against imagededup (PHash, CNN) on the same photos.

Two measurements, both with ground truth, all tools in the same run:
1. the real library `../shared/photos` (every file of it, so every pair of it counts): ground
   truth is `near_duplicates/pairs.csv` (exact and near relations; bursts, stereo and HDR
   re-takes are *similar*, must not be reported), extended by what inventory.csv says (files
   with the same source file are copies) and the photo families the messy kit derives from one
   picture. Pair-level precision and recall, plus how many similar pairs were wrongly reported.
2. generated edits plus look-alikes without EXIF: a folder of originals from `retrieval/` and every
   edit kind of `edits` written as JPEG files (quality 92), beside the look-alike set of
   `tests/lookalikes.py` (street views a step apart, bursts, re-takes, HDR on/off, a stereo pair,
   same-pose objects, all with their metadata dropped); same-original pairs are positives, every
   other pair (look-alikes included) a negative.
Usage: python benchmarks/bench_dupes.py [--sample 30] [--seed 7] [--edits-only]
(--seed 7 draws the originals the verifier was tuned on; any other seed draws other originals: a
held-out set of the same kind. --edits-only skips the real library and the peers.)
imagededup runs in its own virtual environment under data/bench/ (made on first use).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from lookalikes import ALL as LOOKALIKES
from lookalikes import KNOWN_COPIES, write_exif_free

from helpers.duplicates.edits import EDITS

BENCH = HERE.parent / "data" / "bench"
TUNING_SEED = 7  # the originals (30 of them) the verifier's settings were chosen on
DEDUP_VENV = BENCH / "dedup-venv"
TESTDATA = Path(os.environ.get("PHOTO_SEARCH_TESTDATA", HERE.parents[1] / "shared" / "photos"))
SIMILAR_RELATIONS = ("burst", "stereo", "26 s later")
# Photos the messy kit made from one picture under different names (inventory notes say so).
FAMILIES = (r"(^|/)hopper[^/]*$", r"wikimedia_portrait_\d\.jpg$", r"wikimedia_landscape_\d\.jpg$")
# Copies found by looking at every reported pair by eye: Caltech-101 holds a few re-used web images.
REVIEWED = (("retrieval/caltech101/grand_piano/image_0004.jpg", "retrieval/caltech101/grand_piano/image_0006.jpg"),
            ("retrieval/caltech101/grand_piano/image_0006.jpg", "retrieval/caltech101/grand_piano/image_0014.jpg"),
            ("retrieval/caltech101/lotus/image_0006.jpg", "retrieval/caltech101/lotus/image_0015.jpg"),
            ("retrieval/caltech101/buddha/image_0012.jpg", "retrieval/caltech101/buddha/image_0013.jpg"),
            ("retrieval/caltech101/stop_sign/image_0001.jpg", "retrieval/caltech101/stop_sign/image_0005.jpg"),
            ("retrieval/caltech101/stop_sign/image_0011.jpg", "retrieval/caltech101/stop_sign/image_0014.jpg"),
            ("retrieval/caltech101/grand_piano/image_0002.jpg", "retrieval/caltech101/grand_piano/image_0007.jpg"))

IMAGEDEDUP = r"""
import json, sys, time
from pathlib import Path
from imagededup.methods import PHash, CNN
folder, method = Path(sys.argv[1]), sys.argv[2]
start = time.perf_counter()
try:
    finder = PHash() if method == "phash" else CNN()
    found = finder.find_duplicates(image_dir=folder, recursive=True) if method == "phash" else \
        finder.find_duplicates(image_dir=folder, recursive=True, min_similarity_threshold=0.9)
    pairs = [[a, b] for a, bs in found.items() for b in bs]
    print(json.dumps({"pairs": pairs, "seconds": time.perf_counter() - start}))
except Exception as error:
    print(json.dumps({"error": f"{type(error).__name__}: {str(error)[:160]}"}))
"""


def clusters_from_truth(paths: list[str]) -> tuple[dict[str, str], set[frozenset[str]]]:
    """path -> cluster name (copies of one photo share it), and the similar pairs."""
    parent = {p: p for p in paths}

    def find(p: str) -> str:
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    def join(a: str, b: str) -> None:
        if a in parent and b in parent:
            parent[find(a)] = find(b)

    similar = set()
    with open(TESTDATA / "near_duplicates" / "pairs.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if any(word in row["relation"] for word in SIMILAR_RELATIONS):
                similar.add(frozenset((row["original"], row["copy"])))
            else:
                join(row["original"], row["copy"])
    by_source: dict[tuple[str, ...], list[str]] = {}
    with open(TESTDATA / "inventory.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            by_source.setdefault((row["source"], row["source_path"]), []).append(row["path"])
            by_source.setdefault(("sha256", row["sha256"]), []).append(row["path"])
    for members in by_source.values():
        for other in members[1:]:
            join(members[0], other)
    for pattern in FAMILIES:
        family = [p for p in paths if re.search(pattern, p)]
        for other in family[1:]:
            join(family[0], other)
    for a, b in REVIEWED:
        join(a, b)
    return {p: find(p) for p in paths}, similar


def positive_pairs(cluster: dict[str, str]) -> set[frozenset[str]]:
    members: dict[str, list[str]] = {}
    for path, name in cluster.items():
        members.setdefault(name, []).append(path)
    return {frozenset(pair) for group in members.values() for pair in itertools.combinations(group, 2)}


def our_pairs(index_dir: Path, threshold: float | None) -> tuple[set[frozenset[str]], float, float]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "helpers", "dupes", "--index", str(index_dir), "--json"]
                         + (["--threshold", str(threshold)] if threshold is not None else []),
                         capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    report = json.loads(out.stdout)
    pairs = set()
    for group in report["groups"]:
        paths = [group["keep"]] + [m["path"] for m in group["members"]]
        pairs |= {frozenset(pair) for pair in itertools.combinations(paths, 2)}
    return pairs, seconds, report["threshold"]


def imagededup_pairs(folder: Path, method: str) -> tuple[set[frozenset[str]] | None, float, str]:
    if not (DEDUP_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(DEDUP_VENV)], check=True)
        subprocess.run([str(DEDUP_VENV / "bin" / "pip"), "install", "-q", "imagededup==0.3.3.post2"], check=True)
    start = time.perf_counter()
    out = subprocess.run([str(DEDUP_VENV / "bin" / "python"), "-c", IMAGEDEDUP, str(folder), method],
                         capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    result = json.loads(lines[-1]) if lines else {"error": out.stderr.strip().splitlines()[-1][:160]}
    if "error" in result:
        return None, seconds, result["error"]
    return {frozenset(pair) for pair in result["pairs"]}, seconds, ""


def score(found: set[frozenset[str]], truth: set[frozenset[str]], similar: set[frozenset[str]]) -> dict:
    hits = len(found & truth)
    return {"precision": hits / len(found) if found else 1.0, "recall": hits / len(truth) if truth else 1.0,
            "reported": len(found), "similar_reported": len(found & similar)}


def index_folder(folder: Path, index_dir: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "helpers", "index", str(folder), "--index", str(index_dir),
                    "--model", "efficientnet-lite0", "--json"], capture_output=True, check=True)
    return time.perf_counter() - start


def edits_folder(target: Path, sample: int, seed: int = TUNING_SEED) -> None:
    """Originals from retrieval/ and every edit kind of each (decoded, then saved as JPEG files),
    and the EXIF-free look-alikes under lookalikes/."""
    from helpers.duplicates.edits import edited_copies
    from helpers.images import LoadOptions, load_photo

    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    pool = sorted(p for p in (TESTDATA / "retrieval").rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")
                  and "full_resolution" not in p.parts and str(p.relative_to(TESTDATA)) not in LOOKALIKES)
    if seed != TUNING_SEED:  # held out: none of the originals the verifier was tuned on
        tuned = set(random.Random(TUNING_SEED).sample(pool, 30))
        pool = [path for path in pool if path not in tuned]
    for number, path in enumerate(random.Random(seed).sample(pool, sample)):
        original = load_photo(path, LoadOptions(min_side=512)).image
        folder = target / f"photo{number:02d}"
        folder.mkdir()
        original.save(folder / "original.jpg", quality=95)
        for name, copy in edited_copies(original, seed=number, kinds=list(EDITS)).items():
            copy.save(folder / (_file_name(name) + ".jpg"), quality=92)
        shot = time.time() - 86400  # the original is a day older than its copies, as in a real folder
        os.utime(folder / "original.jpg", (shot, shot))
    write_exif_free(TESTDATA, target / "lookalikes")


def _file_name(edit: str) -> str:
    return edit.replace(" ", "_").replace("%", "pc").replace("+", "and")


def edits_truth(files: list[str]) -> set[frozenset[str]]:
    """Copies of one original share its folder; the look-alikes are each their own photo, except
    the few that are copies after all."""
    cluster = {p: p.split("/")[0] if not p.startswith("lookalikes/") else p for p in files}
    known = {frozenset(f"lookalikes/{p}" for p in pair) for pair in KNOWN_COPIES}
    return positive_pairs(cluster) | known


def report(title: str, rows: list[tuple[str, dict | None, float, str]]) -> None:
    print(f"\n{title}\n")
    print("| tool | precision | recall | pairs reported | similar pairs reported | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, result, seconds, note in rows:
        if result is None:
            print(f"| {name} | - | - | - | - | could not run: {note} |")
        else:
            print(f"| {name} | {result['precision']:.3f} | {result['recall']:.3f} | {result['reported']} | "
                  f"{result['similar_reported']} | {seconds:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=30, help="originals in the generated-edits folder")
    parser.add_argument("--threshold", type=float, default=None, help="override the stored threshold")
    parser.add_argument("--seed", type=int, default=TUNING_SEED,
                        help="which originals: 7 draws the tuning set, others draw held-out ones")
    parser.add_argument("--edits-only", action="store_true", help="only the generated edits, only photo-search")
    args = parser.parse_args()
    if not args.edits_only:
        real_library(args.threshold)
    generated_edits(args.sample, args.seed, args.threshold, peers=not args.edits_only)


def real_library(threshold_override: float | None) -> None:
    """Measurement 1: every file of ../shared/photos against its ground truth, beside imagededup."""

    library_index = BENCH / "index-photos"
    index_seconds = index_folder(TESTDATA, library_index)
    from helpers.index import PhotoIndex

    with PhotoIndex.open(library_index) as index:
        paths = [row.path for row in index.photo_rows()]
    cluster, similar = clusters_from_truth(paths)
    truth = positive_pairs(cluster)
    ours, seconds, threshold = our_pairs(library_index, threshold_override)
    rows = [(f"photo-search dupes (threshold {threshold})", score(ours, truth, similar), seconds, "")]
    for method in ("phash", "cnn"):
        found, took, error = imagededup_pairs(TESTDATA, method)
        rows.append((f"imagededup {method}", score(found, truth, similar) if found is not None else None, took, error))
    report(f"Real library: {len(paths)} photos, {len(truth)} duplicate pairs, {len(similar)} similar pairs "
           f"(indexing took {index_seconds:.0f} s)", rows)
    for pair in sorted(tuple(sorted(p)) for p in ours - truth):
        print(f"  reported, not in the ground truth: {pair[0]} ~ {pair[1]}")
    for pair in sorted(tuple(sorted(p)) for p in truth - ours):
        print(f"  missed: {pair[0]} ~ {pair[1]}")


def generated_edits(sample: int, seed: int, threshold_override: float | None, *, peers: bool) -> None:
    """Measurement 2: every edit kind of `sample` originals, beside EXIF-free look-alikes."""
    folder = BENCH / "edits"
    edits_folder(folder, sample, seed)
    edits_index = BENCH / "index-edits"
    shutil.rmtree(edits_index, ignore_errors=True)
    index_folder(folder, edits_index)
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    truth = edits_truth(files)
    ours, seconds, threshold = our_pairs(edits_index, threshold_override)
    rows = [(f"photo-search dupes (threshold {threshold})", score(ours, truth, set()), seconds, "")]
    for method in ("phash", "cnn") if peers else ():
        found, took, error = imagededup_pairs(folder, method)
        rows.append((f"imagededup {method}", score(found, truth, set()) if found is not None else None, took, error))
    originals = sorted({p.split("/")[0] for p in files if not p.startswith("lookalikes/")})
    lookalikes = [p for p in files if p.startswith("lookalikes/")]
    report(f"Generated edits and look-alikes (originals drawn with seed {seed}): {len(originals)} originals x "
           f"{len(list(EDITS))} edits, "
           f"{len(lookalikes)} look-alikes without EXIF, {len(truth)} duplicate pairs", rows)
    wrong = sorted(tuple(sorted(p)) for p in ours - truth)
    print(f"\nlook-alike pairs reported as copies: {sum(all(x.startswith('lookalikes/') for x in p) for p in wrong)}")
    for pair in wrong:
        print(f"  reported, not a copy: {pair[0]} ~ {pair[1]}")
    found = {kind: sum(frozenset((f"{g}/original.jpg", f"{g}/{_file_name(kind)}.jpg")) in ours
                       for g in originals) / len(originals) for kind in list(EDITS)}
    print("\nphoto-search, copies grouped with their original, by edit kind:\n")
    print("| edit | recall |\n|---|---:|")
    for kind, recall in sorted(found.items(), key=lambda kv: kv[1]):
        print(f"| {kind} | {recall:.3f} |")
    print(f"\nall kinds: {sum(found.values()) / len(found):.3f}")


if __name__ == "__main__":
    main()
