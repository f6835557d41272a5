"""The places stage: each GPS photo's town, region and country, in words (`helpers.places`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..index import PhotoIndex
from ..places import Place, locate

if TYPE_CHECKING:
    from .runner import StageContext

NAME = "places"
TABLES = {0: """
CREATE TABLE places (
    photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
    city TEXT NOT NULL,
    region TEXT NOT NULL,
    country TEXT NOT NULL,
    district TEXT NOT NULL
)
"""}


class PlacesStage:
    name = NAME
    version = 1
    tables = TABLES
    uses_model = False

    def run(self, index: PhotoIndex, context: StageContext) -> None:
        """Place every photo not processed yet; the town table loads only when one has GPS."""
        pending = set(index.pending(self.name, self.version))
        if not pending:
            return
        gps = [(row.id, row.latitude, row.longitude) for row in index.photo_rows()
               if row.id in pending and row.latitude is not None and row.longitude is not None]
        found = locate([(latitude, longitude) for _, latitude, longitude in gps])
        with index.transaction() as db:
            db.executemany("DELETE FROM places WHERE photo_id = ?", [(photo_id,) for photo_id in pending])
            db.executemany("INSERT INTO places (photo_id, city, region, country, district) VALUES (?, ?, ?, ?, ?)",
                           [(photo_id, p.city, p.region, p.country, p.district)
                            for (photo_id, _, _), p in zip(gps, found, strict=True) if p is not None])
            index.mark_done(db, self.name, self.version, pending)


def places_of(index: PhotoIndex) -> dict[int, Place]:
    """Photo id -> place, for the photos that have one (GPS near a town)."""
    if not index.has_tables(NAME):
        return {}  # an index no run of this version has placed yet
    rows = index.db.execute("SELECT photo_id, city, region, country, district FROM places")
    return {photo_id: Place(city, region, country, district) for photo_id, city, region, country, district in rows}
