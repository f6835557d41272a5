"""Recognise image formats from their first bytes, not their file names.

Photo folders are full of misnamed files: a JPEG saved as `.png`, a text note called
`.jpg`. Deciding by content lets the first be indexed and the second be reported.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import PurePath

from PIL import Image

# How many leading bytes `sniff` needs to see.
SNIFF_BYTES = 64

# File-name endings that promise an image. Used only to decide whether a file whose content
# is *not* an image deserves a report ("text named .jpg") or is simply not a photo (a video,
# a sidecar) and is passed over quietly.
# Camera RAW files by ending: the TIFF-based ones (DNG, CR2, NEF, ARW) share TIFF's first bytes,
# so for them the ending decides; the others have first bytes of their own (see `sniff`).
RAW_EXTENSIONS = {".dng": "DNG", ".cr2": "CR2", ".cr3": "CR3", ".nef": "NEF", ".arw": "ARW", ".raf": "RAF",
                  ".orf": "ORF", ".rw2": "RW2"}
RAW_FORMATS = frozenset(RAW_EXTENSIONS.values())
IMAGE_EXTENSIONS = frozenset(
    ".jpg .jpeg .jpe .jfif .png .gif .bmp .dib .tif .tiff .webp .heic .heif .hif .avif .avifs"
    " .jxl .jp2 .j2k .mpo .psd .svg .ico .qoi .tga".split()
) | frozenset(RAW_EXTENSIONS)

# ISO base-media "ftyp" brands, mapped to the format name Pillow's plugins register.
_FTYP_BRANDS = {
    b"heic": "HEIF", b"heix": "HEIF", b"heim": "HEIF", b"heis": "HEIF", b"hevc": "HEIF",
    b"hevx": "HEIF", b"hevm": "HEIF", b"hevs": "HEIF", b"mif1": "HEIF", b"msf1": "HEIF",
    b"avif": "AVIF", b"avis": "AVIF",
}


def sniff(head: bytes) -> str | None:
    """Name the image format of a file from its first bytes, or None when it is not an image.

    Names follow Pillow's format ids ("JPEG", "PNG", "HEIF", ...) plus "JXL" and "SVG", which
    Pillow does not read but which we must still name in a report.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] in (b"IIRO", b"IIRS", b"MMOR"):
        return "ORF"
    if head[:4] == b"IIU\x00":
        return "RW2"
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return "RAF"
    if head[4:12] == b"ftypcrx ":
        return "CR3"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(head[8:12]) or _compatible_brand(head)
    if head.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")):
        return "JXL"
    if head.startswith((b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xffO\xffQ")):
        return "JPEG2000"
    if head.startswith(b"BM") and len(head) >= 18 and head[14] in (12, 40, 52, 56, 64, 108, 124):
        return "BMP"
    if head.startswith(b"8BPS"):
        return "PSD"
    if head.startswith(b"qoif"):
        return "QOI"
    if head.startswith(b"\x00\x00\x01\x00"):
        return "ICO"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in head.lower()):
        return "SVG"
    return None


def identify(head: bytes, name: str | PurePath) -> str | None:
    """The format of a file from its first bytes and, for TIFF-based camera RAW files, its ending:
    "NEF" for a TIFF-shaped file named .nef; a JPEG named .nef is still a JPEG."""
    found = sniff(head)
    if found == "TIFF":
        return RAW_EXTENSIONS.get(PurePath(name).suffix.lower(), found)
    return found


def _compatible_brand(head: bytes) -> str | None:
    """HEIF files may carry an unknown major brand but list a known one as compatible."""
    box_size = int.from_bytes(head[:4], "big")
    brands = head[16 : min(box_size, len(head))]
    for offset in range(0, len(brands) - 3, 4):
        name = _FTYP_BRANDS.get(brands[offset : offset + 4])
        if name:
            return name
    return None


@cache
def register_plugins() -> None:
    """Teach Pillow to read HEIC/HEIF phone photos (once per process)."""
    import pillow_heif

    # pillow-heif applies the HEIF rotation/mirror itself and then marks EXIF Orientation as 1,
    # so the usual EXIF transpose afterwards never turns a HEIC twice.
    pillow_heif.register_heif_opener()


@cache
def decodable_formats() -> frozenset[str]:
    """Formats some installed decoder can read: Pillow's own plus registered plugins."""
    register_plugins()
    Image.init()
    return frozenset(Image.OPEN)


def is_decodable(format_name: str) -> bool:
    if format_name in RAW_FORMATS:
        return raw_support()
    return format_name in decodable_formats()


@cache
def raw_support() -> bool:
    """Camera RAW files are read through LibRaw, when the rawpy package is installed."""
    return importlib.util.find_spec("rawpy") is not None


def has_image_extension(path: str | PurePath) -> bool:
    return PurePath(path).suffix.lower() in IMAGE_EXTENSIONS
