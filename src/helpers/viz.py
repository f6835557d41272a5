"""Pictures of results for people: photo grids and simple charts (matplotlib, imported lazily)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def photo_grid(images: Sequence[Image.Image], captions: Sequence[str] = (), *, columns: int = 6,
               cell_inches: float = 2.2) -> Figure:
    """A contact sheet: each image in its own cell, aspect ratio kept, caption underneath."""
    import matplotlib.pyplot as plt

    count = max(1, len(images))
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * cell_inches, rows * (cell_inches + 0.3)),
                                squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index < len(images):
            axis.imshow(images[index])
            if index < len(captions):
                axis.set_title(_shorten(captions[index]), fontsize=8)
    figure.tight_layout()
    plt.close(figure)  # the notebook shows the returned figure once, not twice
    return figure


def bar_chart(counts: dict[str, int], title: str) -> Figure:
    """Horizontal bars, largest on top: for reasons and formats in the health report."""
    import matplotlib.pyplot as plt

    labels = list(counts)[::-1]
    figure, axis = plt.subplots(figsize=(6, 0.4 * len(labels) + 1))
    axis.barh(labels, [counts[label] for label in labels], color="#4c72b0")
    axis.set_title(title)
    axis.set_xlabel("files")
    figure.tight_layout()
    plt.close(figure)
    return figure


def _shorten(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else "…" + text[-(limit - 1):]
