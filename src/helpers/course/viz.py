"""Pictures of results for people: photo grids and simple charts (matplotlib, imported lazily)."""

from __future__ import annotations

import html
import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from IPython.display import HTML
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
    return _done(figure)


def bar_chart(counts: dict[str, int], title: str) -> Figure:
    """Horizontal bars, largest on top: for reasons and formats in the health report."""
    import matplotlib.pyplot as plt

    labels = list(counts)[::-1]
    figure, axis = plt.subplots(figsize=(6, 0.4 * len(labels) + 1))
    axis.barh(labels, [counts[label] for label in labels], color="#4c72b0")
    axis.set_title(title)
    axis.set_xlabel("files")
    return _done(figure)


def _shorten(text: str, limit: int = 28) -> str:
    """Long names lose their middle, never their start (a score) or their end (the extension)."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return text[:head] + "…" + text[-(limit - 1 - head):]


# The course's map: each stage, the chapter that builds it, and the helpers module that does it.
PIPELINE = (("photos", "your folder, only read", ""), ("load", "upright RGB pixels", "ch. 1 · images"),
            ("embed", "a vector per photo", "ch. 2 · embedding"), ("index", "vectors + facts, saved", "ch. 4 · index"))
ANSWERS = (("search", "looks like / words", "ch. 3, 6 · search"), ("duplicates", "copies, not look-alikes",
                                                                    "ch. 5 · duplicates"),
           ("evaluate", "is it any good?", "ch. 7 · evaluate"))


def pipeline_map() -> Figure:
    """The whole course on one picture: photos flow one way, through load, embed and index, into
    the three things you can ask of the index."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(11, 3.2))
    axis.set(xlim=(0, 11), ylim=(0, 3.2))
    axis.axis("off")
    boxes = [(0.1 + 2.2 * i, 1.2, stage) for i, stage in enumerate(PIPELINE)]
    boxes += [(8.9, 2.3 - 1.05 * i, stage) for i, stage in enumerate(ANSWERS)]
    for x, y, (name, what, where) in boxes:
        axis.add_patch(plt.Rectangle((x, y), 1.9, 0.8, facecolor="#dbe7f5", edgecolor="#4c72b0"))
        axis.text(x + 0.95, y + 0.55, name, ha="center", fontsize=11, weight="bold")
        axis.text(x + 0.95, y + 0.3, what, ha="center", fontsize=8)
        axis.text(x + 0.95, y + 0.08, where, ha="center", fontsize=7, color="#555555")
    arrow = {"arrowstyle": "->", "color": "#4c72b0", "lw": 1.5}
    for i in range(len(PIPELINE) - 1):
        axis.annotate("", xy=(2.3 + 2.2 * i, 1.6), xytext=(2.0 + 2.2 * i, 1.6), arrowprops=arrow)
    for _, y, _ in boxes[len(PIPELINE):]:
        axis.annotate("", xy=(8.9, y + 0.4), xytext=(8.7, 1.6), arrowprops=arrow)
    return _done(figure)


def similarity_heatmap(vectors: np.ndarray, labels: Sequence[str], title: str = "cosine similarity") -> Figure:
    """Every photo against every other: bright squares are photos the model finds alike."""
    import matplotlib.pyplot as plt

    similarity = np.asarray(vectors, dtype=np.float32) @ np.asarray(vectors, dtype=np.float32).T
    size = 0.45 * len(labels) + 2
    figure, axis = plt.subplots(figsize=(size + 1, size))
    shown = axis.imshow(similarity, cmap="viridis", vmin=min(0.0, float(similarity.min())), vmax=1)
    axis.set_xticks(range(len(labels)), [_shorten(label, 34) for label in labels], rotation=90, fontsize=7)
    axis.set_yticks(range(len(labels)), [_shorten(label, 34) for label in labels], fontsize=7)
    axis.set_title(title)
    figure.colorbar(shown, ax=axis, fraction=0.046)
    return _done(figure)


def thumbnails(jpegs: Sequence[bytes | None]) -> list[Image.Image]:
    """Decode cached thumbnails (JPEG bytes from the index); a missing one becomes a grey tile."""
    return [Image.open(io.BytesIO(data)).convert("RGB") if data else Image.new("RGB", (96, 96), "#ddd")
            for data in jpegs]


def contact_sheet(images: Sequence[Image.Image], captions: Sequence[str] = (), *, columns: int = 6,
                  cell: int = 180) -> Image.Image:
    """One picture holding a grid of images with captions: light enough to refresh in a widget on
    every slider move (a matplotlib figure of photos is a megabyte of PNG)."""
    from PIL import ImageDraw, ImageFont

    columns = max(1, min(columns, len(images) or 1))
    rows = max(1, -(-len(images) // columns))
    caption_height = 16
    sheet = Image.new("RGB", (columns * cell, rows * (cell + caption_height)), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=11)
    for index, image in enumerate(images):
        tile = image.copy()
        tile.thumbnail((cell - 6, cell - 6))
        left, top = (index % columns) * cell, (index // columns) * (cell + caption_height)
        sheet.paste(tile, (left + (cell - tile.width) // 2, top + (cell - tile.height) // 2))
        if index < len(captions):
            draw.text((left + 3, top + cell), _shorten(captions[index], cell // 7), fill="black", font=font)
    return sheet


def to_jpeg(image: Image.Image, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _done(figure: Figure) -> Figure:
    """Laid out and closed: a notebook then shows the returned figure once, not twice (the inline
    backend would show it again at the end of the cell); saving it still works."""
    import matplotlib.pyplot as plt

    figure.tight_layout()
    plt.close(figure)
    return figure


def figure_png(figure: Figure) -> bytes:
    """A figure as PNG bytes (for an image widget), closed afterwards so figures do not pile up."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return buffer.getvalue()


def precision_recall_plot(curves: dict[str, Sequence[tuple[float, float, float]]], *,
                          chosen: tuple[float, float] | None = None, title: str = "",
                          labels: tuple[str, str, str] = ("recall (copies found)", "precision (reports that are right)",
                                                          "chosen threshold")) -> Figure:
    """Precision against recall, one line per method; `chosen` (recall, precision) is marked.
    `labels`: the x axis, the y axis and the mark (the duplicate finder's words by default)."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5.5, 4))
    for name, curve in curves.items():
        axis.plot([r for _, _, r in curve], [p for _, p, _ in curve], marker=".", label=name)
    if chosen is not None:
        axis.scatter([chosen[0]], [chosen[1]], s=120, facecolors="none", edgecolors="red", label=labels[2])
    axis.set(xlabel=labels[0], ylabel=labels[1], title=title)
    axis.set_xlim(0, 1.02)
    axis.grid(alpha=0.3)
    axis.legend(loc="lower left")
    return _done(figure)


def similarity_histogram(relevant: np.ndarray, irrelevant: np.ndarray, title: str = "") -> Figure:
    """Two histograms of cosine similarity: pairs that should match and pairs that should not.
    The less they overlap, the better any threshold can separate them."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.5))
    bins = np.linspace(min(relevant.min(initial=1), irrelevant.min(initial=1)), 1.0, 50).tolist()
    for values, label in ((irrelevant, "different groups"), (relevant, "same group")):  # each sums to 1
        axis.hist(values, bins=bins, alpha=0.6, weights=np.full(len(values), 1 / max(len(values), 1)),
                  label=f"{label} ({len(values)} pairs)")
    axis.set(xlabel="cosine similarity", ylabel="share of pairs", title=title)
    axis.legend()
    return _done(figure)


MARKERS = ("o", "s", "^", "D", "v", "P")  # with ten colours: sixty labels, no two drawn alike


def embedding_cloud(points: np.ndarray, labels: Sequence[str], pictures: Sequence[Image.Image | None] = (), *,
                    title: str = "", picture_zoom: float = 0.15, links: Sequence[tuple[int, int]] = ()) -> Figure:
    """A 2-D map of the embeddings (e.g. from UMAP), coloured by label. Each label gets its own
    colour and marker (colours alone run out after ten). Where `pictures` are given, a small
    thumbnail sits beside its point, under the dots, so it hides none; `links` (pairs of point
    numbers, e.g. a copy and its original) are drawn as short black lines."""
    import matplotlib.pyplot as plt
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    figure, axis = plt.subplots(figsize=(10, 6.5))
    names = sorted(set(labels))
    colours = plt.get_cmap("tab10")
    style = {name: (colours(number % 10), MARKERS[number // 10 % len(MARKERS)]) for number, name in enumerate(names)}
    for first, second in links:
        axis.plot(*points[[first, second]].T, color="black", linewidth=1.2, zorder=4)
    for name in names:
        chosen = np.array([label == name for label in labels])
        colour, marker = style[name]
        axis.scatter(points[chosen, 0], points[chosen, 1], s=22, color=colour, marker=marker, label=_shorten(name, 20),
                     zorder=3, edgecolors="white", linewidths=0.4)
    spread = np.ptp(points, axis=0).max() or 1.0
    for point, label, picture in zip(points, labels, pictures):
        if picture is not None:  # beside its point, framed in its label's colour
            axis.add_artist(AnnotationBbox(OffsetImage(np.asarray(picture.convert("RGB")), zoom=picture_zoom),
                                           point, xybox=(point[0] + spread * 0.04, point[1] + spread * 0.04),
                                           pad=0.1, zorder=2, arrowprops={"arrowstyle": "-", "color": "0.5"},
                                           bboxprops={"edgecolor": style[label][0], "linewidth": 2}))
    axis.set(title=title, xticks=[], yticks=[])
    if len(names) <= 60:  # beside the map, so it hides no point
        axis.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), markerscale=1.3,
                    ncols=1 + len(names) // 31)
    return _done(figure)


# The comparison's columns, in words a reader can follow (evaluate.compare_models' keys).
COMPARISON_COLUMNS = (("model", "model"), ("map_at_k", "mAP@K, re-ranked"), ("map_at_k_plain", "mAP@K, plain order"),
                      ("precision_at_k", "precision@K"), ("index_seconds", "indexing (s)"),
                      ("photos_per_second", "photos/s"), ("query_ms", "ms per query"), ("vectors_mb", "vectors (MB)"))


def comparison_table(rows: Sequence[Mapping[str, object]]) -> HTML:
    """The model comparison as a table, one model a row; a model that could not run shows why."""
    from IPython.display import HTML

    head = "".join(f"<th>{html.escape(title)}</th>" for _, title in COMPARISON_COLUMNS)
    body = []
    for row in rows:
        if "error" in row:
            cells = (f"<td>{html.escape(str(row['model']))}</td>"
                     f"<td colspan='{len(COMPARISON_COLUMNS) - 1}'>{html.escape(str(row['error']))}</td>")
        else:
            cells = "".join(f"<td>{html.escape(str(row.get(key, '')))}</td>" for key, _ in COMPARISON_COLUMNS)
        body.append(f"<tr>{cells}</tr>")
    return HTML(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def umap_points(vectors: np.ndarray, *, neighbours: int = 15, seed: int = 0) -> np.ndarray:
    """2-D coordinates for unit vectors with UMAP (cosine metric). Imported here: slow to load."""
    import umap

    neighbours = max(2, min(neighbours, len(vectors) - 1))
    return umap.UMAP(n_neighbors=neighbours, metric="cosine", random_state=seed, n_jobs=1).fit_transform(vectors)
