"""What every chapter starts with: where the photos, the index and the outputs are, and which model.

Each chapter's parameters cell calls `setup()` once. Your own folder and model come from the
arguments, or from the environment (PHOTOS, INDEX, PHOTO_SEARCH_MODEL: `PHOTOS=~/Pictures make run`),
else the practice library, built on first use. Photos are only ever read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import practice


@dataclass(frozen=True)
class Chapter:
    project: Path  # the course folder (notebooks/ is inside it)
    photos: Path
    index: Path
    outputs: Path  # previews and reports go here, never into the photo folder
    model: str | None  # None: CLIP, or the offline model when CLIP cannot be fetched

    @property
    def practice(self) -> bool:
        """Whether the chapter runs on the practice library (whose ground truth it can check)."""
        return self.photos == self.project / "data" / "practice_library"

    @property
    def practice_groups(self) -> Path:
        return self.project / "data" / "practice_library.groups.csv"


def setup(photos: str | os.PathLike[str] | None = None, *, index: str | os.PathLike[str] | None = None,
          model: str | None = None) -> Chapter:
    """The chapter's settings: arguments first, then the environment, then the practice library."""
    here = Path.cwd()
    project = here.parent if here.name == "notebooks" else here
    chapter = Chapter(
        project=project,
        photos=Path(photos or os.environ.get("PHOTOS") or project / "data" / "practice_library").expanduser(),
        index=Path(index or os.environ.get("INDEX") or project / "data" / "index").expanduser(),
        outputs=project / "outputs",
        model=model or os.environ.get("PHOTO_SEARCH_MODEL") or None,
    )
    if chapter.practice:
        practice.build(chapter.photos)
    return chapter
