"""The practice library: real photos committed with their licences, messy on purpose, truthful about itself."""

from __future__ import annotations

import csv
from pathlib import Path

from PIL import Image

from helpers.course import practice
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
    assert {"original", "exif_rotate_6", "crop", "grayscale", "heic", "webp", "resize_recompress", "exact",
            "found_copy", "burst", "broken"} <= kinds
    assert 150 <= sum(item.kind == "original" for item in files) <= 250
    years = {item.path.split("/")[0] for item in files if item.kind == "original"}
    assert {"2014", "2020", "2021", "2022", "2023", "2024"} <= years
    report = health_report(practice_library)
    assert {"JPEG", "HEIF", "WEBP", "PNG"} <= set(report.by_format)
    dates = {item.metadata.date_taken[:4] for item in report.loaded}
    assert {"2014", "2020", "2021", "2022", "2023", "2024"} <= dates
    originals = {item.path for item in files if item.kind == "original"}
    trip = [item for item in report.loaded if "Lund trip" in item.record.rel_path and item.record.rel_path in originals]
    assert len(trip) >= 25 and all(item.metadata.latitude for item in trip), "the trip carries GPS"
    assert {item.flags[0] for item in report.loaded if item.flags} == {"blurry", "tiny", "screenshot"}


def test_committed_photos_are_small_and_attributed() -> None:
    with open(practice.SOURCE / "photos.csv", newline="", encoding="utf-8") as handle:
        listing = list(csv.DictReader(handle))
    files = [p for p in (practice.SOURCE / "library").rglob("*") if p.is_file()]
    assert sorted(str(p.relative_to(practice.SOURCE / "library")) for p in files) == sorted(r["path"] for r in listing)
    assert sum(p.stat().st_size for p in files) <= 25_000_000
    attribution = (practice.SOURCE / "ATTRIBUTION.md").read_text()
    for row in listing:
        assert row["licence"] and row["credit"] and f"`{row['path']}`" in attribution, row["path"]
        with Image.open(practice.SOURCE / "library" / row["path"]) as image:
            assert max(image.size) <= 1024, row["path"]


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
    captions = practice_library.with_name(practice_library.name + ".captions.csv")
    with open(captions, newline="") as handle:
        texts = {row["caption"] for row in csv.DictReader(handle)}
    assert {"kangaroo", "dress", "a street in Lund"} <= texts and len(texts) >= 40


def test_the_build_is_deterministic(tmp_path: Path, practice_library: Path) -> None:
    """`make practice` gives the same bytes and file times every time: chapters and tests see one library."""
    again = practice.build(tmp_path / "library", force=True)

    def files(root: Path) -> dict[str, tuple[bytes, int]]:
        return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns if p.name != practice.MANIFEST else 0)
                for p in root.rglob("*") if p.is_file()}

    assert files(again) == files(practice_library)
