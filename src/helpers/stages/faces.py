"""The faces stage (opt-in: `index --faces`): every face in each photo found and described
(`helpers.faces`), stored with a small crop, and grouped into people (`helpers.people`).

Photos in a folder that holds a `.nofaces` file, or lies below one, or that `people skip` named,
are never looked at; faces found there before the opt-out go. Faces are stored, and each photo
marked done, a batch at a time: a killed run resumes where it stopped.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import PhotoSkipped
from ..faces import Face, FaceFinder
from ..index import PhotoIndex
from ..people import OPT_OUT_FILE, OWNER, TABLES, Settings, drop_empty, group_new, settings
from ..workers import in_batches

if TYPE_CHECKING:
    from .runner import StageContext

BATCH = 32  # photos looked at between two commits


class FacesStage:
    name = OWNER
    version = 1
    tables = TABLES
    uses_model = False

    def run(self, index: PhotoIndex, context: StageContext) -> None:
        """Look for faces in every photo not looked at yet (when faces are on), then group them."""
        chosen = settings(index)
        root = index.photos_root
        if not chosen.on or root is None:
            return
        _forget_opted_out(index, root, chosen)
        finder = FaceFinder()

        def faces(item: tuple[int, Path]) -> list[Face]:
            return [] if _opted_out(root, item[1], chosen) else _faces_or_none(finder, item[1])

        for batch, found in in_batches(faces, index.pending_files(self.name, self.version), BATCH,
                                       desc="finding faces", progress=context.progress):
            with index.transaction() as db:
                db.executemany("DELETE FROM faces WHERE photo_id = ?", [(photo_id,) for photo_id, _ in batch])
                db.executemany("INSERT INTO faces (photo_id, number, x, y, w, h, descriptor, crop) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               [(photo_id, number, *face.box, face.descriptor.tobytes(), face.crop)
                                for (photo_id, _), in_photo in zip(batch, found, strict=True)
                                for number, face in enumerate(in_photo, start=1)])
                index.mark_done(db, self.name, self.version, [photo_id for photo_id, _ in batch])
        group_new(index)


def _faces_or_none(finder: FaceFinder, path: Path) -> list[Face]:
    """The photo's faces; none for a file that no longer decodes (the next index run reports it)."""
    try:
        return finder.faces_in(path)
    except (PhotoSkipped, OSError):
        return []


def _opted_out(root: Path, path: Path, chosen: Settings) -> bool:
    """Whether the photo at `path` lies in a folder opted out of faces: one `people skip` named,
    or one holding a `.nofaces` file, or below such a folder (up to the photo folder)."""
    if chosen.skips(path.parent.relative_to(root).as_posix()):
        return True
    return any((folder / OPT_OUT_FILE).exists() for folder in (path.parent, *path.parent.parents)
               if folder == root or root in folder.parents)


def _forget_opted_out(index: PhotoIndex, root: Path, chosen: Settings) -> None:
    """Faces found before their folder opted out go (its opt-out file may be new)."""
    rows = index.db.execute("SELECT DISTINCT p.id, p.path FROM faces f JOIN photos p ON p.id = f.photo_id").fetchall()
    gone = [(photo_id,) for photo_id, path in rows if _opted_out(root, root / path, chosen)]
    if gone:
        with index.transaction() as db:
            db.executemany("DELETE FROM faces WHERE photo_id = ?", gone)
            drop_empty(db)
