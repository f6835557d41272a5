"""The results gallery: one self-contained HTML page of a search, to keep or share.

Thumbnails come from the index (EXIF-upright, small) and are embedded as data: URIs; file names
are escaped; paths are relative to the photo folder. The page opens offline.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from .errors import BadInput
from .images import LoadOptions, load_photo, make_thumbnail
from .index import PhotoIndex
from .people import crop_of, people
from .search import Library, Term


def write_gallery(library: Library, query: Term, out: str | os.PathLike[str], *, k: int = 24) -> dict[str, Any]:
    """Search, then write the page to `out` (atomically; never inside the photo folder)."""
    out = _page_path(library.index, out)
    outcome = library.search([query], k=k)
    results = [GalleryItem(r.photo.path, r.score, library.index.thumbnail(r.photo.id), r.place_name,
                           tuple(item["path"] for item in r.also), r.words) for r in outcome.results]
    if query.kind == "text":
        title, picture = f'"{query.value}"', None
    else:
        title = f"photos like {Path(query.value).name}"
        picture = make_thumbnail(load_photo(query.value, LoadOptions(min_side=256)).image)
    _write_page(out, gallery_html(title, picture, results))
    return {"out": str(out), "results": len(results), "took_ms": round(outcome.took_ms, 2)}


def write_people_sheet(index: PhotoIndex, out: str | os.PathLike[str]) -> dict[str, Any]:
    """A contact sheet of the people found: each person's name (or number), count and face crops,
    as one offline page (atomically; never inside the photo folder). Face crops identify people:
    share the page only with people who may see them."""
    out = _page_path(index, out)
    found, loose = people(index)
    sections = "\n".join(
        f"<section><h2>{html.escape(person.label)} <small>(id {person.id}, {len(person.faces)} faces)</small></h2>"
        + "".join(f'<img src="{jpeg_data_uri(crop_of(index, face.id))}" alt="{html.escape(path, quote=True)}" '
                  f'title="{html.escape(f"{path} #{face.number}", quote=True)}">' for path, face in person.faces[:60])
        + "</section>" for person in found)
    title = f"{len(found)} people"
    _write_page(out, f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }}
section img {{ width: 96px; height: 96px; border-radius: 4px; margin: 0 4px 4px 0; }}
h2 small {{ color: #666; font-weight: normal; }}
</style></head>
<body><h1>{title}</h1>
<p>Name one: <code>photo-search people name ID NAME</code>. {loose} faces belong to nobody yet.</p>
{sections}
<footer><p>Made by photo-search on this machine; nothing was sent anywhere. These crops identify people:
share this page only with people who may see them.</p></footer>
</body></html>
""")
    return {"out": str(out), "people": len(found)}


def _page_path(index: PhotoIndex, out: str | os.PathLike[str]) -> Path:
    out = Path(out).expanduser().resolve()
    root = index.photos_root
    if root is not None and (out == root or root in out.parents):
        raise BadInput(f"{out} is inside the photo folder; write the page somewhere else")
    return out


def _write_page(out: Path, page: str) -> None:
    partial = out.with_name(out.name + ".partial")
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, out)  # a reader never sees half a page


def _also(paths: Sequence[str]) -> str:
    """'+3 more of this photo', opening to their names: copies and burst shots share one card."""
    if not paths:
        return ""
    names = "".join(f"<li>{html.escape(path)}</li>" for path in paths)
    return f"<details><summary>+{len(paths)} more of this photo</summary><ul>{names}</ul></details>"


def jpeg_data_uri(data: bytes) -> str:
    """A JPEG as a data: URI, so a page carries its pictures and never points at a file."""
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")


class GalleryItem(NamedTuple):
    path: str
    score: float
    thumbnail: bytes | None
    place: str | None = None
    also: tuple[str, ...] = ()  # the copies and burst shots this result stands for
    words: tuple[str, ...] = ()  # the photo's words that matched the query, as read


def gallery_html(title: str, query_picture: bytes | None, results: Sequence[GalleryItem]) -> str:
    """One self-contained page: the query on top, then results with scores and names. Pictures are
    embedded (data: URIs), names are escaped, and no path outside the photo folder appears, so the
    page opens offline and can be shared without leaking where the photos live."""
    def picture(data: bytes | None, alt: str) -> str:
        if not data:
            return f'<div class="missing">{html.escape(alt)}</div>'
        return f'<img src="{jpeg_data_uri(data)}" alt="{html.escape(alt, quote=True)}">'

    cards = "\n".join(
        f'<figure>{picture(item.thumbnail, item.path)}<figcaption><b>{item.score:.3f}</b> {html.escape(item.path)}'
        + (f'<br><span class="place">{html.escape(item.place)}</span>' if item.place else "")
        + (f'<br>says: <mark>{html.escape(" ".join(item.words))}</mark>' if item.words else "")
        + _also(item.also) + "</figcaption></figure>" for item in results)
    query = picture(query_picture, "query") if query_picture else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }}
header {{ display: flex; gap: 1rem; align-items: center; margin-bottom: 1rem; }}
header img {{ max-height: 160px; border-radius: 4px; }}
main {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 0.8rem; }}
figure {{ margin: 0; }} figure img {{ width: 100%; height: 180px; object-fit: cover; border-radius: 4px; }}
figcaption {{ font-size: 0.8rem; overflow-wrap: anywhere; }} .missing {{ height: 180px; background: #ddd; }}
details summary {{ cursor: pointer; color: #555; }} details ul {{ margin: 0.2rem 0; padding-left: 1rem; }}
</style></head>
<body><header>{query}<h1>{html.escape(title)}</h1></header>
<main>
{cards}
</main>
<footer><p>{len(results)} results. Made by photo-search on this machine; nothing was sent anywhere.</p></footer>
</body></html>
"""
