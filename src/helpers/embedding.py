"""The embedding pipeline: decode photos on worker threads while the model runs on batches.

Decoding starts at once, even while the model is still loading, and runs a bounded number of
photos ahead (`workers.run_ahead`), so memory stays flat however large the library.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
from PIL import Image

from .errors import BadInput, PhotoSkipped
from .images import LoadOptions, load_photo, make_thumbnail
from .images.metadata import PhotoMetadata
from .models import Embedder
from .models.handle import ModelHandle
from .options import DEFAULT_OPTIONS, IndexOptions
from .progress import progress_bar
from .records import Batch, EmbeddedPhoto, Rejected
from .scan import PhotoRecord
from .workers import run_ahead

LOOKAHEAD_BATCHES = 8  # decoded photos waiting for the model, in batches (RGB images at the decode side)

T = TypeVar("T")


# The parts of embedding, always reported: `decode` adds up every decode thread's time (it can
# exceed the wall time); `wait` is the model side idling for decoded photos; `model` is the network.
EMBEDDING_PARTS = ("hash", "decode", "wait", "preprocess", "model", "write")


@dataclass
class StageTimes:
    """Where an indexing run's time went, in seconds: the parts of embedding, then each stage run
    after it (`helpers.stages`). Measured, so thread counts can be set from figures rather than guesses."""

    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(EMBEDDING_PARTS, 0.0))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, part: str, started: float) -> None:
        elapsed = time.perf_counter() - started
        with self._lock:  # the decode threads add at once: no sum may be lost
            self.seconds[part] = self.seconds.get(part, 0.0) + elapsed

    def as_dict(self) -> dict[str, float]:
        return {part: round(value, 3) for part, value in self.seconds.items()}


@dataclass(frozen=True)
class _Decoded:
    record: PhotoRecord
    format: str
    metadata: PhotoMetadata
    image: Image.Image  # upright RGB, short side = the model's decode side
    thumbnail: bytes


def embed_records(root: Path, records: Iterable[PhotoRecord], model: Embedder | ModelHandle,
                  options: IndexOptions = DEFAULT_OPTIONS, *, decode_side: int | None = None,
                  total: int | None = None, progress: bool = False,
                  times: StageTimes | None = None) -> Iterator[Batch]:
    """Decode and embed `records`, yielding one Batch per model call, in order.

    `model` may still be loading (a ModelHandle): photos are decoded at `decode_side` meanwhile.
    `times`, when given, collects the stage timings.
    """
    times = times if times is not None else StageTimes()
    if decode_side is None:
        decode_side = _embedder(model).preprocess.resize_to
    loading = LoadOptions(min_side=decode_side, max_megapixels=options.max_megapixels)

    def decode(record: PhotoRecord) -> _Decoded | Rejected:
        started = time.perf_counter()
        try:
            photo = load_photo(root / record.rel_path, loading, display_path=record.rel_path,
                               mtime_ns=record.mtime_ns)
        except PhotoSkipped as error:
            return Rejected(record, error.reason, error.detail)
        finally:
            times.add("decode", started)
        return _Decoded(record, photo.format, photo.metadata, photo.image, make_thumbnail(photo.image))

    decoded = run_ahead(decode, records, options.threads, lookahead=LOOKAHEAD_BATCHES * options.batch_size)
    pending: list[_Decoded] = []
    rejected: list[Rejected] = []
    for item in progress_bar(_timed_iteration(decoded, times), total=total, unit="photo", desc="indexing",
                             enabled=progress):
        if isinstance(item, Rejected):
            rejected.append(item)
        else:
            pending.append(item)
        if len(pending) >= options.batch_size:
            model = _ready(model, decode_side)
            yield _run_model(model, pending, rejected, times)
            pending, rejected = [], []
    if pending or rejected:
        yield _run_model(_ready(model, decode_side), pending, rejected, times)


def _timed_iteration(items: Iterator[T], times: StageTimes) -> Iterator[T]:
    """`items`, adding the time spent waiting for each one to `times.wait`."""
    while True:
        started = time.perf_counter()
        try:
            item = next(items)
        except StopIteration:
            return
        finally:
            times.add("wait", started)
        yield item


def _embedder(model: Embedder | ModelHandle) -> Embedder:
    return model.get() if isinstance(model, ModelHandle) else model


def _ready(model: Embedder | ModelHandle, decode_side: int) -> Embedder:
    embedder = _embedder(model)
    if embedder.preprocess.resize_to != decode_side:
        raise BadInput(f"{embedder.id} needs photos decoded at {embedder.preprocess.resize_to} px, "
                       f"not {decode_side}")
    return embedder


def embed_images(images: list[Image.Image], embedder: Embedder) -> np.ndarray:
    """Vectors for in-memory images (queries, uploads), preprocessed exactly as the index was."""
    preprocess = embedder.preprocess
    return embedder.embed_pixels(preprocess.normalise(np.stack([preprocess.crop(image) for image in images])))


def _run_model(embedder: Embedder, decoded: list[_Decoded], rejected: list[Rejected], times: StageTimes) -> Batch:
    if not decoded:
        return Batch([], rejected)
    started = time.perf_counter()
    preprocess = embedder.preprocess
    pixels = preprocess.normalise(np.stack([preprocess.crop(item.image) for item in decoded]))
    times.add("preprocess", started)
    started = time.perf_counter()
    vectors = embedder.embed_pixels(pixels)
    times.add("model", started)
    embedded = [EmbeddedPhoto(item.record, item.format, item.metadata, vector, item.thumbnail)
                for item, vector in zip(decoded, vectors, strict=True)]
    return Batch(embedded, rejected)
