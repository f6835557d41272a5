"""The ingestion health report: which files of a library load, which do not, and why.

It runs the same scan and decode the index uses, so what it reports is exactly what
indexing will skip.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .cleaning import photo_flags, row_flags, sharpness
from .errors import PhotoSkipped
from .images import LoadOptions, load_photo
from .images.metadata import PhotoMetadata
from .index import PhotoIndex
from .people import counts
from .progress import progress_bar
from .scan import PhotoRecord, ScanResult, Skipped, scan
from .stages.places import places_of
from .stages.words import photos_with_words
from .tags import tag_counts
from .workers import default_workers, run_ahead

# Decoding at model size is enough to prove a file decodes fully (JPEG draft decoding still
# reads every byte of the stream) and is several times faster than full resolution.
REPORT_OPTIONS = LoadOptions(min_side=224)


@dataclass(frozen=True)
class LoadedFile:
    """A file that decoded fully (the pixels themselves are not kept: 100k photos would not fit)."""

    record: PhotoRecord
    format: str
    metadata: PhotoMetadata
    flags: tuple[str, ...] = ()  # blurry, tiny, screenshot (`cleaning`): notes, not skips


@dataclass
class HealthReport:
    files: int
    loaded: list[LoadedFile] = field(repr=False, default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    ignored: int = 0
    places: list[tuple[str, str]] | None = None  # (country, city) of each placed photo; from an index only
    with_words: int | None = None  # photos in which words were read; from an index only
    tags: dict[str, int] | None = None  # each tag's photo count; from an index only
    people: dict[str, int] | None = None  # faces found, people, named people; from an index only

    @property
    def by_reason(self) -> dict[str, int]:
        return dict(Counter(item.reason for item in self.skipped).most_common())

    @property
    def by_format(self) -> dict[str, int]:
        return dict(Counter(item.format for item in self.loaded).most_common())

    @property
    def by_flag(self) -> dict[str, int]:
        return dict(Counter(flag for item in self.loaded for flag in item.flags).most_common())

    def as_dict(self) -> dict[str, Any]:
        """The `photo-search report --json` shape."""
        return {
            "files": self.files,
            "loaded": len(self.loaded),
            "skipped": [item.as_dict() for item in sorted(self.skipped, key=lambda s: s.path)],
            "by_reason": self.by_reason,
            "by_format": self.by_format,
            "ignored": self.ignored,
            "by_flag": self.by_flag,
            "flagged": [{"path": item.record.rel_path, "flags": list(item.flags)}
                        for item in sorted(self.loaded, key=lambda item: item.record.rel_path) if item.flags],
        } | ({} if self.places is None else {
            "by_country": dict(Counter(country for country, _ in self.places).most_common()),
            "by_city": dict(Counter(city for _, city in self.places).most_common()),
        }) | ({} if self.with_words is None else {"with_words": self.with_words}) | (
            {} if self.tags is None else {"tags": self.tags}) | ({} if self.people is None else self.people)


def health_report(folder: str | os.PathLike[str], options: LoadOptions = REPORT_OPTIONS,
                  *, workers: int | None = None, progress: bool = False) -> HealthReport:
    """Scan `folder` and try to decode every image in it, in parallel threads.

    Pillow and libheif release the GIL while decoding, so threads use every core.
    """
    found = scan(folder)
    return check_loading(found, options, workers=workers, progress=progress)


def check_loading(found: ScanResult, options: LoadOptions, *, workers: int | None = None,
                  progress: bool = False) -> HealthReport:
    report = HealthReport(files=len(found.photos) + len(found.skipped), skipped=list(found.skipped),
                          ignored=found.ignored)

    def attempt(record: PhotoRecord) -> LoadedFile | Skipped:
        try:
            photo = load_photo(found.root / record.rel_path, options,
                               display_path=record.rel_path, mtime_ns=record.mtime_ns)
        except PhotoSkipped as error:
            return Skipped(record.rel_path, error.reason, error.detail)
        meta = photo.metadata
        return LoadedFile(record, photo.format, meta, tuple(photo_flags(
            meta.width, meta.height, photo.format, " ".join(filter(None, (meta.camera_make, meta.camera_model))),
            sharpness(photo.image))))

    workers = workers or default_workers()
    outcomes = run_ahead(attempt, found.photos, workers, lookahead=4 * workers)
    for outcome in progress_bar(outcomes, total=len(found.photos), unit="photo", desc="checking", enabled=progress):
        if isinstance(outcome, Skipped):
            report.skipped.append(outcome)
        else:
            report.loaded.append(outcome)
    return report


def index_health(index: PhotoIndex) -> HealthReport:
    """The same report from what an index recorded when it was built: no file is decoded."""
    rows = {row.path: row for row in index.photo_rows()}
    loaded = [LoadedFile(record, record.format, metadata,
                         tuple(row_flags(row, index.thumbnail(row.id)) if (row := rows.get(record.rel_path)) else ()))
              for record, metadata in index.indexed_files()]
    skipped = index.skipped()
    places = [(place.country, place.city or place.region or "") for place in places_of(index).values()
              if place.country]
    return HealthReport(files=len(loaded) + len(skipped), loaded=loaded, skipped=skipped, places=places,
                        with_words=len(photos_with_words(index)), tags=tag_counts(index), people=counts(index))
