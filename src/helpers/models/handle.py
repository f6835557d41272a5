"""The model a run uses, chosen once and loaded once: perhaps in the background (importing
PyTorch alone takes seconds) while files are hashed and decoded, perhaps never (a run with
nothing to embed and no stage that needs it)."""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Self

from .catalogue import ENV_MODEL, input_side, load_model
from .embedder import Embedder
from .engines import chosen_engine


def chosen_model(explicit: str | None, existing: str | None, *, switching: bool = False) -> str | None:
    """The model a run embeds with. An index keeps its own model: $PHOTO_SEARCH_MODEL applies to new
    indexes (and to a --reembed), `--model` to any. None means the default (`load_model` decides)."""
    if explicit:
        return explicit
    if existing and not switching:
        return existing
    return os.environ.get(ENV_MODEL) or existing or None


class ModelHandle:
    """One model by name: its decode side known without loading it, the network loaded on first
    `get()` (or from `start()`, on a background thread)."""

    def __init__(self, name: str | None, engine: str | None = None, embedder: Embedder | None = None) -> None:
        self.name = embedder.id if embedder else name
        self.engine = embedder.engine if embedder else chosen_engine(engine)
        self._embedder = embedder
        self._future: Future[Embedder] | None = None
        self._pool: ThreadPoolExecutor | None = None

    @property
    def side(self) -> int | None:
        """The short side photos are decoded at for this model; None when only loading tells."""
        return self._embedder.preprocess.resize_to if self._embedder else input_side(self.name)

    @property
    def loaded(self) -> bool:
        return self._embedder is not None or self._future is not None

    def start(self) -> None:
        """Begin loading on a background thread (nothing if loaded or loading already)."""
        if self.loaded:
            return
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        self._future = self._pool.submit(load_model, self.name, engine=self.engine)

    def get(self) -> Embedder:
        if self._embedder is None:
            self.start()
            assert self._future is not None
            self._embedder = self._future.result()
        return self._embedder

    def release(self) -> None:
        """Let this handle's hold on the network go, so its memory can be returned (a later `get()`
        loads it again)."""
        if self._future is not None:
            self._future.result()  # a load in flight finishes first
        self._embedder, self._future = None, None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
