"""The cutoff stage: this library's "no close matches" levels (`helpers.relevance`), measured
again whenever the set of photos changed, for photo queries and for text queries.

The text level needs the generic probe words through the text model. Their vectors depend on the
model alone, so they are kept beside the model's export in the cache folder: measuring again (a run
that only removed or moved photos, a new index of another folder) needs no model at all.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..index import PhotoIndex
from ..models import Embedder
from ..models.export import cache_root
from ..relevance import MIN_PHOTOS, Cutoff, TextCutoff, measure, measure_text, probe_vectors

if TYPE_CHECKING:
    from .runner import StageContext

NAME = "cutoff"
PROBES_FOLDER = "probes"  # in the cache folder: one .npy per model fingerprint
TABLES: dict[int, str] = {}  # its state is one value (`stage_state`); no tables of its own


class CutoffStage:
    name = NAME
    version = 1
    tables = TABLES
    uses_model = True

    def run(self, index: PhotoIndex, context: StageContext) -> None:
        config = index.config()
        state = index.stage_state(self.name) or {}
        if state.get("generation") == config.generation and state.get("version") == self.version:
            return
        _, vectors = index.load_vectors()
        image = measure(vectors, config.generation)
        text = measure_text(vectors, probes_of(config.fingerprint, context.model), config.generation) \
            if len(vectors) >= MIN_PHOTOS else None
        index.set_stage_state(self.name, {"generation": config.generation, "version": self.version,
                                          "image": image.as_dict() if image else None,
                                          "text": text.as_dict() if text else None})


def probes_of(fingerprint: str | None, model: Callable[[], Embedder]) -> np.ndarray:
    """The probe words' vectors for the model with this weights fingerprint: from the cache folder,
    else through `model()` (loaded only then) and kept there for every later index and search."""
    path = cache_root() / PROBES_FOLDER / f"{fingerprint or 'unknown'}.npy"
    try:
        return np.load(path)
    except (OSError, ValueError):
        pass  # not measured on this machine yet (or a damaged file): measured now
    probes = probe_vectors(model())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        with open(partial, "wb") as handle:
            np.save(handle, probes)
        os.replace(partial, path)
    except OSError:
        pass  # a read-only cache: measured again next time
    return probes


def stored_cutoffs(index: PhotoIndex) -> tuple[Cutoff | None, TextCutoff | None, bool]:
    """(image cutoff, text cutoff, current): what the last run measured, and whether it was
    measured on the photos the index holds now."""
    state = index.stage_state(NAME) or {}
    image = Cutoff.from_dict(state["image"]) if state.get("image") else None
    text = TextCutoff.from_dict(state["text"]) if state.get("text") else None
    return image, text, state.get("generation") == index.config().generation
