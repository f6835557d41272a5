"""The copies stage's tables: candidate pairs with their evidence, turn-free signatures and the
groups search folds. Light (no OpenCV), so search reads the groups without loading the finder.

A photo's candidates are looked for once (the core's stage bookkeeping says which photos are
done); each pair keeps its embedding similarity and, once verified, its evidence (a `Verdict`
as JSON: scores, not a decision; the threshold is applied when deciding). Rows go with their
photos (foreign keys), so a removed or re-embedded photo takes its pairs along.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..index import PhotoIndex
from .settings import CANDIDATES_VERSION

STAGE = "copies"
TABLES = {0: """
CREATE TABLE copy_signatures (
    photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
    signature BLOB NOT NULL
);
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
    root INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('keep', 'exact', 'near', 'similar'))
)
"""}


class CopyStore:
    """The copies stage's rows of one index."""

    def __init__(self, index: PhotoIndex) -> None:
        self.index = index

    def ready(self) -> None:
        self.index.ensure_tables(STAGE, TABLES)

    def unsigned(self) -> list[int]:
        """Ids of indexed photos whose candidate pairs have not been found yet."""
        return self.index.pending(STAGE, CANDIDATES_VERSION)

    def signatures(self) -> dict[int, bytes]:
        return dict(self.index.db.execute("SELECT photo_id, signature FROM copy_signatures"))

    def pairs(self) -> list[tuple[int, int, float, str | None]]:
        """(id a, id b, cosine, evidence JSON or None) of every stored candidate pair, a < b."""
        return self.index.db.execute("SELECT a, b, cosine, verdict FROM copy_pairs").fetchall()

    def unverified(self) -> int:
        return self.index.db.execute("SELECT count(*) FROM copy_pairs WHERE verdict IS NULL").fetchone()[0]

    def add_candidates(self, signatures: Iterable[tuple[int, bytes]], pairs: Iterable[tuple[int, int, float]]) -> None:
        """Store newly found candidate pairs and mark their photos as done, in one transaction."""
        signatures = list(signatures)
        with self.index.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO copy_pairs (a, b, cosine) VALUES (?, ?, ?)",
                           [(min(a, b), max(a, b), cosine) for a, b, cosine in pairs])
            db.executemany("INSERT OR REPLACE INTO copy_signatures (photo_id, signature) VALUES (?, ?)", signatures)
            self.index.mark_done(db, STAGE, CANDIDATES_VERSION, (photo_id for photo_id, _ in signatures))

    def store_verdicts(self, verdicts: Iterable[tuple[int, int, str]]) -> None:
        """Evidence (JSON) of stored candidate pairs, keyed by the pair's ids (a < b)."""
        with self.index.transaction() as db:
            db.executemany("UPDATE copy_pairs SET verdict = ? WHERE a = ? AND b = ?",
                           [(verdict, a, b) for a, b, verdict in verdicts])

    def settings_stamp(self) -> Any:
        return (self.index.stage_state(STAGE) or {}).get("candidates")

    def reset(self, stamp: dict[str, Any]) -> None:
        """Forget every stored pair (found with other settings): all photos are looked at again."""
        with self.index.transaction() as db:
            for table in ("copy_pairs", "copy_groups", "copy_signatures"):
                db.execute(f"DELETE FROM {table}")
            self.index.forget_stage(db, STAGE)
            self.index.set_stage_state(STAGE, {"candidates": stamp}, db)

    def set_groups(self, rows: Iterable[tuple[int, int, str]], generation: int) -> None:
        """Replace the search-time folding: (photo id, root photo id, kind) for every photo in a
        group, noting the index generation they were worked out for."""
        with self.index.transaction() as db:
            db.execute("DELETE FROM copy_groups")
            db.executemany("INSERT INTO copy_groups (photo_id, root, kind) VALUES (?, ?, ?)", list(rows))
            state = self.index.stage_state(STAGE) or {}
            self.index.set_stage_state(STAGE, {**state, "groups_generation": generation}, db)

    def groups_generation(self) -> int | None:
        return (self.index.stage_state(STAGE) or {}).get("groups_generation")

    def groups(self) -> list[tuple[int, int, str]]:
        """What search folds; nothing for an index no run of this version has grouped yet."""
        if not self.index.has_tables(STAGE):
            return []
        return self.index.db.execute("SELECT photo_id, root, kind FROM copy_groups").fetchall()
