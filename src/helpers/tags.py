"""Tags and albums: the person's own names for photos ("receipts", "family", "Vacation 2024").

A tag belongs to a photo's content (its hash), not its path: it survives moves and renames, and
is never written into the photo file. Tags come from the person (`tag add`) or from keywords
other tools already wrote into the file (XMP, IPTC: the keywords stage), marked as such. Tags
are matched without regard to case.

An album is a named set of folders, given by patterns ("2024/Vacation*": those folders and
everything below them); every top-level folder is an album of its own without any setup.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from .errors import BadInput, quoted
from .index import PhotoIndex, PhotoRow

OWNER = "tags"
TABLES = {0: """
CREATE TABLE tags (
    content_hash TEXT NOT NULL,
    tag TEXT NOT NULL COLLATE NOCASE,
    source TEXT NOT NULL CHECK (source IN ('user', 'file')),
    PRIMARY KEY (content_hash, tag)
);
CREATE INDEX tags_by_tag ON tags(tag);
CREATE TABLE albums (name TEXT PRIMARY KEY COLLATE NOCASE, patterns TEXT NOT NULL)
"""}
MAX_TAG = 100  # characters


@dataclass(frozen=True)
class Album:
    """A named set of folders: `patterns` match a folder path (and so everything below it);
    `named` False for a top-level folder, which is an album by itself."""

    name: str
    patterns: tuple[str, ...]
    named: bool = True

    def holds(self, folder: str) -> bool:
        """Whether a photo in `folder` (relative, forward slashes, '' at the top) is in the album."""
        parts = folder.split("/") if folder else []
        prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
        return any(fnmatchcase(prefix.casefold(), pattern.casefold()) for prefix in prefixes
                   for pattern in self.patterns)


def ready(index: PhotoIndex) -> None:
    """Make the tag tables (a write: only commands that change tags or an index run call it)."""
    index.ensure_tables(OWNER, TABLES)


def clean_tag(tag: str) -> str:
    """A tag as stored: its words with single spaces. Refuses an empty or overlong one."""
    cleaned = " ".join(tag.split())
    if not cleaned:
        raise BadInput("a tag needs at least one letter")
    if len(cleaned) > MAX_TAG or any(char in cleaned for char in "\x00\n\r"):
        raise BadInput(f"the tag {quoted(tag)} is too long or holds a line break (at most {MAX_TAG} characters)")
    return cleaned


def add_tag(index: PhotoIndex, tag: str, photos: Iterable[PhotoRow], source: str = "user") -> int:
    """Tag the photos; how many were not tagged so already."""
    ready(index)
    tag = clean_tag(tag)
    hashes = {photo.content_hash for photo in photos if photo.content_hash}
    with index.transaction() as db:
        before = db.total_changes
        db.executemany("INSERT OR IGNORE INTO tags (content_hash, tag, source) VALUES (?, ?, ?)",
                       [(content_hash, tag, source) for content_hash in sorted(hashes)])
        return db.total_changes - before


def remove_tag(index: PhotoIndex, tag: str, photos: Iterable[PhotoRow]) -> int:
    """Take the tag off the photos (from the file's keywords too: the file itself is not changed)."""
    if not index.has_tables(OWNER):
        return 0
    hashes = {photo.content_hash for photo in photos if photo.content_hash}
    with index.transaction() as db:
        before = db.total_changes
        db.executemany("DELETE FROM tags WHERE content_hash = ? AND tag = ?",
                       [(content_hash, clean_tag(tag)) for content_hash in sorted(hashes)])
        return db.total_changes - before


def tag_counts(index: PhotoIndex) -> dict[str, int]:
    """Each tag -> how many indexed photos carry it, most used first."""
    if not index.has_tables(OWNER):
        return {}
    rows = index.db.execute(
        "SELECT min(t.tag), count(DISTINCT p.id) FROM tags t JOIN photos p ON p.content_hash = t.content_hash "
        "AND p.status = 'indexed' GROUP BY t.tag ORDER BY count(DISTINCT p.id) DESC, t.tag")
    return {tag: count for tag, count in rows}


def tagged_hashes(index: PhotoIndex, tag: str) -> set[str]:
    """The contents that carry `tag` (case ignored)."""
    if not index.has_tables(OWNER):
        return set()
    return {row[0] for row in index.db.execute("SELECT content_hash FROM tags WHERE tag = ?", (clean_tag(tag),))}


def tags_by_hash(index: PhotoIndex) -> dict[str, list[str]]:
    """Content hash -> its tags, for showing them beside results."""
    if not index.has_tables(OWNER):
        return {}
    found: dict[str, list[str]] = {}
    for content_hash, tag in index.db.execute("SELECT content_hash, tag FROM tags ORDER BY tag"):
        found.setdefault(content_hash, []).append(tag)
    return found


def export_tags(index: PhotoIndex, out: str | os.PathLike[str]) -> int:
    """Write every indexed photo's tags as CSV (path,tag,source); how many rows."""
    rows = [] if not index.has_tables(OWNER) else index.db.execute(
        "SELECT p.path, t.tag, t.source FROM tags t JOIN photos p ON p.content_hash = t.content_hash "
        "AND p.status = 'indexed' ORDER BY p.path, t.tag").fetchall()
    target = Path(out).expanduser()
    temporary = target.with_name(target.name + ".partial")
    try:
        with open(temporary, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["path", "tag", "source"])
            writer.writerows(rows)
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise BadInput(f"cannot write {quoted(target)} ({error.strerror or error})") from None
    return len(rows)


def import_tags(index: PhotoIndex, source: str | os.PathLike[str]) -> tuple[int, list[str]]:
    """Read path,tag rows (as `export_tags` writes, or by hand) and tag those photos; the number of
    tags added, and the paths that are not in the index."""
    path = Path(source).expanduser()
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise BadInput(f"cannot read {quoted(path)} ({getattr(error, 'strerror', None) or error})") from None
    if rows and not {"path", "tag"} <= set(rows[0]):
        raise BadInput(f"{quoted(path)} needs the columns path,tag (it has {', '.join(rows[0])})")
    by_tag: dict[str, list[PhotoRow]] = {}
    missing: list[str] = []
    for row in rows:
        photo = index.find_by_path((row.get("path") or "").strip())
        if photo is None:
            missing.append(row.get("path") or "")
        elif (row.get("tag") or "").strip():
            by_tag.setdefault(clean_tag(row["tag"]), []).append(photo)
    added = sum(add_tag(index, tag, photos) for tag, photos in by_tag.items())
    return added, missing


def add_album(index: PhotoIndex, name: str, patterns: list[str]) -> Album:
    """Name a set of folders (patterns with * and ?, relative to the photo folder)."""
    name = clean_tag(name)
    cleaned = tuple(pattern.strip().strip("/") for pattern in patterns if pattern.strip().strip("/"))
    if not cleaned:
        raise BadInput("an album needs at least one folder pattern, such as --folders '2024/Vacation*'")
    ready(index)
    with index.transaction() as db:
        db.execute("INSERT OR REPLACE INTO albums (name, patterns) VALUES (?, ?)", (name, json.dumps(cleaned)))
    return Album(name, cleaned)


def albums(index: PhotoIndex, folders: Iterable[str]) -> dict[str, Album]:
    """Every album by name (case ignored): the named ones, and each top-level folder of `folders`."""
    found = {top.casefold(): Album(top, (top,), named=False)
             for top in sorted({folder.split("/")[0] for folder in folders if folder})}
    if index.has_tables(OWNER):
        for name, patterns in index.db.execute("SELECT name, patterns FROM albums ORDER BY name"):
            found[name.casefold()] = Album(name, tuple(json.loads(patterns)))
    return found


def album_named(index: PhotoIndex, name: str, folders: Iterable[str]) -> Album:
    """The album called `name`, or a one-line error listing the albums there are."""
    known = albums(index, folders)
    album = known.get(" ".join(name.split()).casefold())
    if album is None:
        names = ", ".join(album.name for album in known.values()) or "none yet"
        raise BadInput(f"no album called {quoted(name)} (albums: {names}); make one with "
                       "`photo-search album add NAME --folders PATTERN`")
    return album
