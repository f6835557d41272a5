"""Cleaning: photos a person may want to hide from results or tidy away. Flags are notes, not skips:
a flagged photo is still indexed and found; the report lists the flags and search can hide them.

- blurry: the variance of the Laplacian (how much the brightness changes from pixel to pixel) of the
  photo at thumbnail size (256 px) is below BLURRY_BELOW. Blur a person notices at that size: real
  photos of ../shared/photos score 190 or more in 95 cases of 100, the same thumbnails blurred by 2 px
  score 73 or less in 99 of 100 (BENCHMARKS.md).
- tiny: the longer side is below TINY_BELOW pixels, smaller than a thumbnail (a preview, an icon).
- screenshot: a PNG with no camera recorded and a longer side of SCREEN_SIDE pixels or more: phones and
  cameras save photos as JPEG or HEIC, so such a file is a screen capture (or a graphic).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from .index import PhotoRow

BLURRY_BELOW = 60.0
TINY_BELOW = 256
SHARPNESS_SIDE = 256  # measured at the size of the index's thumbnails
SCREEN_SIDE = 600  # a window's size at least


def sharpness(image: Image.Image | bytes) -> float:
    """Variance of the Laplacian of the photo's grayscale at thumbnail size: low means blurry."""
    import cv2

    if isinstance(image, bytes):
        image = Image.open(io.BytesIO(image))
    small = image.convert("L")
    if max(small.size) > SHARPNESS_SIDE:
        small = small.copy()
        small.thumbnail((SHARPNESS_SIDE, SHARPNESS_SIDE), Image.Resampling.BICUBIC)
    return float(cv2.Laplacian(np.asarray(small, dtype=np.float32), cv2.CV_32F).var())


def photo_flags(width: int, height: int, file_format: str, camera: str, sharpness_value: float | None) -> list[str]:
    """The flags of one photo, from what the index or a decode knows about it."""
    flags = []
    if sharpness_value is not None and sharpness_value < BLURRY_BELOW:
        flags.append("blurry")
    if max(width, height) < TINY_BELOW:
        flags.append("tiny")
    if file_format.upper() == "PNG" and not camera and max(width, height) >= SCREEN_SIDE:
        flags.append("screenshot")
    return flags


def row_flags(row: PhotoRow, thumbnail: bytes | None) -> list[str]:
    """A photo's flags from what the index holds: its recorded size, format and camera, and its thumbnail."""
    return photo_flags(row.width or 0, row.height or 0, row.format or "", row.camera,
                       sharpness(thumbnail) if thumbnail else None)
