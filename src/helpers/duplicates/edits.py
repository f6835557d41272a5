"""Edited copies of a photo, made in memory: the kinds of copies a duplicate finder must catch.

Used to calibrate the duplicate threshold on a person's own photos and to test the finder.
Every edit goes through real file bytes where the file format is the point (JPEG quality,
EXIF orientation, HEIC and WebP round trips) and is decoded back by the same loader as the
library, so what is measured is what `photo-search dupes` will see.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

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


def _off_centre_crop(fraction: float) -> Edit:
    """Keep a (1 - fraction) window pushed towards one corner: the crop people make to cut a
    stranger out, not the symmetric trim of a frame."""
    def edit(image: Image.Image, rng: random.Random) -> Image.Image:
        keep_x, keep_y = round(image.width * (1 - fraction)), round(image.height * (1 - fraction))
        left = rng.choice((0, image.width - keep_x)) + rng.randint(-2, 2) * (image.width - keep_x) // 20
        top = rng.choice((0, image.height - keep_y)) + rng.randint(-2, 2) * (image.height - keep_y) // 20
        left, top = min(max(left, 0), image.width - keep_x), min(max(top, 0), image.height - keep_y)
        return image.crop((left, top, left + keep_x, top + keep_y))
    return edit


def _tilt(low: float, high: float) -> Edit:
    """Straighten a horizon: turn by a few degrees and crop away the corners the turn leaves empty."""
    def edit(image: Image.Image, rng: random.Random) -> Image.Image:
        angle = rng.uniform(low, high) * rng.choice((-1, 1))
        turned = image.rotate(angle, Image.Resampling.BICUBIC)
        radians = math.radians(abs(angle))
        width, height = image.size  # largest upright box of the same aspect inside the turned frame
        scale = 1 / (math.cos(radians) + math.sin(radians) * max(width / height, height / width))
        keep_x, keep_y = width * scale, height * scale
        left, top = (width - keep_x) / 2, (height - keep_y) / 2
        return turned.crop((round(left), round(top), round(left + keep_x), round(top + keep_y)))
    return edit


def _perspective(image: Image.Image, corners: list[tuple[float, float]]) -> Image.Image:
    """Warp so the photo's four corners land on `corners` (top-left, top-right, bottom-right,
    bottom-left, as fractions of the frame)."""
    width, height = image.size
    target = [(x * width, y * height) for x, y in corners]
    source = [(0, 0), (width, 0), (width, height), (0, height)]
    rows = []
    for (x, y), (u, v) in zip(target, source, strict=True):  # PIL maps output -> input
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    coefficients = np.linalg.solve(np.array(rows), np.array(source, float).ravel())
    return image.transform(image.size, Image.Transform.PERSPECTIVE, tuple(coefficients),
                           Image.Resampling.BICUBIC, fillcolor=(236, 233, 226))


def _keystone(image: Image.Image, rng: random.Random) -> Image.Image:
    """Keystone correction as phone apps do it: the top pulled in (or out) by 6-12 %, then the
    empty wedges cropped away."""
    pull = rng.uniform(0.06, 0.12)
    corners = [(pull, 0.0), (1 - pull, 0.0), (1.0, 1.0), (0.0, 1.0)]
    warped = _perspective(image, corners if rng.random() < 0.5 else [(x, 1 - y) for x, y in corners[::-1]])
    return warped.crop((round(image.width * pull), 0, round(image.width * (1 - pull)), image.height))


def _photo_of_print(image: Image.Image, rng: random.Random) -> Image.Image:
    """A print photographed at a slant on a table: perspective, a margin of table around it,
    uneven light, a little blur, then the phone's JPEG."""
    jitter = [rng.uniform(0.04, 0.10) for _ in range(8)]
    corners = [(jitter[0], jitter[1]), (1 - jitter[2], jitter[3]), (1 - jitter[4], 1 - jitter[5]),
               (jitter[6], 1 - jitter[7])]
    shot = _perspective(image, corners).filter(ImageFilter.GaussianBlur(0.8))
    light = np.linspace(rng.uniform(0.8, 0.9), rng.uniform(1.0, 1.1), shot.width)[None, :, None]
    lit = np.clip(np.asarray(shot, np.float32) * light, 0, 255).astype(np.uint8)
    return _through_file(Image.fromarray(lit), "JPEG", quality=85)


def _mirror_crop(image: Image.Image, rng: random.Random) -> Image.Image:
    return _crop(0.15)(ImageOps.mirror(image), rng)


def _sepia(image: Image.Image, _: random.Random) -> Image.Image:
    gray = ImageOps.grayscale(image)
    return ImageOps.colorize(gray, black=(40, 26, 13), white=(255, 240, 192), mid=(160, 120, 80))


def _warm(image: Image.Image, _: random.Random) -> Image.Image:
    """A warm filter: red and green lifted, blue lowered, saturation up."""
    red, green, blue = ImageEnhance.Color(image).enhance(1.3).split()
    return Image.merge("RGB", (red.point(lambda v: min(255, v * 1.12 + 8)), green.point(lambda v: v * 1.03),
                               blue.point(lambda v: v * 0.82)))


def _faded(image: Image.Image, _: random.Random) -> Image.Image:
    """A faded film look: blacks lifted, contrast and colour lowered."""
    softer = ImageEnhance.Color(ImageEnhance.Contrast(image).enhance(0.75)).enhance(0.7)
    return softer.point(lambda v: 40 + v * 0.8)


def _vignette(image: Image.Image, _: random.Random) -> Image.Image:
    ys, xs = np.mgrid[-1:1:complex(0, image.height), -1:1:complex(0, image.width)]
    falloff = np.clip(1 - 0.55 * (xs ** 2 + ys ** 2) ** 1.2, 0.2, 1)[:, :, None]
    return Image.fromarray((np.asarray(image, np.float32) * falloff).astype(np.uint8))


def _border(image: Image.Image, rng: random.Random) -> Image.Image:
    """A white frame around a smaller copy, as social apps export a square post (the post has
    fewer pixels than the camera's original), sometimes with a thin dark line."""
    side = max(image.size)
    photo = image.resize((round(image.width * 0.85), round(image.height * 0.85)), Image.Resampling.LANCZOS)
    framed = Image.new("RGB", (side, side), (250, 250, 250))
    left, top = (side - photo.width) // 2, (side - photo.height) // 2
    framed.paste(photo, (left, top))
    if rng.random() < 0.5:
        ImageDraw.Draw(framed).rectangle((left - 3, top - 3, left + photo.width + 2, top + photo.height + 2),
                                         outline=(30, 30, 30), width=2)
    return framed


def _screenshot(image: Image.Image, _: random.Random) -> Image.Image:
    """A phone screenshot of the photo in a viewer: a tall dark screen (9:16) a little narrower
    than the original, the photo across its width, a status bar and a toolbar, saved as PNG."""
    width = round(image.width * 0.9)
    photo = image.resize((width, max(1, round(image.height * width / image.width))), Image.Resampling.BICUBIC)
    screen = Image.new("RGB", (width, max(round(width * 16 / 9), photo.height + width // 3)), (16, 16, 16))
    screen.paste(photo, (0, (screen.height - photo.height) // 2))
    draw = ImageDraw.Draw(screen)
    unit = max(8, width // 25)
    draw.text((unit, unit // 3), "9:41", fill=(255, 255, 255), font=ImageFont.load_default(size=unit))
    draw.rectangle((width - 3 * unit, unit // 2, width - unit, unit * 3 // 2), outline=(255, 255, 255), width=2)
    for x in range(2 * unit, width - unit, width // 5):
        draw.ellipse((x, screen.height - 3 * unit, x + unit, screen.height - 2 * unit), outline=(200, 200, 200),
                     width=2)
    return _through_file(screen, "PNG")


def _tiny(side: int) -> Edit:
    def edit(image: Image.Image, _: random.Random) -> Image.Image:
        copy = image.copy()
        copy.thumbnail((side, side), Image.Resampling.LANCZOS)
        return copy
    return edit


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
    # What people do before sharing (issue 12): perspective, straightening, strong crops, filters, frames.
    "keystone": _keystone, "photo of a print": _photo_of_print, "tilt 2-5": _tilt(2, 5), "tilt 5-10": _tilt(5, 10),
    "crop 20% off-centre": _off_centre_crop(0.20), "crop 30% off-centre": _off_centre_crop(0.30),
    "mirror + crop": _mirror_crop, "sepia": _sepia, "warm filter": _warm, "faded": _faded,
    "vignette": _vignette, "white border": _border, "screenshot": _screenshot, "tiny 240px": _tiny(240),
    "jpeg q15": _jpeg(15),
}


def edited_copies(image: Image.Image, seed: int = 0, kinds: list[str] | None = None) -> dict[str, Image.Image]:
    """Every edit kind (or the named ones) applied to `image`, reproducibly for a given seed."""
    rng = random.Random(seed)
    image = image.convert("RGB")
    return {name: EDITS[name](image, rng) for name in (kinds or EDITS)}
