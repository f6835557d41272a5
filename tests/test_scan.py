"""Scanning a folder: content decides what is an image; clutter, links and odd names are handled."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.errors import BadInput
from helpers.scan import FileEntry, full_hash, identify, scan, walk


@pytest.fixture
def library(tmp_path: Path, messy: Path) -> Path:
    root = tmp_path / "library"
    (root / "trip" / "day 1").mkdir(parents=True)
    shutil.copy(messy / "gps/DSCN0010.jpg", root / "trip/day 1/DSCN0010.jpg")
    shutil.copy(messy / "gps/DSCN0012.jpg", root / "trip/DSCN0012.jpg")
    shutil.copy(messy / "wrong_extension/ukbench09380.png", root / "jpeg_named.png")
    (root / "notes.jpg").write_text("not a photo")
    (root / "readme.txt").write_text("not a photo either, and not named like one")
    for clutter in (".thumbnails", "@eaDir", ".hidden album"):
        (root / clutter).mkdir()
        shutil.copy(messy / "gps/DSCN0021.jpg", root / clutter / "thumb.jpg")
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (root / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    return root


def _paths(result) -> set[str]:
    return {photo.rel_path for photo in result.photos}


def test_images_are_found_by_content_and_clutter_is_passed_over(library: Path) -> None:
    result = scan(library)
    assert _paths(result) == {"trip/day 1/DSCN0010.jpg", "trip/DSCN0012.jpg", "jpeg_named.png"}
    assert [(s.path, s.reason) for s in result.skipped] == [("notes.jpg", "not an image")]
    assert result.ignored == 1  # readme.txt
    named_png = next(p for p in result.photos if p.rel_path == "jpeg_named.png")
    assert named_png.format == "JPEG"


def test_symlink_loops_end_and_broken_links_are_reported(library: Path) -> None:
    (library / "trip" / "loop").symlink_to(library)  # a folder that contains itself
    (library / "gone.jpg").symlink_to(library / "does-not-exist.jpg")
    result = scan(library)
    assert _paths(result) == {"trip/day 1/DSCN0010.jpg", "trip/DSCN0012.jpg", "jpeg_named.png"}
    assert ("gone.jpg", "broken link") in {(s.path, s.reason) for s in result.skipped}


def test_non_utf8_and_odd_file_names(library: Path, messy: Path) -> None:
    odd = os.fsencode(library) + b"/caf\xe9 <b>\n 'photo'.jpg"  # Latin-1 byte, HTML, newline, quotes
    shutil.copy(messy / "gps/DSCN0029.jpg", odd)
    result = scan(library)
    names = _paths(result) - {"trip/day 1/DSCN0010.jpg", "trip/DSCN0012.jpg", "jpeg_named.png"}
    assert len(names) == 1
    (name,) = names
    assert os.fsencode(name) == b"caf\xe9 <b>\n 'photo'.jpg"


def test_quick_hash_ignores_names_and_follows_content(tmp_path: Path, messy: Path) -> None:
    original = messy / "very_large/craft-beer.jpg"  # larger than 2 MiB: head and tail hashed
    copy = tmp_path / "renamed.jpg"
    shutil.copy(original, copy)
    entry = lambda path: FileEntry(path.name, path.stat().st_size, path.stat().st_mtime_ns)
    first = identify(original.parent, entry(original))
    second = identify(tmp_path, entry(copy))
    assert first.content_hash == second.content_hash
    data = bytearray(copy.read_bytes())
    data[-100] ^= 0xFF  # a change inside the last MiB
    copy.write_bytes(bytes(data))
    assert identify(tmp_path, entry(copy)).content_hash != first.content_hash
    assert full_hash(copy) != full_hash(original)


def test_a_file_vanishing_mid_scan_is_not_an_error(library: Path) -> None:
    entries = [item for item in walk(library) if isinstance(item, FileEntry)]
    victim = next(e for e in entries if e.rel_path.endswith("DSCN0012.jpg"))
    (library / victim.rel_path).unlink()
    assert identify(library, victim) is None


def test_missing_or_wrong_folder_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="not found"):
        scan(tmp_path / "nope")
    (tmp_path / "file.jpg").write_bytes(b"x")
    with pytest.raises(BadInput, match="not a folder"):
        scan(tmp_path / "file.jpg")


_AS_NOBODY = """
import json, sys
from helpers.scan import scan
result = scan(sys.argv[1])
print(json.dumps({"photos": sorted(p.rel_path for p in result.photos),
                  "skipped": sorted([s.path, s.reason] for s in result.skipped)}))
"""


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="needs POSIX permissions")
def test_unreadable_files_and_folders_are_reported(library: Path) -> None:
    (library / "private").mkdir()
    shutil.copy(library / "trip/DSCN0012.jpg", library / "private/secret.jpg")
    shutil.copy(library / "trip/DSCN0012.jpg", library / "locked.jpg")
    os.chmod(library / "private", 0o000)
    os.chmod(library / "locked.jpg", 0o000)
    command = [sys.executable, "-c", _AS_NOBODY, str(library)]
    if os.geteuid() == 0:
        # Root reads everything; without the capabilities that let it, root obeys permissions too.
        if not shutil.which("setpriv"):
            pytest.skip("running as root and util-linux setpriv is missing")
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *command]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    finally:
        os.chmod(library / "private", 0o755)
        os.chmod(library / "locked.jpg", 0o644)
    outcome = json.loads(done.stdout)
    assert ["private", "permission denied"] in outcome["skipped"]
    assert ["locked.jpg", "permission denied"] in outcome["skipped"]
    assert "trip/DSCN0012.jpg" in outcome["photos"]
