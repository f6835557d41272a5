"""How close is close enough: the automatic cutoff that lets a search say "no close matches".

One fixed similarity cannot work across models and libraries (CLIP's scores sit far from
EfficientNet's; a library of one family's faces is denser than a travel archive), so the cutoff is
measured on each library, from its own neighbours: how similar each photo is to its closest other
photo (copies aside). A query whose best match is less similar than a quarter of the library's
photos are to their own nearest neighbour finds nothing the library really holds; when it does hit,
results are shown down to the 5 % level of the same statistics. Measured on held-out subjects of
../shared/photos/retrieval (BENCHMARKS.md).

Text queries score on another scale (words against pictures), so they get a cutoff of their own,
measured the same way, on the library itself: how well generic words ("a dog", "a street", "a
cup of coffee") match its best photo. A text query that matches the library worse than nine in ten
of those words do names nothing the library holds. Its calibration could not be measured here (no
CLIP weights can be downloaded on the machine this was built on); the level is deliberately lenient.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .errors import NoTextEncoder
from .models import Embedder

HIT_QUANTILE = 0.25  # a query "hits" when its best match beats this share of the library's own neighbours
FLOOR_QUANTILE = 0.05  # then results are shown down to this level
SAMPLE = 2000  # photos whose nearest neighbour is measured (the quantiles settle well before)
COPY_COSINE = 0.985  # closer than this is a copy of the same photo, not a neighbour
MIN_PHOTOS = 20  # fewer photos say too little about a library to cut anything
TEXT_HIT_QUANTILE = 0.1  # a text query hits when its best match beats this share of the generic words'
# Generic subjects of personal photos, for the text cutoff (each as "a photo of ...").
TEXT_PROBES = ("a dog", "a cat", "a horse", "a bird", "a person", "a group of people", "a child", "a baby",
               "a car", "a bicycle", "a boat", "a train", "an airplane", "a street", "a building", "a church",
               "a bridge", "a shop", "a market", "a room", "a kitchen", "a chair", "a computer", "a book",
               "a cup of coffee", "food on a plate", "a cake", "a flower", "a tree", "a garden", "a forest",
               "a field", "a mountain", "a beach", "a lake", "a river", "the sea", "a sunset", "a city at night",
               "snow", "clouds in the sky", "a painting", "a toy", "a shoe", "a shirt", "a bottle", "a clock",
               "a sign", "a document", "a screenshot")
MIN_PROBES = 10  # a text model that reads fewer of the words than this gets no text cutoff


@dataclass(frozen=True)
class Cutoff:
    hit: float
    floor: float
    generation: int  # the index generation it was measured on: a changed library is measured again
    sample: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Cutoff:
        return cls(float(values["hit"]), float(values["floor"]), int(values["generation"]), int(values["sample"]))


def _best_matches(queries: np.ndarray, everything: np.ndarray, *, below: float = np.inf) -> np.ndarray:
    """Each query's highest similarity among `everything`, ignoring similarities of `below` or more;
    in blocks of rows, so memory stays flat on a large library."""
    best = np.full(len(queries), -1.0, dtype=np.float32)
    for start in range(0, len(everything), 8192):
        block = queries @ everything[start:start + 8192].T
        block[block >= below] = -1.0
        best = np.maximum(best, block.max(axis=1))
    return best


def measure(vectors: np.ndarray, generation: int, *, seed: int = 0) -> Cutoff | None:
    """The cutoff of a library, from the nearest-neighbour similarity of a sample of its photos."""
    if len(vectors) < MIN_PHOTOS:
        return None
    everything = np.asarray(vectors, dtype=np.float32)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(everything), size=min(SAMPLE, len(everything)), replace=False))
    nearest = _best_matches(everything[chosen], everything, below=COPY_COSINE)  # not itself, nor its copies
    hit, floor = np.quantile(nearest, [HIT_QUANTILE, FLOOR_QUANTILE])
    return Cutoff(round(float(hit), 4), round(float(floor), 4), generation, len(chosen))


@dataclass(frozen=True)
class TextCutoff:
    hit: float
    generation: int
    probes: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TextCutoff:
        return cls(float(values["hit"]), int(values["generation"]), int(values["probes"]))


def measure_text(vectors: np.ndarray, probes: np.ndarray, generation: int) -> TextCutoff | None:
    """The text cutoff of a library: the best-match similarity that nine in ten generic words
    (`probes`, their text vectors) reach in it."""
    if len(vectors) < MIN_PHOTOS or len(probes) < MIN_PROBES:
        return None
    best = _best_matches(probes, np.asarray(vectors, dtype=np.float32))
    return TextCutoff(round(float(np.quantile(best, TEXT_HIT_QUANTILE)), 4), generation, len(probes))


def probe_vectors(embedder: Embedder) -> np.ndarray:
    """The generic words through the text model; a label model (efficientnet-lite0) reads only
    some of them, one by one; a model without text reads none."""
    texts = [f"a photo of {probe}" for probe in TEXT_PROBES]
    try:
        return np.asarray(embedder.embed_texts(texts), dtype=np.float32)
    except NoTextEncoder:
        readable = []
        for text in texts:
            try:
                readable.append(embedder.embed_texts([text])[0])
            except NoTextEncoder:
                continue
        return np.asarray(readable, dtype=np.float32) if readable else np.zeros((0, 0), np.float32)
