"""From a file to upright RGB pixels, the first step of the pipeline: `formats` (what a file really
is, from its first bytes), `load` (decoding, EXIF orientation, colour modes), `raw` (camera RAW files
through LibRaw), `metadata` (date taken, camera, GPS), `photo` (what a loaded photo is, the shrink
to the model's size, thumbnails).
"""

from .load import load_photo, load_photo_bytes, to_rgb
from .photo import (
    DEFAULT_MAX_MEGAPIXELS,
    THUMBNAIL_QUALITY,
    THUMBNAIL_SIDE,
    LoadedPhoto,
    LoadOptions,
    make_thumbnail,
    short_side_size,
    shrink_to_min_side,
)

__all__ = ["DEFAULT_MAX_MEGAPIXELS", "THUMBNAIL_QUALITY", "THUMBNAIL_SIDE", "LoadOptions", "LoadedPhoto",
           "load_photo", "load_photo_bytes", "make_thumbnail", "short_side_size", "shrink_to_min_side", "to_rgb"]
