"""The embedding pipeline: decode photos on worker threads while the model runs on batches.

Decoding (Pillow, libjpeg, libheif) releases the GIL, so a few threads keep the model fed
without the cost of worker processes. At most a few batches are decoded ahead, so memory stays
flat however large the library.
"""

from __future__ import annotations

import io
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import PhotoSkipped
from .images import LoadOptions, load_photo
from .metadata import PhotoMetadata
from .models import Embedder
from .progress import progress_bar
from .scan import PhotoRecord

THUMBNAIL_SIDE = 256  # the longer side of cached thumbnails: enough for grids and galleries
THUMBNAIL_QUALITY = 82


@dataclass(frozen=True)
class EmbeddedPhoto:
    """One photo through the pipeline: its vector, what the file says, and a small thumbnail."""

    record: PhotoRecord
    format: str
    metadata: PhotoMetadata
    vector: np.ndarray
    thumbnail: bytes  # JPEG, EXIF-upright


@dataclass(frozen=True)
class _Prepared:
    record: PhotoRecord
    format: str
    metadata: PhotoMetadata
    pixels: np.ndarray
    thumbnail: bytes


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


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def embed_records(root: Path, records: Iterable[PhotoRecord], embedder: Embedder, *, total: int | None = None,
                  batch_size: int = 32, workers: int | None = None, max_megapixels: float = 250.0,
                  progress: bool = False) -> Iterator[Batch]:
    """Decode, preprocess and embed `records`, yielding one Batch per model call, in order."""
    options = LoadOptions(min_side=embedder.preprocess.resize_to, max_megapixels=max_megapixels)

    def prepare(record: PhotoRecord) -> _Prepared | Rejected:
        try:
            photo = load_photo(root / record.rel_path, options, display_path=record.rel_path,
                               mtime_ns=record.mtime_ns)
        except PhotoSkipped as error:
            return Rejected(record, error.reason, error.detail)
        return _Prepared(record, photo.format, photo.metadata, embedder.preprocess.apply(photo.image),
                         make_thumbnail(photo.image))

    prepared = _ahead(prepare, records, workers or default_workers(), lookahead=2 * batch_size)
    pending: list[_Prepared] = []
    rejected: list[Rejected] = []
    for item in progress_bar(prepared, total=total, unit="photo", desc="indexing", enabled=progress):
        if isinstance(item, Rejected):
            rejected.append(item)
        else:
            pending.append(item)
        if len(pending) >= batch_size:
            yield _run_model(embedder, pending, rejected)
            pending, rejected = [], []
    if pending or rejected:
        yield _run_model(embedder, pending, rejected)


def embed_images(images: list[Image.Image], embedder: Embedder) -> np.ndarray:
    """Vectors for in-memory images (queries, uploads), preprocessed exactly as the index was."""
    return embedder.embed_pixels(np.stack([embedder.preprocess.apply(image) for image in images]))


def make_thumbnail(image: Image.Image) -> bytes:
    thumbnail = image.copy()
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    thumbnail.save(buffer, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return buffer.getvalue()


def _run_model(embedder: Embedder, prepared: list[_Prepared], rejected: list[Rejected]) -> Batch:
    if not prepared:
        return Batch([], rejected)
    vectors = embedder.embed_pixels(np.stack([item.pixels for item in prepared]))
    embedded = [EmbeddedPhoto(item.record, item.format, item.metadata, vector, item.thumbnail)
                for item, vector in zip(prepared, vectors)]
    return Batch(embedded, rejected)


def _ahead(function, items: Iterable, workers: int, lookahead: int) -> Iterator:
    """`map(function, items)` on a thread pool, in order, with at most `lookahead` items in flight."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode") as pool:
        in_flight: deque[Future] = deque()
        for item in items:
            in_flight.append(pool.submit(function, item))
            if len(in_flight) >= lookahead:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()
