"""Edited copies of a photo, made in memory: the kinds of copies a duplicate finder must catch.

Used to calibrate the duplicate threshold on a person's own photos and to test the finder.
Every edit goes through real file bytes where the file format is the point (JPEG quality,
EXIF orientation, HEIC and WebP round trips) and is decoded back by the same loader as the
library, so what is measured is what `photo-search dupes` will see.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

from ..images import LoadOptions, load_photo_bytes

Edit = Callable[[Image.Image, random.Random], Image.Image]


def _through_file(image: Image.Image, format_name: str, **save_options: object) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format_name, **save_options)
    return load_photo_bytes(buffer.getvalue(), LoadOptions(), name=f"edit.{format_name}").image


def _jpeg(quality: int) -> Edit:
    return lambda image, _: _through_file(image, "JPEG", quality=quality)


def _resize(factor: float) -> Edit:
    def edit(image: Image.Image, _: random.Random) -> Image.Image:
        size = (max(16, round(image.width * factor)), max(16, round(image.height * factor)))
        return image.resize(size, Image.Resampling.LANCZOS)
    return edit


def _crop(fraction: float) -> Edit:
    """Remove `fraction` of the width and of the height, split at random between the two sides."""
    def edit(image: Image.Image, rng: random.Random) -> Image.Image:
        cut_x, cut_y = round(image.width * fraction), round(image.height * fraction)
        left, top = rng.randint(0, cut_x), rng.randint(0, cut_y)
        return image.crop((left, top, image.width - (cut_x - left), image.height - (cut_y - top)))
    return edit


def _pixel_rotation(degrees: int) -> Edit:
    return lambda image, _: image.rotate(degrees, expand=True)


def _exif_rotation(orientation: int) -> Edit:
    """Pixels stored turned, with the EXIF tag that turns them back: displays as the original."""
    stored = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}

    def edit(image: Image.Image, _: random.Random) -> Image.Image:
        exif = Image.Exif()
        exif[0x0112] = orientation
        return _through_file(image.transpose(stored[orientation]), "JPEG", quality=92, exif=exif.tobytes())
    return edit


def _enhance(kind: Callable[[Image.Image], ImageEnhance._Enhance], factor: float) -> Edit:
    return lambda image, _: kind(image).enhance(factor)


def _grayscale(image: Image.Image, _: random.Random) -> Image.Image:
    return ImageOps.grayscale(image).convert("RGB")


def _overlay(image: Image.Image, rng: random.Random) -> Image.Image:
    """A caption in a band across the lower part, as messaging apps and meme makers add."""
    edited = image.copy()
    draw = ImageDraw.Draw(edited)
    size = max(10, image.height // 14)
    font = ImageFont.load_default(size=size)
    top = round(image.height * rng.uniform(0.72, 0.85))
    draw.rectangle((0, top, image.width, top + size * 1.4), fill=(0, 0, 0))
    draw.text((size // 2, top + size * 0.2), "Summer 2024 - with love", fill=(255, 255, 255), font=font)
    return edited


def _heic(image: Image.Image, _: random.Random) -> Image.Image:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    return _through_file(image, "HEIF", quality=80)


def _webp(image: Image.Image, _: random.Random) -> Image.Image:
    return _through_file(image, "WEBP", quality=80)


# The edit kinds, by name. Names are stable: reports and tests refer to them.
EDITS: dict[str, Edit] = {
    "jpeg q90": _jpeg(90), "jpeg q70": _jpeg(70), "jpeg q50": _jpeg(50), "jpeg q30": _jpeg(30),
    "resize 50%": _resize(0.5), "resize 25%": _resize(0.25),
    "crop 5%": _crop(0.05), "crop 10%": _crop(0.10), "crop 15%": _crop(0.15),
    "exif rotate 90": _exif_rotation(6), "exif rotate 180": _exif_rotation(3), "exif rotate 270": _exif_rotation(8),
    "rotate 90": _pixel_rotation(90), "rotate 180": _pixel_rotation(180), "rotate 270": _pixel_rotation(270),
    "grayscale": _grayscale,
    "brighter": _enhance(ImageEnhance.Brightness, 1.3), "darker": _enhance(ImageEnhance.Brightness, 0.7),
    "more contrast": _enhance(ImageEnhance.Contrast, 1.4), "less contrast": _enhance(ImageEnhance.Contrast, 0.7),
    "text overlay": _overlay, "heic round trip": _heic, "webp round trip": _webp,
}


def edited_copies(image: Image.Image, seed: int = 0, kinds: list[str] | None = None) -> dict[str, Image.Image]:
    """Every edit kind (or the named ones) applied to `image`, reproducibly for a given seed."""
    rng = random.Random(seed)
    image = image.convert("RGB")
    return {name: EDITS[name](image, rng) for name in (kinds or EDITS)}
