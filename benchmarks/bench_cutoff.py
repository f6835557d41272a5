"""The automatic "no close matches" cutoff, measured the way a person meets it.

For each split of ../shared/photos/retrieval: five subjects are left out of the library, and three
new photos of every other category subject are held out as queries. Absent-subject queries should
find nothing; present-subject queries should keep the relevant photos that showing everything would
have shown in the top 10. Offline model (efficientnet-lite0). Usage: python benchmarks/bench_cutoff.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
TESTDATA = Path(os.environ.get("PHOTO_SEARCH_TESTDATA", HERE.parents[1] / "shared" / "photos"))

from test_relevance import ABSENT, held_out_split  # the test's own split, so both measure alike

from helpers.evaluate import evaluate_cutoff
from helpers.indexer import update_index
from helpers.models import load_model
from helpers.search import Library

SPLITS = [
    ABSENT,
    ["caltech101:airplanes", "caltech101:buddha", "caltech101:crab", "caltech101:laptop", "caltech101:grand_piano"],
    ["caltech101:Motorbikes", "caltech101:dragonfly", "caltech101:elephant", "caltech101:helicopter",
     "caltech101:car_side"],
    ["caltech101:Motorbikes", "caltech101:dragonfly", "caltech101:elephant", "caltech101:helicopter",
     "clothing:dress"],
]


def main() -> None:
    model = load_model("efficientnet-lite0")
    retrieval = TESTDATA / "retrieval"
    print("| subjects left out | absent queries | answered with nothing | relevant photos shown (no cutoff) "
          "| still shown with the cutoff | cutoff (hit / floor) |\n|---|---:|---:|---:|---:|---|")
    for absent in SPLITS:
        groups, present, absent_queries = held_out_split(retrieval, absent)
        with tempfile.TemporaryDirectory() as work:
            root = Path(work)
            for path in groups:
                (root / "photos" / path).parent.mkdir(parents=True, exist_ok=True)
                (root / "photos" / path).symlink_to(retrieval / path)
            update_index(root / "photos", root / "index", embedder=model)
            library = Library.open(root / "index")
            report = evaluate_cutoff(library, groups, present, absent_queries)
            cutoff = library.cutoff
            names = ", ".join(name.split(":")[1] for name in absent)
            print(f"| {names} | {report.absent_queries} | {report.absent_empty:.2f} | {report.relevant_shown} | "
                  f"{report.relevant_kept:.2f} | {cutoff.hit:.3f} / {cutoff.floor:.3f} |" if cutoff else "")


if __name__ == "__main__":
    main()
