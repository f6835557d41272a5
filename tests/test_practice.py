"""The practice library: built from installed packages, messy on purpose, and truthful about itself."""

from __future__ import annotations

import csv
from pathlib import Path

from helpers import practice
from helpers.health import health_report


def test_every_file_behaves_as_its_manifest_says(practice_library: Path) -> None:
    truth = {item.path: item.expected for item in practice.manifest(practice_library)}
    report = health_report(practice_library)
    outcome = {item.record.rel_path: "loads" for item in report.loaded}
    outcome |= {item.path: item.reason for item in report.skipped}
    assert outcome == truth


def test_the_library_has_what_a_real_folder_has(practice_library: Path) -> None:
    files = practice.manifest(practice_library)
    kinds = {item.kind for item in files}
    assert {"original", "exif_rotate_6", "crop", "grayscale", "heic", "webp", "resize_recompress", "burst",
            "broken"} <= kinds
    years = {item.path.split("/")[0] for item in files if item.kind == "original"}
    assert len(years) >= 4
    report = health_report(practice_library)
    assert {"JPEG", "HEIF", "WEBP", "PNG"} <= set(report.by_format)
    dates = {item.metadata.date_taken[:4] for item in report.loaded}
    assert {"2019", "2021", "2022", "2023", "2024"} <= dates


def test_rebuild_is_skipped_when_current(practice_library: Path) -> None:
    stamp = (practice_library / practice.MANIFEST).stat().st_mtime_ns
    practice.build(practice_library)
    assert (practice_library / practice.MANIFEST).stat().st_mtime_ns == stamp


def test_groups_csv_lists_loadable_files(practice_library: Path) -> None:
    groups = practice_library.with_name(practice_library.name + ".groups.csv")
    with open(groups, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all((practice_library / row["path"]).is_file() for row in rows)
    assert all(row["group"] != "broken" for row in rows)
