"""The words stage: the text inside each photo (signs, screenshots, receipts), read offline
(`helpers.ocr`) and kept in SQLite's own full-text index, so that a search finds the photo that
says "boarding pass" whatever it looks like (`helpers.words` does the forgiving matching).

A photo without words keeps no row; every photo read is recorded as done, in the transaction
that stores its words, so a killed run resumes where it stopped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import PhotoSkipped
from ..index import PhotoIndex
from ..ocr import Line, Reader
from ..words import PhotoText, WordMatch, trigrams
from ..workers import in_batches

if TYPE_CHECKING:
    from .runner import StageContext

NAME = "words"
BATCH = 32  # photos read between two commits
CANDIDATES = 2000  # photos the full-text index proposes for one query, best first, before matching
# `text` is the normalised form of the words, which the trigram index covers (accents and case
# gone before indexing: this SQLite's trigram tokenizer cannot drop accents itself); `lines` the
# lines as read, with the recogniser's confidence, as JSON.
TABLES = {0: """
CREATE TABLE photo_words (
    photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    lines TEXT NOT NULL
);
CREATE VIRTUAL TABLE words_fts USING fts5(text, content='photo_words', content_rowid='photo_id',
                                          tokenize='trigram');
CREATE TRIGGER photo_words_added AFTER INSERT ON photo_words BEGIN
    INSERT INTO words_fts (rowid, text) VALUES (new.photo_id, new.text);
END;
CREATE TRIGGER photo_words_removed AFTER DELETE ON photo_words BEGIN
    INSERT INTO words_fts (words_fts, rowid, text) VALUES ('delete', old.photo_id, old.text);
END
"""}


class WordsStage:
    name = NAME
    version = 1
    tables = TABLES
    uses_model = False

    def run(self, index: PhotoIndex, context: StageContext) -> None:
        """Read every photo not read yet, as many at once as there are cores."""
        paths = index.pending_files(self.name, self.version)
        if not paths:
            return
        reader = Reader()
        for batch, found in in_batches(lambda item: _lines_or_none(reader, item[1]), paths, BATCH,
                                       desc="reading words", progress=context.progress):
            with index.transaction() as db:
                db.executemany("DELETE FROM photo_words WHERE photo_id = ?", [(photo_id,) for photo_id, _ in batch])
                db.executemany("INSERT INTO photo_words (photo_id, text, lines) VALUES (?, ?, ?)",
                               [(photo_id, PhotoText([line.text for line in lines]).text, _dump(lines))
                                for (photo_id, _), lines in zip(batch, found, strict=True) if lines])
                index.mark_done(db, self.name, self.version, [photo_id for photo_id, _ in batch])


def _lines_or_none(reader: Reader, path: Path) -> list[Line]:
    """The photo's lines; none for a file that no longer decodes (the next index run reports it)."""
    try:
        return reader.lines_in(path)
    except (PhotoSkipped, OSError):
        return []


def _dump(lines: list[Line]) -> str:
    return json.dumps([[line.text, line.confidence] for line in lines], ensure_ascii=False)


def lines_of(index: PhotoIndex, photo_id: int) -> list[Line]:
    """The lines read in one photo ([] for none, or before the stage has run)."""
    if not index.has_tables(NAME):
        return []
    row = index.db.execute("SELECT lines FROM photo_words WHERE photo_id = ?", (photo_id,)).fetchone()
    return [Line(text, confidence) for text, confidence in json.loads(row[0])] if row else []


def photos_with_words(index: PhotoIndex) -> set[int]:
    """Ids of the photos in which words were read."""
    if not index.has_tables(NAME):
        return set()
    return {row[0] for row in index.db.execute("SELECT photo_id FROM photo_words")}


def word_matches(index: PhotoIndex, query: str) -> dict[int, WordMatch]:
    """Photo id -> how the query matched its words, for every photo it matches. The trigram index
    proposes the photos sharing most three-letter pieces with the query (all of them for a query
    of short words, which has none); each is then matched letter by letter."""
    if not index.has_tables(NAME):
        return {}
    pieces = trigrams(query)
    if pieces:
        expression = " OR ".join(f'"{piece}"' for piece in pieces)
        rows = index.db.execute("SELECT p.photo_id, p.lines FROM words_fts JOIN photo_words p ON "
                                "p.photo_id = words_fts.rowid WHERE words_fts MATCH ? ORDER BY rank LIMIT ?",
                                (expression, CANDIDATES))
    else:
        rows = index.db.execute("SELECT photo_id, lines FROM photo_words")
    found = {}
    for photo_id, lines in rows:
        match = PhotoText([text for text, _ in json.loads(lines)]).match(query)
        if match is not None:
            found[photo_id] = match
    return found
