"""What a loaded photo is, and the few pixel operations every decoder shares: how to decode
(`LoadOptions`), the result (`LoadedPhoto`), the model-size shrink and the cached thumbnail."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from PIL import Image

from .metadata import PhotoMetadata

DEFAULT_MAX_MEGAPIXELS = 250.0


@dataclass(frozen=True)
class LoadOptions:
    """How to decode.

    `min_side`: the smallest side the caller needs. JPEGs are decoded by DCT scaling (1/2, 1/4,
    1/8) to the smallest size that is still at least this big, and every image is then
    shrunk so its shorter side equals `min_side` (unless `shrink` is False: then the caller does
    the last resize, as the text detector does with the plain linear resize it was trained on).
    None keeps full resolution.
    `max_megapixels`: larger images are reported, not decoded (memory grows with pixels).
    """

    min_side: int | None = None
    shrink: bool = True
    max_megapixels: float = DEFAULT_MAX_MEGAPIXELS


@dataclass
class LoadedPhoto:
    """Upright RGB pixels of one photo plus what the file says about itself."""

    image: Image.Image
    format: str
    metadata: PhotoMetadata
    notes: list[str] = field(default_factory=list)


THUMBNAIL_SIDE = 256  # the longer side of cached thumbnails: enough for grids and galleries
THUMBNAIL_QUALITY = 82


def make_thumbnail(image: Image.Image) -> bytes:
    """A small JPEG of an upright photo, cached in the index: grids and galleries never reopen originals."""
    thumbnail = image.copy()
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    thumbnail.save(buffer, "JPEG", quality=THUMBNAIL_QUALITY)
    return buffer.getvalue()


def shrink_to_min_side(image: Image.Image, min_side: int) -> Image.Image:
    """Resize (down only) so the shorter side is `min_side`; aspect ratio kept. One antialiased
    bicubic resize with torchvision's size rounding, as open_clip and timm do: the model's own
    transform then has nothing left to resize, and its pixel grid is exactly theirs."""
    if min(image.size) <= min_side:
        return image
    return image.resize(short_side_size(image.size, min_side), Image.Resampling.BICUBIC)


def short_side_size(size: tuple[int, int], short_side: int) -> tuple[int, int]:
    """torchvision's Resize(int): the short side becomes `short_side`, the long side is truncated
    (not rounded: a one-pixel difference shifts the whole resampling grid)."""
    width, height = size
    if width <= height:
        return short_side, int(short_side * height / width)
    return int(short_side * width / height), short_side
