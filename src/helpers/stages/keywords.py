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
        pending = set(index.pending(self.name, self.version))
        root = index.photos_root
        if not pending or root is None:
            return
        ready(index)
        found = [(known.id, file_keywords(root / path)) for path, known in index.known_files().items()
                 if known.id in pending]
        hashes = {row.id: row.content_hash for row in index.photo_rows() if row.id in pending}
        with index.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO tags (content_hash, tag, source) VALUES (?, ?, 'file')",
                           [(hashes[photo_id], keyword[:100]) for photo_id, keywords in found
                            for keyword in keywords if hashes.get(photo_id)])
            index.mark_done(db, self.name, self.version, pending)
