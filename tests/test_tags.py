"""Tags and albums: kept by content (a move keeps them), never written into photos, read from
the keywords other tools wrote (XMP, IPTC), exported and imported as CSV, and combined with
every other filter in a search."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import struct
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PIL import Image

from helpers.images.keywords import file_keywords

if TYPE_CHECKING:
    from conftest import PhotoSearch

XMP = b"""<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:subject><rdf:Bag><rdf:li>Family</rdf:li><rdf:li>Caf&#xE9; &amp; friends</rdf:li></rdf:Bag></dc:subject>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end='w'?>"""


def _with_iptc(jpeg: bytes, keywords: list[str]) -> bytes:
    """The JPEG with an APP13 Photoshop block holding IPTC Keywords (2:25), as exiftool writes it."""
    iptc = b"".join(b"\x1c\x02\x19" + struct.pack(">H", len(word.encode())) + word.encode() for word in keywords)
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iptc)) + iptc + b"\x00" * (len(iptc) % 2)
    body = b"Photoshop 3.0\x00" + resource
    return jpeg[:2] + b"\xff\xed" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, photos: Path, photo_search: PhotoSearch) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("tags")
    folder = root / "photos"
    (folder / "2024" / "Vacation Rome").mkdir(parents=True)
    (folder / "2024" / "Work").mkdir(parents=True)
    (folder / "receipts").mkdir()
    kit = photos / "text_in_photos" / "images"
    for name in ("td_002.jpg", "td_005.jpg"):
        shutil.copy2(kit / name, folder / "2024" / "Vacation Rome" / name)
    for name in ("td_024.jpg", "td_025.jpg", "td_026.jpg"):
        shutil.copy2(kit / name, folder / "receipts" / name)
    for name in ("DSCN0010.jpg", "DSCN0042.jpg"):  # Arezzo, with GPS
        shutil.copy2(photos / "messy" / "gps" / name, folder / "2024" / "Work" / name)
    buffer = io.BytesIO()
    with Image.open(min((photos / "retrieval" / "caltech101" / "pizza").iterdir())) as pizza:
        pizza.convert("RGB").save(buffer, "JPEG", quality=90, xmp=XMP)
    (folder / "2024" / "Work" / "lunch.jpg").write_bytes(_with_iptc(buffer.getvalue(), ["lunch", "Family"]))
    done = photo_search("index", str(folder), "--index", str(root / "index"), "--model", "efficientnet-lite0")
    assert done.returncode == 0, done.stderr
    return folder, root / "index"


def _search(photo_search: PhotoSearch, index: Path, *args: str) -> list[str]:
    done = photo_search("search", "--index", str(index), *args, "--json", "-k", "50", "--no-collapse")
    assert done.returncode == 0, done.stderr
    return sorted(result["path"] for result in json.loads(done.stdout)["results"])


def _tags(photo_search: PhotoSearch, index: Path) -> dict[str, int]:
    done = photo_search("tag", "list", "--index", str(index), "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["tags"]


def test_keywords_in_the_file_become_tags(library: tuple[Path, Path], photo_search: PhotoSearch) -> None:
    assert file_keywords(library[0] / "2024" / "Work" / "lunch.jpg") == ["Family", "Café & friends", "lunch"]
    tags = _tags(photo_search, library[1])
    assert tags["Family"] == 1 and tags["lunch"] == 1 and tags["Café & friends"] == 1
    assert _search(photo_search, library[1], "--tag", "family") == ["2024/Work/lunch.jpg"]  # case ignored


def test_tags_combine_with_text_place_and_each_other(library: tuple[Path, Path], photo_search: PhotoSearch,
                                                     tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(library[1], index)
    before = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in library[0].rglob("*") if path.is_file()}
    done = photo_search("tag", "add", "receipts", "receipts/td_024.jpg", str(library[0] / "receipts" / "td_025.jpg"),
                        "--index", str(index), "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["added"] == 2, done.stderr
    assert photo_search("tag", "add", "trip", "2024/Work/DSCN0010.jpg", "2024/Vacation Rome/td_002.jpg",
                        "--index", str(index)).returncode == 0
    assert _tags(photo_search, index)["receipts"] == 2
    assert _search(photo_search, index, "--tag", "receipts") == ["receipts/td_024.jpg", "receipts/td_025.jpg"]
    assert _search(photo_search, index, "--text", "thank you", "--tag", "receipts") == ["receipts/td_025.jpg"]
    assert _search(photo_search, index, "--words", "thank you", "--not-tag", "receipts") == ["receipts/td_026.jpg"]
    assert _search(photo_search, index, "--tag", "trip", "--place", "arezzo") == ["2024/Work/DSCN0010.jpg"]
    assert _search(photo_search, index, "--tag", "trip", "--tag", "receipts") == []
    assert photo_search("tag", "remove", "receipts", "receipts/td_024.jpg", "--index", str(index)).returncode == 0
    assert _search(photo_search, index, "--tag", "receipts") == ["receipts/td_025.jpg"]
    after = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in library[0].rglob("*") if path.is_file()}
    assert after == before  # nothing written into the photos


def test_a_tag_survives_a_move(library: tuple[Path, Path], photo_search: PhotoSearch, tmp_path: Path) -> None:
    folder, index = tmp_path / "photos", tmp_path / "index"
    shutil.copytree(library[0], folder)
    assert photo_search("index", str(folder), "--index", str(index), "--model", "efficientnet-lite0").returncode == 0
    assert photo_search("tag", "add", "receipts", "receipts/td_024.jpg", "--index", str(index)).returncode == 0
    (folder / "archive").mkdir()
    (folder / "receipts" / "td_024.jpg").rename(folder / "archive" / "hardware store.jpg")
    moved = photo_search("index", str(folder), "--index", str(index), "--json")
    assert json.loads(moved.stdout)["moved"] == 1, moved.stderr
    assert _search(photo_search, index, "--tag", "receipts") == ["archive/hardware store.jpg"]


def test_tags_export_and_import_as_csv(library: tuple[Path, Path], photo_search: PhotoSearch, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(library[1], index)
    table = tmp_path / "mine.csv"
    table.write_text("path,tag\nreceipts/td_026.jpg,receipts\nreceipts/td_026.jpg,fuel\nnot/there.jpg,x\n")
    done = photo_search("tag", "import", str(table), "--index", str(index), "--json")
    assert json.loads(done.stdout) == {"added": 2, "not_in_index": ["not/there.jpg"]}, done.stderr
    out = tmp_path / "tags.csv"
    assert photo_search("tag", "export", "--out", str(out), "--index", str(index)).returncode == 0
    with open(out, newline="", encoding="utf-8") as handle:
        rows = {(row["path"], row["tag"], row["source"]) for row in csv.DictReader(handle)}
    assert {("receipts/td_026.jpg", "fuel", "user"), ("2024/Work/lunch.jpg", "Family", "file")} <= rows
    bad = tmp_path / "bad.csv"
    bad.write_text("file,label\na,b\n")
    refused = photo_search("tag", "import", str(bad), "--index", str(index))
    assert refused.returncode == 2 and "needs the columns path,tag" in refused.stderr
    assert refused.stderr.count("\n") == 1


def test_albums_by_folder_pattern_and_top_level_folder(library: tuple[Path, Path], photo_search: PhotoSearch,
                                                       tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(library[1], index)
    done = photo_search("album", "add", "Rome 2024", "--folders", "2024/Vacation*", "--index", str(index), "--json")
    assert json.loads(done.stdout)["photos"] == 2, done.stderr
    albums = json.loads(photo_search("album", "list", "--index", str(index), "--json").stdout)["albums"]
    assert albums["Rome 2024"] == {"folders": ["2024/Vacation*"], "named": True, "photos": 2}
    assert albums["receipts"]["photos"] == 3 and not albums["receipts"]["named"]
    assert _search(photo_search, index, "--album", "rome 2024") == ["2024/Vacation Rome/td_002.jpg",
                                                                    "2024/Vacation Rome/td_005.jpg"]
    assert _search(photo_search, index, "--album", "2024", "--has-text") == ["2024/Vacation Rome/td_002.jpg",
                                                                             "2024/Vacation Rome/td_005.jpg"]
    unknown = photo_search("search", "--index", str(index), "--album", "Paris")
    assert unknown.returncode == 2 and "no album called 'Paris'" in unknown.stderr and "Rome 2024" in unknown.stderr


def test_bad_tag_commands_are_one_line(library: tuple[Path, Path], photo_search: PhotoSearch) -> None:
    for args in (("tag", "add", "x", "no/such.jpg"), ("tag", "add", " ", "receipts/td_024.jpg"),
                 ("tag", "add", "x"), ("search", "--tag", "never-used")):
        done = photo_search(*args, "--index", str(library[1]))
        assert done.returncode == 2 and done.stderr.count("\n") == 1, (args, done.stderr)
