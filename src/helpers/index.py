"""The core store: one SQLite file holding a row per photo (metadata, vector, thumbnail), the
configuration that says which model made the vectors, the schema and its migrations, and the lock.

It knows no feature. What the stages (`helpers.stages`: places, copy groups, the search cutoff, ...)
add about a photo lives in tables each stage owns; the store only offers them the bookkeeping
every stage needs: its own schema version (`ensure_tables`), which photos it has processed at
which version (`pending`, `mark_done`), and one small state value (`stage_state`). A photo whose
content changes gets a new row, so every stage's rows for the old content go with the old one.

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
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path, PurePosixPath
from typing import IO, Any, Self

import numpy as np

from .errors import VANISHED, BadInput, IndexBusy, IndexUnusable, quoted, write_failed
from .images.metadata import PhotoMetadata
from .records import Batch
from .scan import PhotoRecord, Skipped

DB_NAME = "index.sqlite"
LOCK_NAME = "index.lock"
WRITER_WAIT = 15.0  # seconds a second `index` run waits for the first before saying it is busy
SCHEMA_VERSION = 4
VECTOR_DTYPE = np.float16

_SCHEMA = """
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
)
"""
# The stages' bookkeeping (version 4): each stage's own schema version, which photos it has
# processed at which version of itself, and one JSON state value per stage.
_STAGES = """
CREATE TABLE stage_tables (owner TEXT PRIMARY KEY, version INTEGER NOT NULL);
CREATE TABLE stage_done (
    stage TEXT NOT NULL,
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    PRIMARY KEY (stage, photo_id)
);
CREATE TABLE stage_state (stage TEXT PRIMARY KEY, value TEXT NOT NULL)
"""
# Versions 2 and 3 kept places and copy groups inside the core tables; version 4 hands them to
# their stages, which find them again on the next run (a duplicate calibration is kept).
_FEATURE_COLUMNS = ("city", "region", "country", "district", "signature")
_FEATURE_TABLES = ("copy_groups", "copy_pairs")
_FEATURE_CONFIG = ("cutoff", "copies", "text_cutoff", "dupes")


def _create(db: sqlite3.Connection) -> None:
    _run_script(db, _SCHEMA)
    _run_script(db, _STAGES)


def _to_stages(db: sqlite3.Connection) -> None:
    """Schema 1-3 -> 4: what features kept in the core tables leaves them."""
    _run_script(db, _STAGES)
    calibration = db.execute("SELECT value FROM config WHERE key = 'dupes'").fetchone()
    if calibration:
        db.execute("INSERT INTO stage_state (stage, value) VALUES ('copies.calibration', ?)", calibration)
    for table in _FEATURE_TABLES:
        db.execute(f"DROP TABLE IF EXISTS {table}")
    columns = {row[1] for row in db.execute("PRAGMA table_info(photos)")}
    for column in _FEATURE_COLUMNS:
        if column in columns:
            db.execute(f"ALTER TABLE photos DROP COLUMN {column}")
    db.executemany("DELETE FROM config WHERE key = ?", [(key,) for key in _FEATURE_CONFIG])


# _MIGRATIONS[n] takes a database at version n to SCHEMA_VERSION; a new file gets the current schema.
_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {0: _create, 1: _to_stages, 2: _to_stages,
                                                               3: _to_stages}


@dataclass(frozen=True)
class IndexConfig:
    """What an index records about itself (its config table), typed. The model fields let it refuse
    vectors from any other model."""

    model_id: str | None = None
    fingerprint: str | None = None
    dimension: int | None = None
    preprocess: dict[str, Any] | None = None
    photos_root: str | None = None
    format_version: int | None = None
    created: str | None = None
    generation: int = 0  # bumped by every change to the set of vectors (names the faiss cache)


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

    @property
    def camera(self) -> str:
        return " ".join(part for part in (self.camera_make, self.camera_model) if part)


_ROW_COLUMNS = ("id, path, folder, date_taken, date_source, camera_make, camera_model, width, height, format,"
                " content_hash, latitude, longitude, size")


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
        self._lock: IO[str] | None = None  # the lock file while this process holds the writer lock

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
            self._lock = handle
            self.note_progress("starting")
            try:
                yield
            finally:
                self._lock = None
                _unlock(handle)

    def note_progress(self, doing: str) -> None:
        """Say in the lock file how far this run has got, for a search meanwhile (`indexing_status`)."""
        if self._lock is not None:
            self._lock.seek(0)
            self._lock.truncate()
            self._lock.write(f"process {os.getpid()}: {doing}")
            self._lock.flush()

    def indexing_status(self) -> str | None:
        """What an updating run (another process, or this one) says it is doing, or None when none runs."""
        try:
            with open(self.folder / LOCK_NAME) as handle:
                if _try_lock(handle):
                    _unlock(handle)
                    return None
                return handle.read().strip() or "another process"
        except OSError:
            return None  # no lock file (no run ever), or one this process may not read

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing: either every statement inside lands on disk, or none does."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise write_failed(self.folder, error) from None
            raise IndexUnusable(f"the index at {self.folder} is busy ({error}): is another photo-search "
                                "updating it?") from None
        try:
            yield self.db
            self.db.execute("COMMIT")
        except sqlite3.OperationalError as error:
            self._rollback()
            raise write_failed(self.folder, error) from None
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

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
                _MIGRATIONS[version](db)
                version = SCHEMA_VERSION
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
        if db is None:
            with self.transaction() as own:
                self.set_config(own, **values)
            return
        db.executemany("INSERT OR REPLACE INTO config (key, value) VALUES (?, ?)",
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

    def photo_named(self, name: str) -> PhotoRow:
        """The indexed photo a person means by `name`: a path relative to the photo folder, or a
        path to the file itself (absolute, or relative to where they are)."""
        row = self.find_by_path(name.replace(os.sep, "/"))
        root = self.photos_root
        if row is None and root is not None:
            try:
                relative = Path(name).expanduser().resolve().relative_to(root.resolve())
            except (ValueError, OSError):
                relative = None
            row = self.find_by_path(relative.as_posix()) if relative is not None else None
        if row is None:
            raise BadInput(f"{quoted(name)} is not a photo of this index: give its path inside the photo folder"
                           + (f" {quoted(root)}" if root else ""))
        return row

    def ann_cache(self) -> Path:
        """Where the approximate-search structure for the current state lives; older ones go."""
        current = self.folder / f"ann-{self.config().generation}.faiss"
        for stale in self.folder.glob("ann-*.faiss"):
            if stale != current:
                stale.unlink(missing_ok=True)
        return current

    def thumbnail(self, photo_id: int) -> bytes | None:
        row = self.db.execute("SELECT jpeg FROM thumbnails WHERE photo_id = ?", (photo_id,)).fetchone()
        return row[0] if row else None

    # --- what the stages need of the core ---------------------------------------------------

    def ensure_tables(self, owner: str, migrations: Mapping[int, str]) -> None:
        """Bring a stage's own tables to its newest schema: `migrations[n]` (SQL statements) takes
        them from version n to n + 1, each step in one transaction with its version mark."""
        newest = max(migrations, default=-1) + 1
        while (version := self._owner_version(owner)) < newest:
            with self.transaction() as db:
                if self._owner_version(owner) != version:  # another process did this step meanwhile
                    continue
                _run_script(db, migrations[version])
                db.execute("INSERT OR REPLACE INTO stage_tables (owner, version) VALUES (?, ?)", (owner, version + 1))
        if version > newest:
            raise IndexUnusable(f"the index at {self.folder} holds {owner} data written by a newer photo-search; "
                                "upgrade photo-search to use it")

    def has_tables(self, owner: str) -> bool:
        """Whether `owner`'s tables exist (a read path must not create them)."""
        return self._owner_version(owner) > 0

    def _owner_version(self, owner: str) -> int:
        row = self.db.execute("SELECT version FROM stage_tables WHERE owner = ?", (owner,)).fetchone()
        return int(row[0]) if row else 0

    def pending(self, stage: str, version: int) -> list[int]:
        """Ids of indexed photos that `stage` has not processed at `version` (new photos, changed
        ones, all of them after the stage's version changed), in id order."""
        return [row[0] for row in self.db.execute(
            "SELECT id FROM photos WHERE status = 'indexed' AND NOT EXISTS (SELECT 1 FROM stage_done "
            "WHERE stage = ? AND photo_id = photos.id AND version = ?) ORDER BY id", (stage, version))]

    def pending_files(self, stage: str, version: int) -> list[tuple[int, Path]]:
        """The photos `stage` has still to read from disk, as (id, file), in id order; none while the
        index has no photo folder to read them from."""
        pending = set(self.pending(stage, version))
        root = self.photos_root
        if not pending or root is None:
            return []
        return sorted((known.id, root / path) for path, known in self.known_files().items() if known.id in pending)

    def mark_done(self, db: sqlite3.Connection, stage: str, version: int, photo_ids: Iterable[int]) -> None:
        """Record, inside the stage's own transaction, that it processed these photos."""
        db.executemany("INSERT OR REPLACE INTO stage_done (stage, photo_id, version) VALUES (?, ?, ?)",
                       [(stage, int(photo_id), version) for photo_id in photo_ids])

    def processed(self, stage: str, version: int) -> int:
        """How many photos `stage` has processed at `version` (for progress in answers)."""
        return self.db.execute("SELECT count(*) FROM stage_done WHERE stage = ? AND version = ?",
                               (stage, version)).fetchone()[0]

    def stage_state(self, stage: str) -> Any:
        """The stage's own small state (JSON), or None."""
        row = self.db.execute("SELECT value FROM stage_state WHERE stage = ?", (stage,)).fetchone()
        return json.loads(row[0]) if row else None

    def set_stage_state(self, stage: str, value: Any, db: sqlite3.Connection | None = None) -> None:
        if db is None:
            with self.transaction() as own:
                self.set_stage_state(stage, value, own)
            return
        db.execute("INSERT OR REPLACE INTO stage_state (stage, value) VALUES (?, ?)", (stage, json.dumps(value)))

    def forget_stage(self, db: sqlite3.Connection, stage: str) -> None:
        """Every photo is pending for `stage` again and its state is gone (its own tables are its own)."""
        db.execute("DELETE FROM stage_done WHERE stage = ?", (stage,))
        db.execute("DELETE FROM stage_state WHERE stage = ?", (stage,))

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
                    "vector": np.asarray(item.vector, dtype=VECTOR_DTYPE).tobytes()})
                db.execute("INSERT INTO thumbnails (photo_id, jpeg) VALUES (?, ?)",
                           (photo_id, item.thumbnail))
            for rejected in (r for r in batch.rejected if r.reason != VANISHED):  # gone: not bad
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
        self._upsert(db, item.rel_path, item.size, item.mtime_ns, {
            "status": "skipped", "reason": item.reason, "content_hash": item.content_hash, "vector": None})

    def _upsert(self, db: sqlite3.Connection, rel_path: str, size: int, mtime_ns: int, values: dict[str, Any]) -> int:
        """A file's row, new: the old row of that path goes first, and with it its thumbnail and every
        stage's rows (new content is a new photo to them all)."""
        path, raw = printable_path(rel_path)
        columns = {"path": path, "raw_path": raw, "folder": folder_of(path), "size": size, "mtime_ns": mtime_ns,
                   **values}
        db.execute("DELETE FROM photos WHERE path = ?", (path,))
        cursor = db.execute(f"INSERT INTO photos ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                            list(columns.values()))
        return int(cursor.lastrowid or 0)

    def clear(self) -> None:
        """Forget every photo and the model, in one step: a re-embed starts from a clean index."""
        with self.transaction() as db:
            db.execute("DELETE FROM photos")
            db.execute("DELETE FROM config WHERE key IN ('model_id', 'fingerprint', 'dimension', 'preprocess')")
            self._bump_generation(db)

    def compact(self) -> None:
        """Rewrite the database without its free pages and empty the write-ahead log: what was
        deleted is then gone from the files, not only from the tables."""
        self.db.execute("VACUUM")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _bump_generation(self, db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO config (key, value) VALUES ('generation', '1') "
                   "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1")


def _run_script(db: sqlite3.Connection, script: str) -> None:
    # executescript() would COMMIT our open transaction first; run statement by statement instead
    # (a trigger's body holds semicolons: a statement ends where SQLite says it is complete).
    statement = ""
    for piece in script.split(";"):
        statement += piece + ";"
        if sqlite3.complete_statement(statement):
            if statement.strip(" \n;"):
                db.execute(statement)
            statement = ""


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
