"""The on-disk index: one SQLite file holding a row per photo (metadata, vector, thumbnail) and
the configuration that says which model made the vectors.

SQLite gives what a photo index needs: every change is a transaction, so a crash or `kill -9`
at any moment leaves either the old or the new state, never half of one (write-ahead log).
Vectors are stored as float16 (half the size, cosine scores change by about 1e-4).
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path, PurePosixPath
from typing import IO, Any, Self

import numpy as np

from .errors import BadInput, IndexBusy, IndexUnusable, quoted
from .metadata import PhotoMetadata
from .places import Place
from .records import Batch
from .scan import PhotoRecord, Skipped

DB_NAME = "index.sqlite"
LOCK_NAME = "index.lock"
WRITER_WAIT = 15.0  # seconds a second `index` run waits for the first before saying it is busy
SCHEMA_VERSION = 3
VECTOR_DTYPE = np.float16

_SCHEMA_V1 = """
CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE photos (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,      -- relative to the photo folder, forward slashes, printable
    raw_path BLOB,                  -- the exact bytes, only for names that are not valid UTF-8
    folder TEXT NOT NULL,           -- the path's folder part ('' at the top)
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    content_hash TEXT,
    format TEXT,
    width INTEGER,
    height INTEGER,
    date_taken TEXT,
    date_source TEXT,
    camera_make TEXT,
    camera_model TEXT,
    latitude REAL,
    longitude REAL,
    status TEXT NOT NULL CHECK (status IN ('indexed', 'skipped')),
    reason TEXT,                    -- why a skipped file was skipped
    vector BLOB                     -- float16, present exactly when status = 'indexed'
);
CREATE INDEX photos_by_hash ON photos(content_hash);
CREATE TABLE thumbnails (
    photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
    jpeg BLOB NOT NULL
);
"""
# Version 2: where GPS photos were taken, in words (filled by the indexer; '' when nowhere near a town).
_PLACES_V2 = """
ALTER TABLE photos ADD COLUMN city TEXT;
ALTER TABLE photos ADD COLUMN region TEXT;
ALTER TABLE photos ADD COLUMN country TEXT;
ALTER TABLE photos ADD COLUMN district TEXT
"""
# Version 3: copies kept current as photos come and go (the duplicate finder writes these). A photo's
# turn-free signature is stored once its candidate pairs were found (NULL: still to do); each candidate
# pair keeps its embedding similarity and, once verified, the verdict (JSON); copy_groups says which
# result each photo folds into in search (its group's root photo) and how it relates to it.
_COPIES_V3 = """
ALTER TABLE photos ADD COLUMN signature BLOB;
CREATE TABLE copy_pairs (
    a INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    b INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    cosine REAL NOT NULL,
    verdict TEXT,
    PRIMARY KEY (a, b)
);
CREATE INDEX copy_pairs_by_b ON copy_pairs(b);
CREATE TABLE copy_groups (
    photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
    root INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('keep', 'exact', 'near', 'similar'))
)
"""
# Step-by-step migrations: _MIGRATIONS[n] takes a database at version n to n + 1.
_MIGRATIONS: dict[int, str] = {0: _SCHEMA_V1, 1: _PLACES_V2, 2: _COPIES_V3}


@dataclass(frozen=True)
class IndexConfig:
    """What an index records about itself (its config table), typed. The model fields let it refuse
    vectors from any other model; `dupes` is the duplicate finder's calibration, when measured."""

    model_id: str | None = None
    fingerprint: str | None = None
    dimension: int | None = None
    preprocess: dict[str, Any] | None = None
    photos_root: str | None = None
    format_version: int | None = None
    created: str | None = None
    generation: int = 0  # bumped by every change to the set of vectors (names the faiss cache)
    dupes: dict[str, Any] | None = None
    cutoff: dict[str, Any] | None = None  # the automatic search cutoff (relevance.Cutoff), when measured
    copies: dict[str, Any] | None = None  # the settings the stored copy pairs were found with
    text_cutoff: dict[str, Any] | None = None  # the automatic cutoff for text queries (relevance.TextCutoff)


_CONFIG_KEYS = frozenset(field.name for field in fields(IndexConfig))


@dataclass(frozen=True)
class KnownFile:
    id: int
    size: int
    mtime_ns: int
    content_hash: str | None
    status: str


@dataclass(frozen=True)
class SkippedFile:
    """A file the index remembers as unusable, with the stat data that says when to retry it."""

    rel_path: str
    size: int
    mtime_ns: int
    reason: str
    content_hash: str | None = None


@dataclass(frozen=True)
class PhotoRow:
    """What a search result or a gallery shows about one photo."""

    id: int
    path: str
    folder: str
    date_taken: str | None
    date_source: str | None
    camera_make: str | None
    camera_model: str | None
    width: int | None
    height: int | None
    format: str | None
    content_hash: str | None
    latitude: float | None = None
    longitude: float | None = None
    size: int | None = None  # bytes
    city: str | None = None
    region: str | None = None
    country: str | None = None
    district: str | None = None

    @property
    def camera(self) -> str:
        return " ".join(part for part in (self.camera_make, self.camera_model) if part)

    @property
    def place(self) -> str | None:
        """"Lund, Skåne, Sweden", or None for a photo without GPS or far from any town."""
        return str(self.as_place()) if self.country else None

    def as_place(self) -> Place:
        return Place(self.city or "", self.region or "", self.country or "", self.district or "")


_ROW_COLUMNS = ("id, path, folder, date_taken, date_source, camera_make, camera_model, width, height, format,"
                " content_hash, latitude, longitude, size, city, region, country, district")


def printable_path(rel_path: str) -> tuple[str, bytes | None]:
    """A name that is not valid UTF-8 is stored readable (with \\xNN escapes) plus its exact bytes."""
    try:
        rel_path.encode("utf-8")
        return rel_path, None
    except UnicodeEncodeError:
        raw = os.fsencode(rel_path)
        return raw.decode("utf-8", "backslashreplace"), raw


def folder_of(path: str) -> str:
    parent = str(PurePosixPath(path).parent)
    return "" if parent == "." else parent


class PhotoIndex:
    """An open index folder. Use `PhotoIndex.open(folder)`; close it, or use it in a `with`."""

    def __init__(self, folder: Path, connection: sqlite3.Connection) -> None:
        self.folder = folder
        self.db = connection

    @classmethod
    def open(cls, folder: str | os.PathLike[str], *, create: bool = False) -> PhotoIndex:
        folder = Path(folder).expanduser().resolve()
        database = folder / DB_NAME
        if not database.exists():
            if not create:
                raise BadInput(f"no index at {quoted(folder)}: build one with "
                               f"`photo-search index PHOTOS_DIR --index {quoted(folder)}`")
            _make_folder(folder)
        elif create and not os.access(folder, os.W_OK):
            raise IndexUnusable(f"cannot write to the index folder {folder} (permission denied); "
                                "give --index a folder you can write to")
        try:
            connection = sqlite3.connect(database, timeout=10, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA foreign_keys=ON")
            index = cls(folder, connection)
            index._migrate()
        except sqlite3.DatabaseError as error:
            raise IndexUnusable(f"the index at {folder} cannot be read ({error}); "
                                "delete the folder to rebuild it") from None
        return index

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def writer(self, wait: float = WRITER_WAIT) -> Iterator[None]:
        """One updating run at a time. A second run waits up to `wait` seconds for the first (then
        it finds the work done and has nothing left to do), else raises IndexBusy. An OS file lock:
        released by the system even when the holder is killed."""
        with open(self.folder / LOCK_NAME, "a+") as handle:
            deadline = time.monotonic() + wait
            while not _try_lock(handle):
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    raise IndexBusy(str(self.folder), handle.read().strip() or "another process")
                time.sleep(0.1)
            handle.seek(0)
            handle.truncate()
            handle.write(f"process {os.getpid()}")
            handle.flush()
            try:
                yield
            finally:
                _unlock(handle)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing: either every statement inside lands on disk, or none does."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise IndexUnusable(f"the index at {self.folder} is busy ({error}): is another photo-search "
                              "updating it?") from None
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see one state of the index, whatever a concurrent update commits meanwhile."""
        self.db.execute("BEGIN")
        try:
            yield
        finally:
            self.db.execute("COMMIT")

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise IndexUnusable(f"the index at {self.folder} was written by a newer photo-search "
                              f"(schema {version}); upgrade photo-search to use it")
        while version < SCHEMA_VERSION:
            with self.transaction() as db:
                # Read again inside the write transaction: two runs opening a new index at once
                # would otherwise both apply the same step.
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version >= SCHEMA_VERSION:
                    break
                _run_script(db, _MIGRATIONS[version])
                version += 1
                db.execute(f"PRAGMA user_version = {version}")

    # --- configuration ------------------------------------------------------------------

    def config(self) -> IndexConfig:
        stored = {key: json.loads(value) for key, value in self.db.execute("SELECT key, value FROM config")}
        return IndexConfig(**{key: value for key, value in stored.items() if key in _CONFIG_KEYS})

    def set_config(self, db: sqlite3.Connection | None = None, **values: Any) -> None:
        """Store some fields of the IndexConfig (in `db`'s transaction when given)."""
        unknown = set(values) - _CONFIG_KEYS
        if unknown:
            raise ValueError(f"not index config fields: {', '.join(sorted(unknown))}")
        (db or self.db).executemany("INSERT OR REPLACE INTO config (key, value) VALUES (?, ?)",
                                    [(key, json.dumps(value)) for key, value in values.items()])

    @property
    def model_id(self) -> str | None:
        return self.config().model_id

    @property
    def photos_root(self) -> Path | None:
        root = self.config().photos_root
        return Path(root) if root else None

    # --- reading ------------------------------------------------------------------------

    def known_files(self) -> dict[str, KnownFile]:
        rows = self.db.execute("SELECT path, raw_path, id, size, mtime_ns, content_hash, status FROM photos")
        return {(os.fsdecode(raw) if raw else path): KnownFile(*rest) for path, raw, *rest in rows}

    def count(self, status: str = "indexed") -> int:
        return self.db.execute("SELECT count(*) FROM photos WHERE status = ?", (status,)).fetchone()[0]

    def indexed_files(self) -> list[tuple[PhotoRecord, PhotoMetadata]]:
        """What the index recorded about each indexed file when it decoded it, by path."""
        rows = self.db.execute(
            "SELECT path, size, mtime_ns, content_hash, format, width, height, date_taken, date_source, "
            "camera_make, camera_model, latitude, longitude FROM photos WHERE status = 'indexed' ORDER BY path")
        return [(PhotoRecord(path, size, mtime_ns, fmt or "unknown", content_hash or ""),
                 PhotoMetadata(width or 0, height or 0, date or "", source or "", make, model, lat, lon))
                for path, size, mtime_ns, content_hash, fmt, width, height, date, source, make, model, lat, lon
                in rows]

    def skipped(self) -> list[Skipped]:
        rows = self.db.execute("SELECT path, reason FROM photos WHERE status = 'skipped' ORDER BY path")
        return [Skipped(path, reason or "unreadable") for path, reason in rows]

    def load_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of every indexed photo, in id order. Checks that every vector has the
        index's dimension, so a damaged or mixed index is refused rather than misread."""
        dimension = self.config().dimension
        rows = self.db.execute("SELECT id, vector FROM photos WHERE status = 'indexed' ORDER BY id").fetchall()
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        if not rows:
            return ids, np.zeros((0, dimension or 0), dtype=VECTOR_DTYPE)
        width = np.dtype(VECTOR_DTYPE).itemsize * int(dimension or 0)
        if any(row[1] is None or len(row[1]) != width for row in rows):
            raise IndexUnusable(f"the index at {self.folder} has vectors of the wrong size; rebuild it with --reembed")
        vectors = np.frombuffer(b"".join(row[1] for row in rows), dtype=VECTOR_DTYPE).reshape(len(rows), -1)
        return ids, vectors

    def photo_rows(self) -> list[PhotoRow]:
        """Every indexed photo, in id order (the order of `load_vectors`)."""
        query = f"SELECT {_ROW_COLUMNS} FROM photos WHERE status = 'indexed' ORDER BY id"
        return [PhotoRow(*row) for row in self.db.execute(query)]

    def find_by_path(self, rel_path: str) -> PhotoRow | None:
        row = self.db.execute(f"SELECT {_ROW_COLUMNS} FROM photos WHERE path = ? AND status = 'indexed'",
                              (printable_path(rel_path)[0],)).fetchone()
        return PhotoRow(*row) if row else None

    def unplaced(self) -> list[tuple[int, float, float]]:
        """(id, latitude, longitude) of GPS photos whose place has not been looked up yet."""
        return self.db.execute("SELECT id, latitude, longitude FROM photos WHERE status = 'indexed' AND "
                               "latitude IS NOT NULL AND longitude IS NOT NULL AND country IS NULL").fetchall()

    def set_places(self, places: Iterable[tuple[int, Place | None]]) -> None:
        """Store looked-up places; None (no town near) is stored as '' so it is not looked up again."""
        with self.transaction() as db:
            db.executemany("UPDATE photos SET city = ?, region = ?, country = ?, district = ? WHERE id = ?",
                           [(p.city, p.region, p.country, p.district, photo_id) if p else ("", "", "", "", photo_id)
                            for photo_id, p in places])

    def vector(self, photo_id: int) -> np.ndarray:
        row = self.db.execute("SELECT vector FROM photos WHERE id = ?", (photo_id,)).fetchone()
        if not row or row[0] is None:
            raise BadInput(f"photo {photo_id} has no vector in this index")
        return np.frombuffer(row[0], dtype=VECTOR_DTYPE).astype(np.float32)

    def ann_cache(self) -> Path:
        """Where the approximate-search structure for the current state lives; older ones go."""
        current = self.folder / f"ann-{self.config().generation}.faiss"
        for stale in self.folder.glob("ann-*.faiss"):
            if stale != current:
                stale.unlink(missing_ok=True)
        return current

    # --- copies (kept by `duplicates`) -----------------------------------------------------

    def unsigned(self) -> list[int]:
        """Ids of indexed photos whose candidate pairs have not been found yet."""
        return [row[0] for row in self.db.execute(
            "SELECT id FROM photos WHERE status = 'indexed' AND signature IS NULL ORDER BY id")]

    def signatures(self) -> dict[int, bytes]:
        return dict(self.db.execute("SELECT id, signature FROM photos WHERE status = 'indexed' AND "
                                    "signature IS NOT NULL"))

    def copy_pairs(self) -> list[tuple[int, int, float, str | None]]:
        """(id a, id b, cosine, verdict JSON or None) of every stored candidate pair, a < b."""
        return self.db.execute("SELECT a, b, cosine, verdict FROM copy_pairs").fetchall()

    def add_copy_candidates(self, signatures: Iterable[tuple[int, bytes]],
                            pairs: Iterable[tuple[int, int, float]]) -> None:
        """Store newly found candidate pairs and mark their photos as done, in one transaction."""
        with self.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO copy_pairs (a, b, cosine) VALUES (?, ?, ?)",
                           [(min(a, b), max(a, b), cosine) for a, b, cosine in pairs])
            db.executemany("UPDATE photos SET signature = ? WHERE id = ?",
                           [(signature, photo_id) for photo_id, signature in signatures])

    def store_verdicts(self, verdicts: Iterable[tuple[int, int, str]]) -> None:
        """Verdicts (JSON) of stored candidate pairs, keyed by the pair's ids (a < b)."""
        with self.transaction() as db:
            db.executemany("UPDATE copy_pairs SET verdict = ? WHERE a = ? AND b = ?",
                           [(verdict, a, b) for a, b, verdict in verdicts])

    def reset_copies(self, settings: dict[str, Any]) -> None:
        """Forget every stored pair (found with other settings): all photos are looked at again."""
        with self.transaction() as db:
            db.execute("DELETE FROM copy_pairs")
            db.execute("DELETE FROM copy_groups")
            db.execute("UPDATE photos SET signature = NULL")
            self.set_config(db, copies=settings)

    def set_copy_groups(self, rows: Iterable[tuple[int, int, str]]) -> None:
        """Replace the search-time folding: (photo id, root photo id, kind) for every photo in a group."""
        with self.transaction() as db:
            db.execute("DELETE FROM copy_groups")
            db.executemany("INSERT INTO copy_groups (photo_id, root, kind) VALUES (?, ?, ?)", list(rows))

    def copy_groups(self) -> list[tuple[int, int, str]]:
        return self.db.execute("SELECT photo_id, root, kind FROM copy_groups").fetchall()

    def thumbnail(self, photo_id: int) -> bytes | None:
        row = self.db.execute("SELECT jpeg FROM thumbnails WHERE photo_id = ?", (photo_id,)).fetchone()
        return row[0] if row else None

    # --- writing (each call is one transaction) -----------------------------------------

    def write_batch(self, batch: Batch) -> None:
        """Insert or replace the rows of one embedded batch, thumbnails included, atomically."""
        with self.transaction() as db:
            for item in batch.embedded:
                meta, record = item.metadata, item.record
                photo_id = self._upsert(db, record.rel_path, record.size, record.mtime_ns, {
                    "content_hash": record.content_hash, "format": item.format, "width": meta.width,
                    "height": meta.height, "date_taken": meta.date_taken, "date_source": meta.date_source,
                    "camera_make": meta.camera_make, "camera_model": meta.camera_model,
                    "latitude": meta.latitude, "longitude": meta.longitude, "status": "indexed", "reason": None,
                    "vector": np.asarray(item.vector, dtype=VECTOR_DTYPE).tobytes(), "signature": None})
                _forget_copies(db, photo_id)
                db.execute("INSERT OR REPLACE INTO thumbnails (photo_id, jpeg) VALUES (?, ?)",
                           (photo_id, item.thumbnail))
            for rejected in batch.rejected:
                self._write_skipped(db, SkippedFile(rejected.record.rel_path, rejected.record.size,
                                                    rejected.record.mtime_ns, rejected.reason,
                                                    rejected.record.content_hash))
            self._bump_generation(db)

    def update_files(self, *, removed: Iterable[int] = (), moved: Iterable[tuple[int, str, int, int]] = (),
                     touched: Iterable[tuple[int, int, int]] = (), unusable: Iterable[SkippedFile] = ()) -> None:
        """Every change that needs no model, in one transaction: removed photo ids; moved photos as
        (id, new path, size, mtime_ns), which keep their vectors; touched photos as (id, size,
        mtime_ns), content unchanged; and files remembered as unusable, so that unchanged ones are
        not tried again next run."""
        with self.transaction() as db:
            db.executemany("DELETE FROM photos WHERE id = ?", [(int(i),) for i in removed])
            for photo_id, rel_path, size, mtime_ns in moved:
                path, raw = printable_path(rel_path)
                db.execute("UPDATE photos SET path = ?, raw_path = ?, folder = ?, size = ?, mtime_ns = ? "
                           "WHERE id = ?", (path, raw, folder_of(path), size, mtime_ns, photo_id))
            db.executemany("UPDATE photos SET size = ?, mtime_ns = ? WHERE id = ?",
                           [(size, mtime_ns, photo_id) for photo_id, size, mtime_ns in touched])
            for item in unusable:
                self._write_skipped(db, item)
            self._bump_generation(db)

    def _write_skipped(self, db: sqlite3.Connection, item: SkippedFile) -> None:
        photo_id = self._upsert(db, item.rel_path, item.size, item.mtime_ns, {
            "status": "skipped", "reason": item.reason, "content_hash": item.content_hash, "vector": None,
            "signature": None})
        db.execute("DELETE FROM thumbnails WHERE photo_id = ?", (photo_id,))
        _forget_copies(db, photo_id)

    def _upsert(self, db: sqlite3.Connection, rel_path: str, size: int, mtime_ns: int, values: dict[str, Any]) -> int:
        path, raw = printable_path(rel_path)
        columns = {"path": path, "raw_path": raw, "folder": folder_of(path), "size": size, "mtime_ns": mtime_ns,
                   **values}
        names = ", ".join(columns)
        updates = ", ".join(f"{name} = excluded.{name}" for name in columns if name != "path")
        db.execute(f"INSERT INTO photos ({names}) VALUES ({', '.join('?' * len(columns))}) "
                   f"ON CONFLICT(path) DO UPDATE SET {updates}", list(columns.values()))
        return db.execute("SELECT id FROM photos WHERE path = ?", (path,)).fetchone()[0]

    def clear(self) -> None:
        """Forget every photo and the model, in one step: a re-embed starts from a clean index."""
        with self.transaction() as db:
            db.execute("DELETE FROM photos")
            db.execute("DELETE FROM config WHERE key IN ('model_id', 'fingerprint', 'dimension', 'preprocess')")
            self._bump_generation(db)

    def _bump_generation(self, db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO config (key, value) VALUES ('generation', '1') "
                   "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1")


def _forget_copies(db: sqlite3.Connection, photo_id: int) -> None:
    """A photo whose content changed is looked at again for copies."""
    db.execute("DELETE FROM copy_pairs WHERE a = ? OR b = ?", (photo_id, photo_id))
    db.execute("DELETE FROM copy_groups WHERE photo_id = ? OR root = ?", (photo_id, photo_id))


def _run_script(db: sqlite3.Connection, script: str) -> None:
    # executescript() would COMMIT our open transaction first; run statement by statement instead.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise IndexUnusable(f"cannot create the index folder {folder} ({error.strerror}); "
                            "give --index a folder you can write to") from None


if sys.platform == "win32":
    import msvcrt

    def _try_lock(handle: IO[str]) -> bool:
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(handle: IO[str]) -> None:
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(handle: IO[str]) -> bool:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(handle: IO[str]) -> None:
        fcntl.flock(handle, fcntl.LOCK_UN)
