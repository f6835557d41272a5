"""The keywords other tools have written into a photo file (digiKam, Lightroom, darktable,
Windows Explorer): XMP `dc:subject` and IPTC Keywords (record 2, dataset 25). Only read, from
the file's headers: the pixels are not decoded."""

from __future__ import annotations

import html
import os
import re
from typing import Any

from PIL import Image, ImageFile, IptcImagePlugin

_SUBJECT = re.compile(rb"<dc:subject[^>]*>(.*?)</dc:subject>", re.DOTALL)
_ITEM = re.compile(rb"<rdf:li[^>]*>(.*?)</rdf:li>", re.DOTALL)
_IPTC_KEYWORDS = (2, 25)
_TIFF_XMP = 700


def file_keywords(path: str | os.PathLike[str]) -> list[str]:
    """The file's keywords, each once (case ignored), in the order written; [] for none or for a
    file that cannot be opened."""
    try:
        with Image.open(path) as image:
            found = _xmp_keywords(_xmp_of(image)) + _iptc_keywords(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return []
    seen: set[str] = set()
    unique = []
    for keyword in (" ".join(keyword.split()) for keyword in found):
        if keyword and keyword.casefold() not in seen:
            seen.add(keyword.casefold())
            unique.append(keyword)
    return unique


def _xmp_of(image: Image.Image) -> bytes:
    xmp: Any = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if xmp is None and hasattr(image, "tag_v2"):
        xmp = image.tag_v2.get(_TIFF_XMP)
    if isinstance(xmp, str):
        return xmp.encode("utf-8")
    return bytes(xmp) if isinstance(xmp, (bytes, bytearray, tuple)) else b""


def _xmp_keywords(xmp: bytes) -> list[str]:
    subject = _SUBJECT.search(xmp)
    if not subject:
        return []
    return [html.unescape(item.decode("utf-8", "replace")) for item in _ITEM.findall(subject.group(1))]


def _iptc_keywords(image: ImageFile.ImageFile) -> list[str]:
    try:
        info = IptcImagePlugin.getiptcinfo(image) or {}
    except (OSError, SyntaxError, ValueError, IndexError, TypeError):
        return []  # a damaged IPTC block: the photo is still fine, it just has no keywords here
    values = info.get(_IPTC_KEYWORDS, [])
    return [_text(value) for value in (values if isinstance(values, list) else [values])]


def _text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")
