"""One slot per photo right after a single `index`: a library of originals, three edited copies of
each (kinds drawn from the edits people make before sharing) and unrelated photos; each original is
queried from outside (re-saved) and must come back as one result with its copies under `also`.

Originals are COCO photos of ../shared/photos/retrieval, the others the rest of that folder; a new
draw per seed, so report the worst seed. Usage: python benchmarks/bench_folding.py [--seeds 1 2 3]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
from pathlib import Path

from PIL import Image

from helpers.duplicates.edits import edited_copies
from helpers.index import PhotoIndex
from helpers.indexer import update_index
from helpers.models import load_model
from helpers.search import Library, Term

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent / "data" / "bench"
RETRIEVAL = Path(os.environ.get("PHOTO_SEARCH_TESTDATA", HERE.parents[1] / "shared" / "photos")) / "retrieval"
KINDS = ["tilt 2-5", "keystone", "crop 20% off-centre", "sepia", "vignette", "white border", "screenshot",
         "tiny 240px", "jpeg q15", "mirror + crop"]
ORIGINALS, OTHERS, COPIES = 19, 100, 3


def build(root: Path, seed: int) -> dict[int, set[str]]:
    """The library under root/photos, outside queries root/query-N.jpg; each original's family of paths."""
    shutil.rmtree(root, ignore_errors=True)
    library = root / "photos"
    for folder in ("originals", "copies", "other"):
        (library / folder).mkdir(parents=True)
    rng = random.Random(seed)
    coco = sorted(RETRIEVAL.rglob("coco_captions/**/*.jpg"))
    rest = sorted(path for path in RETRIEVAL.rglob("*.jpg")
                  if "full_resolution" not in path.parts and "coco_captions" not in path.parts)
    rng.shuffle(coco)
    rng.shuffle(rest)
    families = {}
    for number, source in enumerate(coco[:ORIGINALS]):
        image = Image.open(source).convert("RGB")
        image.save(library / "originals" / f"o{number:02d}.jpg", quality=92)
        image.save(root / f"query-{number:02d}.jpg", quality=80)
        family = {f"originals/o{number:02d}.jpg"}
        for kind, copy in edited_copies(image, seed=number, kinds=rng.sample(KINDS, COPIES)).items():
            name = f"copies/o{number:02d} {kind.replace('%', '')}.jpg"
            copy.convert("RGB").save(library / name, quality=88)
            family.add(name)
        families[number] = family
    for number, source in enumerate(rest[:OTHERS]):
        shutil.copy(source, library / "other" / f"{number:03d} {source.name}")
    return families


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    embedder = load_model("efficientnet-lite0")
    print("| seed | queries | crowded (a family in two or more slots) | grouped (one slot, every copy in also) "
          "| copies s | model s |\n|---:|---:|---:|---:|---:|---:|")
    for seed in args.seeds:
        root = BENCH / f"folding-{seed}"
        families = build(root, seed)
        summary = update_index(root / "photos", root / "index", embedder=embedder)
        crowded = grouped = 0
        with PhotoIndex.open(root / "index") as index:
            library = Library(index)
            for number, family in families.items():
                query = Term("path", str(root / f"query-{number:02d}.jpg"))
                results = library.search(query, k=10, min_score=0).results
                slots = [r for r in results if r.photo.path in family]
                shown = {path for r in slots for path in (r.photo.path, *(item["path"] for item in r.also))}
                crowded += len(slots) > 1
                grouped += len(slots) == 1 and shown == family
        stages = summary.stages.as_dict()
        print(f"| {seed} | {len(families)} | {crowded} | {grouped} | {stages['copies']:.2f} | {stages['model']:.2f} |")


if __name__ == "__main__":
    main()
