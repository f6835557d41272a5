"""The records that pass between the pipeline and the index: neutral ground both import, so the
index (storage) knows nothing of how photos were decoded or embedded."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .images.metadata import PhotoMetadata
from .scan import PhotoRecord


@dataclass(frozen=True)
class EmbeddedPhoto:
    """One photo through the pipeline: its vector, what the file says, and a small thumbnail."""

    record: PhotoRecord
    format: str
    metadata: PhotoMetadata
    vector: np.ndarray
    thumbnail: bytes  # JPEG, EXIF-upright


@dataclass(frozen=True)
class Rejected:
    """A photo the decoder refused, with the reason to report."""

    record: PhotoRecord
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class Batch:
    """What one model call produced: committed to the index as one transaction."""

    embedded: list[EmbeddedPhoto]
    rejected: list[Rejected]
