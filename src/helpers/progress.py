"""Progress bars that work in a terminal and in a notebook alike (tqdm.auto picks the kind)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from tqdm.auto import tqdm

T = TypeVar("T")


def progress_bar(items: Iterable[T], *, total: int | None = None, unit: str = "photo",
                 desc: str = "", enabled: bool = True) -> Iterator[T]:
    """Wrap `items` in a bar showing count and rate; a plain pass-through when disabled."""
    if not enabled:
        yield from items
        return
    from tqdm.auto import tqdm  # imported on first use: it costs a cold query tens of milliseconds

    yield from tqdm(items, total=total, unit=unit, desc=desc, dynamic_ncols=True, smoothing=0.1)


def progress_counter(total: int, *, unit: str = "photo", desc: str = "", enabled: bool = True) -> tqdm:
    """A bar to `update(n)` by hand, for work that is not one loop; silent when disabled."""
    from tqdm.auto import tqdm

    return tqdm(total=total, unit=unit, desc=desc, dynamic_ncols=True, smoothing=0.1, disable=not enabled)
