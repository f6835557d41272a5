"""The keywords stage: keywords other tools wrote into the photo files (XMP, IPTC) become tags,
marked as coming from the file (`helpers.tags`); the files are only read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..images.keywords import file_keywords
from ..index import PhotoIndex
from ..tags import ready

if TYPE_CHECKING:
    from .runner import StageContext

NAME = "keywords"
NO_TABLES: dict[int, str] = {}


class KeywordsStage:
    name = NAME
    version = 1
    tables = NO_TABLES  # it writes into the tag tables, which `tags` owns
    uses_model = False

    def run(self, index: PhotoIndex, context: StageContext) -> None:
        files = index.pending_files(self.name, self.version)
        if not files:
            return
        ready(index)
        hashes = dict(index.db.execute("SELECT id, content_hash FROM photos WHERE content_hash IS NOT NULL"))
        found = [(hashes[photo_id], keyword[:100]) for photo_id, path in files if photo_id in hashes
                 for keyword in file_keywords(path)]
        with index.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO tags (content_hash, tag, source) VALUES (?, ?, 'file')", found)
            index.mark_done(db, self.name, self.version, [photo_id for photo_id, _ in files])
