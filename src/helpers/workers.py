"""Worker threads that keep the cores busy without flooding memory: bounded look-ahead, in order.

Decoding (Pillow, libjpeg, libheif) and hashing release the GIL, so threads run them in parallel
without the cost of worker processes.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from .progress import progress_counter

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def run_ahead(function: Callable[[T], R], items: Iterable[T], workers: int, lookahead: int) -> Iterator[R]:
    """`map(function, items)` on a thread pool, in order, with at most `lookahead` items in flight."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode") as pool:
        in_flight: deque[Future[R]] = deque()
        for item in items:
            in_flight.append(pool.submit(function, item))
            if len(in_flight) >= lookahead:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()


def in_batches(function: Callable[[T], R], items: Sequence[T], size: int, *, desc: str,
               progress: bool) -> Iterator[tuple[Sequence[T], list[R]]]:
    """Each batch of `size` items with `function`'s results for it, computed on as many threads as
    cores: the caller commits a batch before the next one starts, so a killed run loses one batch."""
    bar = progress_counter(len(items), desc=desc, enabled=progress)
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        for start in range(0, len(items), size):
            batch = items[start:start + size]
            yield batch, list(pool.map(function, batch))
            bar.update(len(batch))
    bar.close()
