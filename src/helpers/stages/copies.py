"""The copies stage: copy groups kept current, so search gives a photo and its copies one result
and `dupes` has nothing left to do. The work is the duplicate finder's (`helpers.duplicates`);
its tables are `duplicates.store`'s. Only new or changed photos look for candidates, only
unverified pairs are verified, and every run finishes: there is no time budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..duplicates.settings import CANDIDATES_VERSION
from ..duplicates.store import STAGE, TABLES, CopyStore
from ..index import PhotoIndex

if TYPE_CHECKING:
    from .runner import StageContext


class CopiesStage:
    name = STAGE
    version = CANDIDATES_VERSION
    tables = TABLES
    uses_model = False

    def run(self, index: PhotoIndex, context: StageContext) -> None:
        store = CopyStore(index)
        if not store.unsigned() and store.groups_generation() == index.config().generation:
            return  # nothing new, and the groups were worked out on these very photos
        from ..duplicates.finder import find_duplicates  # OpenCV loads only when something changed

        find_duplicates(index, show_progress=context.progress)
