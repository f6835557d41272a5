"""Worker threads that keep the cores busy without flooding memory: bounded look-ahead, in order.

Decoding (Pillow, libjpeg, libheif) and hashing release the GIL, so threads run them in parallel
without the cost of worker processes.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

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
