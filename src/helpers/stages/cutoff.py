"""The cutoff stage: this library's "no close matches" levels (`helpers.relevance`), measured
again whenever the set of photos changed, for photo queries and for text queries.

The text level needs the generic probe words through the text model; their vectors are kept per
model, so a run that only removed or moved photos measures again without loading the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..index import PhotoIndex
from ..relevance import MIN_PHOTOS, Cutoff, TextCutoff, measure, measure_text, probe_vectors

if TYPE_CHECKING:
    from .runner import StageContext

NAME = "cutoff"
TABLES = {0: """
CREATE TABLE cutoff_probes (
    fingerprint TEXT PRIMARY KEY,   -- the model's weights fingerprint
    vectors BLOB NOT NULL,          -- float32, one row per probe the model could read
    count INTEGER NOT NULL
)
"""}


class CutoffStage:
    name = NAME
    version = 1
    tables = TABLES

    def run(self, index: PhotoIndex, context: StageContext) -> None:
        config = index.config()
        state = index.stage_state(self.name) or {}
        if state.get("generation") == config.generation and state.get("version") == self.version:
            return
        _, vectors = index.load_vectors()
        image = measure(vectors, config.generation)
        text = measure_text(vectors, self._probes(index, context), config.generation) \
            if len(vectors) >= MIN_PHOTOS else None
        index.set_stage_state(self.name, {"generation": config.generation, "version": self.version,
                                          "image": image.as_dict() if image else None,
                                          "text": text.as_dict() if text else None})

    def _probes(self, index: PhotoIndex, context: StageContext) -> np.ndarray:
        fingerprint = index.config().fingerprint or ""
        row = index.db.execute("SELECT vectors, count FROM cutoff_probes WHERE fingerprint = ?",
                               (fingerprint,)).fetchone()
        if row:
            count = int(row[1])
            return np.frombuffer(row[0], dtype=np.float32).reshape(count, -1) if count else np.zeros((0, 0))
        probes = probe_vectors(context.model())
        with index.transaction() as db:
            db.execute("INSERT OR REPLACE INTO cutoff_probes (fingerprint, vectors, count) VALUES (?, ?, ?)",
                       (fingerprint, probes.astype(np.float32).tobytes(), len(probes)))
        return probes


def stored_cutoffs(index: PhotoIndex) -> tuple[Cutoff | None, TextCutoff | None, bool]:
    """(image cutoff, text cutoff, current): what the last run measured, and whether it was
    measured on the photos the index holds now."""
    state = index.stage_state(NAME) or {}
    image = Cutoff.from_dict(state["image"]) if state.get("image") else None
    text = TextCutoff.from_dict(state["text"]) if state.get("text") else None
    return image, text, state.get("generation") == index.config().generation
