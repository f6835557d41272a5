"""What a photo says about itself: size, when it was taken, by which camera, and where.

Read from EXIF while the file is open for decoding anyway, so metadata costs no second pass.
Camera EXIF is often wrong or damaged; every field is optional and a bad value becomes None
rather than an error.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from PIL import Image

# EXIF tag numbers (from the EXIF 2.32 specification).
_MAKE, _MODEL, _DATETIME = 0x010F, 0x0110, 0x0132
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATETIME_ORIGINAL, _DATETIME_DIGITIZED = 0x9003, 0x9004
_OFFSET_TIME, _OFFSET_TIME_ORIGINAL, _OFFSET_TIME_DIGITIZED = 0x9010, 0x9011, 0x9012
_SUBSEC_TIME_ORIGINAL = 0x9291
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON = 1, 2, 3, 4

# When DateTimeOriginal is missing, the digitised time is the next best "taken" time; the
# IFD0 DateTime is when the file was last *edited*, so it comes last.
_DATE_TAGS = (
    ("DateTimeOriginal", _EXIF_IFD, _DATETIME_ORIGINAL, _OFFSET_TIME_ORIGINAL),
    ("DateTimeDigitized", _EXIF_IFD, _DATETIME_DIGITIZED, _OFFSET_TIME_DIGITIZED),
    ("DateTime", None, _DATETIME, _OFFSET_TIME),
)
# XMP dates (ISO 8601), for files whose EXIF has no date: edited or exported photos.
_XMP_DATE = re.compile(
    rb"(?:photoshop:DateCreated|xmp:CreateDate|exif:DateTimeOriginal)(?:>|=[\"'])"
    rb"(\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?)([+-]\d\d:\d\d|Z)?"
)
_EXIF_DATE = re.compile(r"(\d{4})[:\-](\d\d)[:\-](\d\d)[ T](\d\d):(\d\d):(\d\d)")
_OFFSET = re.compile(r"([+-])(\d\d):?(\d\d)")


@dataclass(frozen=True)
class PhotoMetadata:
    """Facts about one photo. `width`/`height` are as displayed (after EXIF rotation).

    `date_taken` is ISO 8601; it carries a UTC offset only when the camera recorded one.
    `date_source` names where it came from: an EXIF tag name, or "mtime" (file time).
    """

    width: int
    height: int
    date_taken: str
    date_source: str
    camera_make: str | None = None
    camera_model: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_metadata(image: Image.Image, upright_size: tuple[int, int], mtime_ns: int) -> PhotoMetadata:
    """Collect metadata from an opened image; falls back to the file time for the date."""
    return _metadata(_safe_exif(image), _xmp_date(image.info.get("xmp")), upright_size, mtime_ns)


def raw_metadata(data: bytes, upright_size: tuple[int, int], mtime_ns: int,
                 camera_time: datetime | None) -> PhotoMetadata:
    """Metadata of a camera RAW file: the TIFF-based ones (DNG, CR2, NEF, ARW) carry EXIF as a JPEG
    does; for the others, the capture time LibRaw read (`camera_time`), else the file time."""
    exif = Image.Exif()
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        try:
            exif.load(data)
        except Exception:  # noqa: BLE001 - a damaged IFD means "no EXIF", as for a JPEG
            exif = Image.Exif()
    fallback = camera_time.isoformat(timespec="seconds") if camera_time and camera_time.year > 1970 else None
    return _metadata(exif, fallback, upright_size, mtime_ns, fallback_source="RAW capture time")


def _metadata(exif: Image.Exif, fallback_date: str | None, upright_size: tuple[int, int], mtime_ns: int, *,
              fallback_source: str = "XMP") -> PhotoMetadata:
    date, source = _date_taken(exif)
    if date is None:
        date, source = fallback_date, fallback_source
    if date is None:
        date, source = _file_time(mtime_ns), "mtime"
    latitude, longitude = _gps(exif)
    return PhotoMetadata(
        width=upright_size[0],
        height=upright_size[1],
        date_taken=date,
        date_source=source,
        camera_make=_text(exif.get(_MAKE)),
        camera_model=_text(exif.get(_MODEL)),
        latitude=latitude,
        longitude=longitude,
    )


def file_time_metadata(size: tuple[int, int], mtime_ns: int) -> PhotoMetadata:
    """Metadata for a file whose decoder offers no EXIF: its size and file time only."""
    return PhotoMetadata(width=size[0], height=size[1], date_taken=_file_time(mtime_ns), date_source="mtime")


def _file_time(mtime_ns: int) -> str:
    return datetime.fromtimestamp(mtime_ns / 1e9).isoformat(timespec="seconds")


def exif_orientation(image: Image.Image) -> int:
    """The EXIF Orientation (1-8); 1 when absent or nonsense."""
    value = _safe_exif(image).get(0x0112)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _safe_exif(image: Image.Image) -> Image.Exif:
    # Damaged EXIF blocks make Pillow raise all sorts of errors; a photo with broken EXIF is
    # still a photo, so it simply has no EXIF.
    try:
        return image.getexif()
    except Exception:  # noqa: BLE001 - any EXIF parse failure means "no EXIF"
        return Image.Exif()


def _sub_ifd(exif: Image.Exif, tag: int) -> dict[int, Any]:
    try:
        return dict(exif.get_ifd(tag))
    except Exception:  # noqa: BLE001 - a damaged sub-IFD is treated as absent
        return {}


def _date_taken(exif: Image.Exif) -> tuple[str | None, str]:
    exif_ifd = _sub_ifd(exif, _EXIF_IFD)
    for name, ifd, tag, offset_tag in _DATE_TAGS:
        table = exif_ifd if ifd == _EXIF_IFD else exif
        parsed = _parse_exif_date(table.get(tag), exif_ifd.get(offset_tag))
        if parsed:
            return parsed, name
    return None, ""


def subsecond_taken(path: str | os.PathLike[str]) -> str | None:
    """The fraction of a second of DateTimeOriginal (EXIF SubSecTimeOriginal), if recorded.
    Phones write two files in the same second (HDR and normal); this tells them apart."""
    try:
        with Image.open(path) as image:
            return _text(_sub_ifd(_safe_exif(image), _EXIF_IFD).get(_SUBSEC_TIME_ORIGINAL))
    except (OSError, ValueError):
        return None


def _xmp_date(xmp: Any) -> str | None:
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8", "replace")
    match = _XMP_DATE.search(xmp) if isinstance(xmp, bytes) else None
    if not match:
        return None
    stamp, offset = (part.decode() if part else "" for part in match.groups())
    try:
        return datetime.fromisoformat(stamp + offset.replace("Z", "+00:00")).isoformat()
    except ValueError:
        return None


def _parse_exif_date(value: Any, offset: Any) -> str | None:
    text = _text(value)
    match = _EXIF_DATE.match(text or "")
    if not match:
        return None
    try:
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        moment = datetime(year, month, day, hour, minute, second)
    except ValueError:  # "0000:00:00 00:00:00" and other placeholders
        return None
    offset_match = _OFFSET.fullmatch((_text(offset) or "").strip())
    if offset_match:
        sign, hours, minutes = offset_match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        if delta <= timedelta(hours=14):
            moment = moment.replace(tzinfo=timezone(-delta if sign == "-" else delta))
    return moment.isoformat()


def _gps(exif: Image.Exif) -> tuple[float | None, float | None]:
    gps = _sub_ifd(exif, _GPS_IFD)
    latitude = _degrees(gps.get(_GPS_LAT), gps.get(_GPS_LAT_REF), "S", 90)
    longitude = _degrees(gps.get(_GPS_LON), gps.get(_GPS_LON_REF), "W", 180)
    # (0, 0) in the Atlantic is what devices write when they had no fix.
    if latitude is None or longitude is None or (latitude == 0 and longitude == 0):
        return None, None
    return latitude, longitude


def _degrees(value: Any, ref: Any, negative_ref: str, limit: float) -> float | None:
    """EXIF stores a coordinate as (degrees, minutes, seconds) rationals plus an N/S/E/W letter."""
    try:
        d, m, s = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    degrees = d + m / 60 + s / 3600
    if (_text(ref) or "").upper().startswith(negative_ref):
        degrees = -degrees
    return round(degrees, 7) if abs(degrees) <= limit else None


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value or None
