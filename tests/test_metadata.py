"""Dates, cameras and places read from real camera files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from helpers.images import LoadOptions, load_photo


def _meta(path: Path):
    return load_photo(path, LoadOptions(min_side=64)).metadata


@pytest.mark.parametrize(("rel", "date", "make", "model"), [
    ("camera_exif/exiforg_canon-ixus.jpg", "2001-06-09T15:17:32", "Canon", "Canon DIGITAL IXUS"),
    ("camera_exif/exiforg_nikon-e950.jpg", "2001-04-06T11:51:40", "NIKON", "E950"),
    ("camera_exif/wikimedia_Pentax_K10D.jpg", "2008-05-04T16:47:24", "PENTAX Corporation", "PENTAX K10D"),
    ("camera_exif/frozenpond.mpo", "2014-03-02T13:30:00", "Nintendo", "Nintendo 3DS"),
    # Offsets are kept when the camera wrote one (OffsetTimeOriginal).
    ("camera_exif/HMD_Nokia_8.3_5G.jpg", "2022-08-14T14:12:31+03:00", "HMD Global", "Nokia 8.3 5G"),
    ("heic/IMG_5195.HEIC", "2021-04-11T15:47:53-05:00", "Apple", "iPhone 11 Pro Max"),
])
def test_date_taken_and_camera(messy: Path, rel: str, date: str, make: str, model: str) -> None:
    meta = _meta(messy / rel)
    assert (meta.date_taken, meta.date_source, meta.camera_make, meta.camera_model) == (
        date, "DateTimeOriginal", make, model)


def test_date_priority_prefers_the_original_time(messy: Path) -> None:
    # This file has DateTimeOriginal 02:00, DateTimeDigitized 04:00 and more dates in XMP.
    meta = _meta(messy / "camera_exif/immich_date-priority-test.jpg")
    assert meta.date_taken == "2023-02-02T02:00:00"


def test_no_date_falls_back_to_file_time_and_says_so(messy: Path, tmp_path: Path) -> None:
    copy = tmp_path / "no_date.jpg"
    shutil.copy(messy / "camera_exif/wikimedia_PaintTool_sample.jpg", copy)
    os.utime(copy, (1_600_000_000, 1_600_000_000))  # 2020-09-13 UTC
    meta = _meta(copy)
    assert meta.date_source == "mtime"
    assert meta.date_taken.startswith("2020-09-13")


@pytest.mark.parametrize(("rel", "latitude", "longitude"), [
    ("gps/DSCN0010.jpg", 43.4674483, 11.8851267),
    ("gps/DSCN0042.jpg", 43.464455, 11.8814783),
    ("gps/thompson-springs.jpg", 39.115, -108.4009683),  # west is negative
    ("heic/IMG_5195.HEIC", 39.0513444, -94.2887722),
    ("camera_exif/HMD_Nokia_8.3_5G.jpg", 60.1467056, 24.9067722),
])
def test_gps_coordinates(messy: Path, rel: str, latitude: float, longitude: float) -> None:
    meta = _meta(messy / rel)
    assert meta.latitude == pytest.approx(latitude, abs=1e-6)
    assert meta.longitude == pytest.approx(longitude, abs=1e-6)


@pytest.mark.parametrize("rel", ["gps/empty_gps.jpg", "heic/spatial_photo.heic", "camera_exif/exiforg_canon-ixus.jpg"])
def test_missing_empty_or_null_island_gps_is_none(messy: Path, rel: str) -> None:
    meta = _meta(messy / rel)
    assert (meta.latitude, meta.longitude) == (None, None)


def test_size_is_as_displayed(messy: Path) -> None:
    meta = _meta(messy / "gps/canon_hdr_NO.jpg")  # stored 2048x1536 with Orientation=6
    assert (meta.width, meta.height) == (1536, 2048)


def test_damaged_exif_does_not_stop_loading(messy: Path) -> None:
    for path in sorted((messy / "corrupt").glob("invalid_exif_*.jpg")):
        assert load_photo(path, LoadOptions(min_side=32)).image.mode == "RGB"
