"""The results gallery: one self-contained page, offline, with names shown as text."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import PhotoSearch


def test_gallery_is_self_contained_and_escapes_names(tmp_path: Path, practice_library: Path,
                                                     photo_search: PhotoSearch) -> None:
    photos = tmp_path / "photos"
    shutil.copytree(practice_library, photos)
    hostile = photos / "Downloads" / "<img src=x onerror=alert(1)>.jpg"
    shutil.copy(photos / "2024/Camera Roll/IMG_5021.jpg", hostile)
    index, out = tmp_path / "index", tmp_path / "out" / "results.html"
    out.parent.mkdir()
    assert photo_search("index", str(photos), "--index", str(index), "--model", "efficientnet-lite0").returncode == 0

    done = photo_search("gallery", "--index", str(index), "--image", str(photos / "Downloads/IMG_5021.webp"),
                        "-k", "5",
                        "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["results"] == 5
    page = out.read_text()
    assert page.count("<figure>") == 5
    assert page.count('src="data:image/jpeg;base64,') == 6  # the query and five thumbnails
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;.jpg" in page
    assert str(tmp_path) not in page  # no absolute paths
    assert not re.search(r'(src|href)="(?!data:)', page)  # nothing fetched from anywhere

    inside = photo_search("gallery", "--index", str(index), "--text", "pizza", "--out", str(photos / "x.html"))
    assert inside.returncode == 2 and "inside the photo folder" in inside.stderr
    assert not (photos / "x.html").exists()
