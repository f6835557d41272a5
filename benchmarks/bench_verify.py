"""Verification scores alone: edited copies against their originals, and hard look-alikes.

Positives: every edit of the generated-edits folder against its original and against its darker
copy (a keeper is not always the original). Negatives: all pairs of four Caltech-101 classes shot on
plain backdrops in the same poses (Motorbikes, stop signs, car sides, pianos), consecutive street views
of one place, a burst, a stereo pair and two views of one square, minus the copies Caltech itself holds.
Prints recall and false pairs at each threshold. Needs the indexes `bench_dupes.py` builds.
Usage: python benchmarks/bench_verify.py
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from helpers.duplicates.verify import fingerprint, verify_both
from helpers.index import PhotoIndex

BENCH = Path(__file__).resolve().parents[1] / "data" / "bench"
CALTECH = "retrieval/caltech101/{}/image_{:04d}.jpg"
KNOWN_COPIES = {frozenset((CALTECH.format(cls, a), CALTECH.format(cls, b))) for cls, a, b in (
    ("grand_piano", 4, 6), ("grand_piano", 6, 14), ("grand_piano", 4, 14), ("grand_piano", 2, 7), ("stop_sign", 1, 5),
    ("stop_sign", 11, 14))}
SCENE_PAIRS = (("retrieval/full_resolution/holidays_100000.jpg", "retrieval/full_resolution/holidays_100001.jpg"),
               ("retrieval/distractors/skimage/motorcycle_left.png",
                "retrieval/distractors/skimage/motorcycle_right.png"),
               ("retrieval/scenes/opensfm_berlin/01.jpg", "retrieval/scenes/opensfm_berlin/02.jpg"))


def main() -> None:
    edits, library = PhotoIndex.open(BENCH / "index-edits"), PhotoIndex.open(BENCH / "index-photos")
    edit_rows = {row.path: row for row in edits.photo_rows()}
    library_rows = {row.path: row for row in library.photo_rows()}
    positives = []
    for group in sorted({path.split("/")[0] for path in edit_rows} - {"lookalikes"}):
        for path in sorted(p for p in edit_rows if p.startswith(group + "/") and not p.endswith("original.jpg")):
            positives += [(("e", f"{group}/original.jpg"), ("e", path))]
            if not path.endswith("darker.jpg"):
                positives += [(("e", f"{group}/darker.jpg"), ("e", path))]
    negatives = []
    for cls in ("Motorbikes", "stop_sign", "car_side", "grand_piano"):
        photos = [CALTECH.format(cls, n) for n in range(1, 16) if CALTECH.format(cls, n) in library_rows]
        negatives += [(("l", a), ("l", b)) for a, b in itertools.combinations(photos, 2)
                      if frozenset((a, b)) not in KNOWN_COPIES]
    street = [p for p in (f"retrieval/scenes/opensfm_lund/{n:02d}.jpg" for n in range(1, 29)) if p in library_rows]
    negatives += [(("l", a), ("l", b)) for a, b in itertools.pairwise(street)]
    negatives += [(("l", a), ("l", b)) for a, b in SCENE_PAIRS]

    needed = {side for pair in positives + negatives for side in pair}
    thumbnails = {key: (edits if key[0] == "e" else library).thumbnail(
        (edit_rows if key[0] == "e" else library_rows)[key[1]].id) for key in needed}
    with ThreadPoolExecutor(2) as pool:
        prints = dict(zip(thumbnails, pool.map(fingerprint, thumbnails.values())))
        positive = np.array(list(pool.map(lambda p: verify_both(prints[p[0]], prints[p[1]]).score, positives)))
        negative = np.array(list(pool.map(lambda p: verify_both(prints[p[0]], prints[p[1]]).score, negatives)))
    print(f"{len(positives)} edit pairs, {len(negatives)} look-alike pairs\n")
    print("| threshold | recall of edits | look-alike pairs above |\n|---:|---:|---:|")
    for threshold in (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9):
        print(f"| {threshold} | {np.mean(positive >= threshold):.3f} | {int((negative >= threshold).sum())} |")
    print(f"\nhighest look-alike score: {negative.max():.2f}")


if __name__ == "__main__":
    main()
