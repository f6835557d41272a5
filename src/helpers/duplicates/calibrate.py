"""Choose the duplicate thresholds on a person's own photos, from edited copies made in memory.

A threshold that works on one library and one model is wrong on another: how alike two
different photos look depends on what is in the library. So: take a sample of the library,
make edited copies of each (`edits`), and score every copy against its original (should be
found) and against the original's closest look-alikes in the library (should not). The
precision-recall curve over those scores gives the lowest threshold that still reaches the
target precision; it is stored in the index, where `photo-search dupes` picks it up.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..embedding import embed_images
from ..errors import BadInput, PhotoSkipped
from ..images import LoadOptions, load_photo, make_thumbnail
from ..index import PhotoIndex
from ..models import Embedder
from ..progress import progress_bar
from .edits import EDITS, edited_copies
from .settings import CALIBRATION, DEFAULT_CANDIDATE_COSINE, DEFAULT_SIGNATURE_COSINE, DEFAULT_THRESHOLD, Settings
from .store import STAGE as COPIES
from .store import CopyStore
from .verify import Fingerprint, Verdict, fingerprint, turn_free_signature, verify_both

LOOK_ALIKES = 5  # library photos each copy is checked against as a hard negative
# A look-alike that verifies against the original at the default threshold is taken for a real copy,
# not a negative: libraries hold copies, and counting them as false alarms would push the threshold
# up to 1.0 (measured on ../shared/photos, where the default separates 444 hard look-alikes, <= 0.58).
SAME_PHOTO = DEFAULT_THRESHOLD
WORKING_SIDE = 512  # originals are decoded to this short side: edits and thumbnails need no more
CURVE_THRESHOLDS = np.round(np.arange(0.2, 1.0001, 0.01), 2)  # low enough to show where look-alikes start to pass
TURNS = ("rotate 90", "rotate 180", "rotate 270")  # the edits that embeddings do not catch


@dataclass(frozen=True)
class Scored:
    """One scored pair: an edited copy against a photo (its original when `same`)."""

    photo: str  # the original's path
    edit: str
    same: bool
    score: float  # verification score
    cosine: float  # embedding similarity
    signature: float  # turn-free signature similarity


@dataclass
class Calibration:
    settings: Settings
    target_precision: float
    precision: float
    recall: float
    recall_by_edit: dict[str, float]
    curve: list[tuple[float, float, float]]  # (threshold, precision, recall)
    sample: int
    pairs: list[Scored] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self.settings), "target_precision": self.target_precision,
                "precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "recall_by_edit": {k: round(v, 4) for k, v in self.recall_by_edit.items()},
                "curve": [[round(t, 4), round(p, 4), round(r, 4)] for t, p, r in self.curve],
                "sample": self.sample}


def score_edits(index: PhotoIndex, embedder: Embedder, *, sample: int = 20, seed: int = 0,
                look_alikes: int = LOOK_ALIKES, show_progress: bool = False) -> list[Scored]:
    """Edited copies of `sample` library photos, scored against their originals and against up to
    `look_alikes` of each original's closest photos (most of the cost: 0 scores the copies alone,
    for a caller that brings its own negatives, such as `library_pairs`)."""
    root = index.photos_root
    if root is None or not root.is_dir():
        raise BadInput("calibration needs the photo folder the index was built from; it is not reachable")
    rows = index.photo_rows()
    _, vectors = index.load_vectors()
    vectors = vectors.astype(np.float32)
    chosen = random.Random(seed).sample(range(len(rows)), min(sample, len(rows)))
    scored: list[Scored] = []
    for position in progress_bar(chosen, unit="photo", desc="calibrating", enabled=show_progress):
        try:
            original = load_photo(root / rows[position].path, LoadOptions(min_side=WORKING_SIDE)).image
        except PhotoSkipped:
            continue
        scored += _score_copies(index, rows, vectors, position, original, embedder, seed, wanted=look_alikes)
    return scored


def _score_copies(index, rows, vectors, position, original, embedder, seed, wanted) -> list[Scored]:
    copies = edited_copies(original, seed=seed + position)
    copy_vectors = embed_images(list(copies.values()), embedder)
    original_thumbnail = index.thumbnail(rows[position].id) or make_thumbnail(original)  # what `dupes` reads
    original_print, original_signature = fingerprint(original_thumbnail), turn_free_signature(original_thumbnail)
    look_alikes = _look_alikes(index, rows, vectors, position, original_print, wanted)
    # The look-alikes themselves are the pairs `dupes` must not report: score them as they are.
    scored = [Scored(rows[position].path, "library look-alike", False, score,
                     float(vectors[other] @ vectors[position]), 0.0) for other, _, score in look_alikes]
    for (name, copy), vector in zip(copies.items(), copy_vectors, strict=True):
        thumbnail = make_thumbnail(copy)
        copy_print, signature = fingerprint(thumbnail), turn_free_signature(thumbnail)
        scored.append(Scored(rows[position].path, name, True, verify_both(original_print, copy_print).score,
                             float(vector @ vectors[position]), float(signature @ original_signature)))
        for other, other_print, _ in look_alikes:
            scored.append(Scored(rows[position].path, name, False, verify_both(other_print, copy_print).score,
                                 float(vector @ vectors[other]), 0.0))
    return scored


def _look_alikes(index, rows, vectors, position, original_print, wanted):
    """The original's `wanted` closest library photos that are not copies of it (same bytes, or
    verified), as (position, fingerprint, verification score against the original)."""
    order = np.argsort(-(vectors @ vectors[position]))
    found = []
    for other in order[1:]:
        if len(found) == wanted:
            break
        if rows[other].content_hash == rows[position].content_hash:
            continue
        thumbnail = index.thumbnail(rows[other].id)
        if thumbnail is None:
            continue
        other_print = fingerprint(thumbnail)
        score = verify_both(original_print, other_print).score
        if score < SAME_PHOTO:
            found.append((int(other), other_print, score))
    return found


def library_pairs(index: PhotoIndex, copy_of: Mapping[str, str]) -> list[Scored]:
    """The library's own candidate pairs (those the copies stage found), each scored on its stored
    thumbnails by the pixels alone, and labelled by a known truth: `copy_of` maps a path to the
    photo it is a copy of (itself for an original); photos it does not name are left out. Real
    copies and real look-alikes (re-takes a step apart, two pairs of trousers on one floor) are the
    hardest test a threshold can get, and cost nothing to find: the stage already stored them. An
    index whose copies stage never ran has none."""
    if not index.has_tables(COPIES):
        return []
    rows = {row.id: row for row in index.photo_rows()}
    prints: dict[int, Fingerprint] = {}

    def print_of(photo_id: int) -> Fingerprint:
        if photo_id not in prints:
            prints[photo_id] = fingerprint(index.thumbnail(photo_id) or b"")
        return prints[photo_id]

    scored = []
    for a, b, cosine, evidence in CopyStore(index).pairs():
        first, second = rows[a].path, rows[b].path
        if first not in copy_of or second not in copy_of:
            continue
        # Evidence stored from one direction only (refused early) is the finder's own score; pairs a
        # camera's clock decided were never looked at, so their pixels are compared now.
        score = Verdict.from_json(evidence).score if evidence else verify_both(print_of(a), print_of(b)).score
        same = copy_of[first] == copy_of[second]
        scored.append(Scored(first, "library copy" if same else "library look-alike", same, score, cosine, 0.0))
    return scored


def choose(scored: list[Scored], target_precision: float = 0.99) -> Calibration:
    """Thresholds from scored pairs: candidate cut-offs that keep (almost) every copy, then the
    lowest verification threshold whose precision reaches the target."""
    if not any(s.same for s in scored):
        raise BadInput("no photo of the sample could be decoded; calibration needs readable photos")
    plain = [s.cosine for s in scored if s.same and s.edit not in TURNS]
    turned = [s.signature for s in scored if s.same and s.edit in TURNS]
    candidate_cosine = float(np.clip(np.quantile(plain, 0.01) - 0.02, 0.3, DEFAULT_CANDIDATE_COSINE))
    signature_cosine = float(np.clip(np.quantile(turned, 0.01) - 0.005, 0.9, DEFAULT_SIGNATURE_COSINE)) \
        if turned else DEFAULT_SIGNATURE_COSINE

    def found(s: Scored, threshold: float) -> bool:
        candidate = s.cosine >= candidate_cosine or (s.same and s.signature >= signature_cosine)
        return candidate and s.score >= threshold

    curve = precision_recall(scored, found, CURVE_THRESHOLDS)
    # Never below the default: it was measured against hundreds of hard look-alikes, more than a
    # sample of one library holds, so a sample can raise the threshold but not lower it.
    meeting = [point for point in curve if point[1] >= target_precision and point[0] >= DEFAULT_THRESHOLD]
    threshold, precision, recall = meeting[0] if meeting else curve[-1]
    by_edit = {name: float(np.mean([found(s, threshold) for s in scored if s.same and s.edit == name]))
               for name in EDITS if any(s.same and s.edit == name for s in scored)}
    settings = Settings(threshold, round(candidate_cosine, 4), round(signature_cosine, 4))
    return Calibration(settings, target_precision, precision, recall, by_edit, curve,
                       len({s.photo for s in scored}), scored)


def precision_recall(scored: list[Scored], found: Callable[[Scored, float], bool],
                     thresholds: Iterable[float]) -> list[tuple[float, float, float]]:
    """(threshold, precision, recall) of a decision rule over scored pairs, for each threshold."""
    copies = sum(s.same for s in scored)
    curve = []
    for threshold in thresholds:
        hits = sum(found(s, threshold) for s in scored if s.same)
        false = sum(found(s, threshold) for s in scored if not s.same)
        curve.append((float(threshold), float(hits / (hits + false)) if hits + false else 1.0,
                      float(hits / max(copies, 1))))
    return curve


def cosine_only(scored: Scored, threshold: float) -> bool:
    """The course's first idea, for comparison: a pair is a duplicate when its embeddings are close."""
    return scored.cosine >= threshold


def calibrate(index: PhotoIndex, embedder: Embedder, *, sample: int = 20, target_precision: float = 0.99,
              seed: int = 0, save: bool = True, show_progress: bool = False) -> Calibration:
    """Measure, choose and (unless `save=False`) store the thresholds in the index config."""
    calibration = choose(score_edits(index, embedder, sample=sample, seed=seed, show_progress=show_progress),
                         target_precision)
    if save:
        store(index, calibration)
    return calibration


def store(index: PhotoIndex, calibration: Calibration) -> None:
    """Keep a calibration in the index: `dupes` then uses its threshold unless told otherwise."""
    index.set_stage_state(CALIBRATION, calibration.as_dict())
