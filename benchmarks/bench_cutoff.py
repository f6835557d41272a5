"""The automatic "no close matches" cutoff, measured the way a person meets it, on several splits.

Each split of ../shared/photos/retrieval leaves some subjects out of the library, holds out three new
photos of every other category subject as queries, and keeps a library of a given size (100 to about
400 photos: what is left is sampled down). Absent-subject queries should find nothing; present-subject
queries should keep the relevant photos that showing everything would have shown in the top 10. Two
splits leave out subjects whose close look-alikes stay (a helicopter among aeroplanes, a car among
motorbikes, trousers among shorts). The worst split is reported beside the median, with the cost of
the cutoff per query, and the ceiling: the best that any single "best match" threshold could reach on
that split, chosen with the answers known (no cutoff measured on the library alone can beat it).
A second table does the same for text queries, with what the offline model can read: the ImageNet
label that names each subject ("wallaby" for the kangaroos, "airliner" for the aeroplanes), whose own
cutoff (`relevance.measure_text`) should answer a name of an absent subject with nothing.
Offline model (efficientnet-lite0). Usage: python benchmarks/bench_cutoff.py
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
TESTDATA = Path(os.environ.get("PHOTO_SEARCH_TESTDATA", HERE.parents[1] / "shared" / "photos"))

from test_relevance import ABSENT, held_out_split  # the test's own split, so both measure alike

from helpers.evaluate import CutoffReport, evaluate_cutoff
from helpers.indexer import update_index
from helpers.models import Embedder, load_model
from helpers.search import Library, Term

CALTECH = "caltech101:"
# Each subject as the offline model can read it: a name among its ImageNet labels (subjects it has no
# label for, such as lotus or buddha, cannot be asked for in words offline).
TEXT_NAMES = {CALTECH + "kangaroo": "wallaby", CALTECH + "schooner": "schooner", CALTECH + "pizza": "pizza",
              CALTECH + "stop_sign": "street sign", CALTECH + "grand_piano": "grand piano", CALTECH + "crab": "crab",
              CALTECH + "laptop": "laptop", CALTECH + "airplanes": "airliner", CALTECH + "elephant": "elephant",
              CALTECH + "dragonfly": "dragonfly", CALTECH + "Motorbikes": "moped", CALTECH + "car_side": "sports car",
              "clothing:shirt": "jersey", "clothing:pants": "jean"}
SPLITS: list[tuple[list[str], int]] = [  # (subjects left out, library size; 0: all that is left)
    (ABSENT, 0),
    ([CALTECH + name for name in ("airplanes", "buddha", "crab", "laptop", "grand_piano")], 100),
    ([CALTECH + name for name in ("Motorbikes", "dragonfly", "elephant", "lotus")], 200),
    ([CALTECH + name for name in ("pizza", "schooner", "stop_sign", "kangaroo")] + ["clothing:shirt"], 300),
    ([CALTECH + name for name in ("buddha", "grand_piano", "elephant", "laptop")], 400),
    ([CALTECH + name for name in ("helicopter", "car_side", "crab")] + ["clothing:pants"], 0),  # look-alikes stay
    ([CALTECH + name for name in ("helicopter", "car_side", "kangaroo", "dragonfly")], 250),  # look-alikes stay
]


def sampled(groups: dict[str, str], size: int, seed: int) -> dict[str, str]:
    """The library cut down to `size` photos (all of it for 0)."""
    if not size or size >= len(groups):
        return groups
    return {path: groups[path] for path in random.Random(seed).sample(sorted(groups), size)}


def ceiling(library: Library, groups: dict[str, str], present: dict[Path, str], absent: list[Path]) -> float:
    """The best min(absent answered with nothing, relevant kept) one best-match threshold reaches."""
    absent_best = np.array([_best(library, path) for path in absent])
    present_best, relevant = [], []
    for path, subject in present.items():
        shown = library.search(Term("path", str(path)), k=10, min_score=0, collapse=False).results
        present_best.append(_best(library, path))
        relevant.append(sum(groups.get(result.photo.path) == subject for result in shown))
    best_of, counts = np.array(present_best), np.array(relevant)
    return max(min(float(np.mean(absent_best < t)), float(counts[best_of >= t].sum() / max(1, counts.sum())))
               for t in np.unique(np.concatenate([absent_best, best_of])))


def _best(library: Library, path: Path) -> float:
    """The query's plain cosine with its closest library photo (what the cutoff's gate reads)."""
    vector, _, _ = library.query_vector([Term("path", str(path))])
    return float(library.vectors.top(vector, 1, None)[1][0])


def text_report(library: Library, groups: dict[str, str], absent: list[str]) -> tuple[int, float, int, float]:
    """(absent names, share answered with nothing, relevant photos shown for present names, share kept)."""
    present = set(groups.values())
    empty = asked = shown = kept = 0
    for subject, name in TEXT_NAMES.items():
        if subject in absent:
            asked += 1
            empty += not library.search(Term("text", name), k=10, min_score="auto", collapse=False).results
        elif subject in present:
            everything = library.search(Term("text", name), k=10, min_score=0, collapse=False).results
            automatic = {r.photo.path for r in library.search(Term("text", name), k=10, min_score="auto",
                                                              collapse=False).results}
            relevant = [r.photo.path for r in everything if groups.get(r.photo.path) == subject]
            shown += len(relevant)
            kept += sum(path in automatic for path in relevant)
    return asked, empty / max(1, asked), shown, kept / max(1, shown)


def cost_ms(library: Library, queries: list[Path]) -> tuple[float, float]:
    """Median milliseconds of a photo search with and without the automatic cutoff."""
    timings: dict[str, list[float]] = {"auto": [], "none": []}
    for path in queries:
        for name, minimum in (("auto", "auto"), ("none", 0)):
            started = time.perf_counter()
            library.search(Term("path", str(path)), k=10, min_score=minimum, collapse=False)
            timings[name].append((time.perf_counter() - started) * 1000)
    return statistics.median(timings["auto"]), statistics.median(timings["none"])


def measure(model: Embedder, retrieval: Path, absent: list[str], size: int,
            seed: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    groups, present, absent_queries = held_out_split(retrieval, absent)
    groups = sampled(groups, size, seed)
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        for path in groups:
            (root / "photos" / path).parent.mkdir(parents=True, exist_ok=True)
            (root / "photos" / path).symlink_to(retrieval / path)
        update_index(root / "photos", root / "index", embedder=model, stages=("cutoff",))
        library = Library.open(root / "index")
        report: CutoffReport = evaluate_cutoff(library, groups, present, absent_queries)
        top = ceiling(library, groups, present, absent_queries)
        with_cutoff, without = cost_ms(library, absent_queries[:10] + list(present)[:10])
        cutoff, words = library.cutoff, text_report(library, groups, absent)
        text_hit = library.text_cutoff.hit if library.text_cutoff else None
    names = ", ".join(name.split(":")[1] for name in absent)
    photo_row = (names, str(len(groups)), str(report.absent_queries), f"{report.absent_empty:.2f}",
                 str(report.relevant_shown), f"{report.relevant_kept:.2f}", f"{top:.2f}",
                 f"{cutoff.hit:.3f} / {cutoff.floor:.3f}" if cutoff else "-", f"{with_cutoff:.1f} / {without:.1f}")
    text_row = (names, str(words[0]), f"{words[1]:.2f}", str(words[2]), f"{words[3]:.2f}",
                f"{text_hit:.3f}" if text_hit is not None else "-")
    return photo_row, text_row


def main() -> None:
    model = load_model("efficientnet-lite0")
    retrieval = TESTDATA / "retrieval"
    print("| subjects left out | library | absent queries | answered with nothing | relevant shown (no cutoff) "
          "| still shown | ceiling of one threshold | cutoff (hit / floor) | ms per query (cutoff / none) |\n"
          "|---|---:|---:|---:|---:|---:|---:|---|---|")
    measured = [measure(model, retrieval, absent, size, seed) for seed, (absent, size) in enumerate(SPLITS)]
    rows = [photo for photo, _ in measured]
    for row in rows:
        print("| " + " | ".join(row) + " |")
    for label, pick in (("worst", min), ("median", statistics.median)):
        empty, kept, top = (pick(float(row[column]) for row in rows) for column in (3, 5, 6))
        print(f"| **{label}** | | | **{empty:.2f}** | | **{kept:.2f}** | {top:.2f} | | |")
    print("\nText queries (ImageNet label names):\n\n| subjects left out | absent names | answered with nothing "
          "| relevant shown for present names (no cutoff) | still shown | text cutoff |\n|---|---:|---:|---:|---:|---|")
    texts = [text for _, text in measured]
    for row in texts:
        print("| " + " | ".join(row) + " |")
    for label, pick in (("worst", min), ("median", statistics.median)):
        empty, kept = (pick(float(row[column]) for row in texts if row[1] != "0") for column in (2, 4))
        print(f"| **{label}** | | **{empty:.2f}** | | **{kept:.2f}** | |")


if __name__ == "__main__":
    main()
