"""The settings of an indexing run, typed once: every default lives here, and each says why."""

from __future__ import annotations

from dataclasses import dataclass

from .images import DEFAULT_MAX_MEGAPIXELS
from .workers import default_workers


@dataclass(frozen=True)
class IndexOptions:
    """How `photo-search index` (and `update_index`) runs.

    model: None keeps the index's own model (else $PHOTO_SEARCH_MODEL, else clip).
    engine: None lets `engines` choose (ONNX Runtime on a CPU, PyTorch on a CUDA GPU).
    batch_size: photos per network call; 8, 16 and 32 indexed equally fast (BENCHMARKS.md).
    workers: decode threads; None means one per core, the fastest measured on 2 cores.
    max_megapixels: larger images are reported, not decoded (memory grows with pixels).
    faces: look for faces from now on (opt-in; the index remembers it until `people off`).
    stages: None runs every stage after embedding; a tuple of stage names runs only those (an index
      made to compare models needs its vectors alone, not the words read again for each model).
    """

    model: str | None = None
    engine: str | None = None
    reembed: bool = False
    batch_size: int = 32
    workers: int | None = None
    max_megapixels: float = DEFAULT_MAX_MEGAPIXELS
    faces: bool = False
    stages: tuple[str, ...] | None = None

    @property
    def threads(self) -> int:
        return self.workers or default_workers()


DEFAULT_OPTIONS = IndexOptions()
