"""Find the photos in a folder tree: what is there, how big, when changed, and a content hash.

Scanning only reads (stat, and for new files a few bytes to recognise the format and hash
the content); it never opens anything for writing. Problems with single files or folders
(permissions, files vanishing mid-scan, broken links) are recorded, never fatal.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .errors import BadInput, quoted
from .images import formats

# Folders that hold thumbnails, trash or NAS/OS bookkeeping, never a person's photos.
CLUTTER_DIRS = frozenset({
    "@eaDir", "#recycle", "$RECYCLE.BIN", "System Volume Information", "__MACOSX", "#snapshot",
})
CLUTTER_FILES = frozenset({"Thumbs.db", "desktop.ini", "ehthumbs.db"})

_MIB = 1 << 20
DEVELOPED_EXTENSIONS = frozenset({".jpg", ".jpeg", ".heic", ".heif"})
RAW_PAIR = "RAW beside its JPEG"  # the reason a RAW file of a RAW + JPEG pair is not indexed on its own


@dataclass(frozen=True)
class FileEntry:
    """A candidate file seen by the walk: stat data only, no bytes read yet."""

    rel_path: str  # relative to the library root, forward slashes
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class PhotoRecord:
    """A file recognised as an image by its content.

    `content_hash` covers the size plus the first and last MiB: cheap enough for 100k files,
    and it survives renames and moves. `full_hash` reads every byte; it is what exact
    duplicate decisions use.
    """

    rel_path: str
    size: int
    mtime_ns: int
    format: str
    content_hash: str


@dataclass(frozen=True)
class Skipped:
    """A file (or folder) that will not be used, and why, in words a person understands."""

    path: str
    reason: str
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason} | ({"detail": self.detail} if self.detail else {})


@dataclass
class ScanResult:
    root: Path
    photos: list[PhotoRecord] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    ignored: int = 0  # files that are neither images nor named like one (videos, sidecars)


def library_root(folder: str | os.PathLike[str]) -> Path:
    """Check that `folder` is a readable directory and return it absolute."""
    root = Path(folder).expanduser()
    if not exists(root):
        raise BadInput(f"photo folder not found: {quoted(root)}")
    if not root.is_dir():
        raise BadInput(f"not a folder: {quoted(root)} (give the folder that holds your photos)")
    if not os.access(root, os.R_OK | os.X_OK):
        raise BadInput(f"cannot read the photo folder: {quoted(root)} (check its permissions)")
    return root.resolve()


def exists(path: Path, *, as_file: bool = False) -> bool:
    """Whether a path a person typed exists; a name too long for the system, or with a NUL
    character, simply does not (instead of raising)."""
    try:
        return path.is_file() if as_file else path.exists()
    except (OSError, ValueError):
        return False


def walk(root: Path) -> Iterator[FileEntry | Skipped]:
    """Yield every candidate file below `root` (stat only), and every problem met.

    Follows symbolic links to folders, but visits each real folder once, so link loops end.
    Hidden entries and OS clutter are passed over without a report.
    """
    seen_dirs: set[tuple[int, int]] = set()
    pending = [""]
    while pending:
        rel_dir = pending.pop()
        folder = root / rel_dir if rel_dir else root
        try:
            info = folder.stat()
            if (info.st_dev, info.st_ino) in seen_dirs:
                continue
            seen_dirs.add((info.st_dev, info.st_ino))
            with os.scandir(folder) as entries:
                children = sorted(entries, key=lambda entry: entry.name)
        except PermissionError:
            yield Skipped(rel_dir or ".", "permission denied", "folder could not be listed")
            continue
        except FileNotFoundError:
            continue  # the folder vanished between listing its parent and opening it
        except OSError as error:
            yield Skipped(rel_dir or ".", "unreadable folder", str(error))
            continue
        subfolders = []
        developed = _developed_stems(children)
        for entry in children:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.name.startswith(".") or entry.name in CLUTTER_FILES or entry.name in CLUTTER_DIRS:
                continue
            sibling = developed.get(_raw_stem(entry.name) or "")
            if sibling is not None:
                yield Skipped(rel, RAW_PAIR, f"indexed as {sibling}")
                continue
            item = _stat_entry(entry, rel)
            if isinstance(item, str):  # "dir"
                subfolders.append(rel)
            elif item is not None:
                yield item
        pending.extend(reversed(subfolders))  # depth-first, in name order


def _developed_stems(children: list[os.DirEntry[str]]) -> dict[str, str]:
    """Lower-case name stems of the JPEG and HEIC files in one folder: a camera RAW file with the
    same stem beside one of them is the same shot, and is indexed once, as the developed file."""
    return {os.path.splitext(entry.name)[0].lower(): entry.name for entry in children
            if os.path.splitext(entry.name)[1].lower() in DEVELOPED_EXTENSIONS}


def _raw_stem(name: str) -> str | None:
    stem, extension = os.path.splitext(name)
    return stem.lower() if extension.lower() in formats.RAW_EXTENSIONS else None


def _stat_entry(entry: os.DirEntry[str], rel: str) -> FileEntry | Skipped | str | None:
    try:
        info = entry.stat()  # follows links
    except FileNotFoundError:
        if entry.is_symlink():
            return Skipped(rel, "broken link")
        return None  # vanished mid-scan: it is simply no longer part of the library
    except PermissionError:
        return Skipped(rel, "permission denied")
    except OSError as error:
        return Skipped(rel, "unreadable", str(error))
    if stat.S_ISDIR(info.st_mode):
        return "dir"
    if not stat.S_ISREG(info.st_mode):
        return None  # sockets, fifos, devices: reading them could block forever
    return FileEntry(rel, info.st_size, info.st_mtime_ns)


def identify(root: Path, entry: FileEntry) -> PhotoRecord | Skipped | None:
    """Recognise an image by content and hash it; None for non-image files not named like one."""
    path = root / entry.rel_path
    try:
        with open(path, "rb") as handle:
            head = handle.read(formats.SNIFF_BYTES)
            format_name = formats.identify(head, entry.rel_path)
            if format_name is None:
                return _not_an_image(entry, head)
            content_hash = _quick_hash(handle, head, entry.size)
    except PermissionError:
        return Skipped(entry.rel_path, "permission denied")
    except FileNotFoundError:
        return None  # vanished mid-scan
    except OSError as error:
        return Skipped(entry.rel_path, "unreadable", str(error))
    if not formats.is_decodable(format_name):
        return Skipped(entry.rel_path, f"unsupported format: {format_name}")
    return PhotoRecord(entry.rel_path, entry.size, entry.mtime_ns, format_name, content_hash)


def _not_an_image(entry: FileEntry, head: bytes) -> Skipped | None:
    if not formats.has_image_extension(entry.rel_path):
        return None
    return Skipped(entry.rel_path, "empty file" if not head else "not an image")


def _quick_hash(handle: BinaryIO, head: bytes, size: int) -> str:
    first = head + handle.read(_MIB - len(head))
    if size > 2 * _MIB:
        handle.seek(size - _MIB)
    return _combine(size, first, handle.read(_MIB))


def hash_file(path: str | os.PathLike[str]) -> str:
    """The content hash of one file, as a scan computes it."""
    with open(path, "rb") as handle:
        return _quick_hash(handle, b"", os.fstat(handle.fileno()).st_size)


def hash_bytes(data: bytes) -> str:
    """The content hash of an in-memory file (an upload), equal to what a scan gives the same file."""
    return _combine(len(data), data[:_MIB], data[-_MIB:] if len(data) > 2 * _MIB else data[_MIB:])


def _combine(size: int, first: bytes, last: bytes) -> str:
    digest = hashlib.blake2b(size.to_bytes(8, "little"), digest_size=16)
    digest.update(first)
    digest.update(last)
    return digest.hexdigest()


def full_hash(path: str | os.PathLike[str]) -> str:
    """Hash of every byte: the only safe basis for calling two files exact duplicates."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        while chunk := handle.read(4 * _MIB):
            digest.update(chunk)
    return digest.hexdigest()


def scan(folder: str | os.PathLike[str]) -> ScanResult:
    """Walk `folder` and identify every image in it."""
    root = library_root(folder)
    result = ScanResult(root)
    for item in walk(root):
        if isinstance(item, Skipped):
            result.skipped.append(item)
            continue
        found = identify(root, item)
        if found is None:
            result.ignored += 1
        elif isinstance(found, Skipped):
            result.skipped.append(found)
        else:
            result.photos.append(found)
    return result
