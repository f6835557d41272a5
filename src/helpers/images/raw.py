"""Camera RAW files (DNG, CR2, CR3, NEF, ARW, RAF, ORF, RW2), read through LibRaw (rawpy).

Most cameras store a full-size JPEG preview inside the RAW file; when it is large enough for
what the caller needs, it is decoded instead of the sensor data (many times faster). Otherwise
the sensor data is demosaiced, at half size when that is still large enough. Either way the
photo comes out upright, as the camera recorded its orientation.
"""

from __future__ import annotations

import io
from typing import Any, BinaryIO

import numpy as np
from PIL import Image

from ..errors import ImageTooLarge, PhotoSkipped
from .metadata import raw_metadata
from .photo import LoadedPhoto, LoadOptions, shrink_to_min_side

# LibRaw's `flip` (0, 3, 5, 6) as the transpose that turns stored pixels upright.
_UPRIGHT = {3: Image.Transpose.ROTATE_180, 5: Image.Transpose.ROTATE_90, 6: Image.Transpose.ROTATE_270}
FULL_SIZE = 0.9  # a preview at least this share of the sensor's size counts as full size


def load_raw(handle: BinaryIO, name: str, format_name: str, mtime_ns: int, options: LoadOptions) -> LoadedPhoto:
    import rawpy

    data = handle.read()
    try:
        with rawpy.imread(io.BytesIO(data)) as raw:
            sensor = (raw.sizes.width, raw.sizes.height)
            megapixels = sensor[0] * sensor[1] / 1e6
            if megapixels > options.max_megapixels:
                raise ImageTooLarge(name, megapixels, options.max_megapixels)
            image, source = _preview(raw, sensor, options), "embedded preview"
            if image is None:
                image, source = _demosaic(raw, sensor, options), "sensor data"
            else:
                image = image.transpose(_UPRIGHT[raw.sizes.flip]) if raw.sizes.flip in _UPRIGHT else image
            camera_time = raw.other.timestamp
    except PhotoSkipped:
        raise
    except (rawpy.LibRawError, OSError, ValueError) as error:
        raise PhotoSkipped(name, "damaged", f"{format_name} raw data LibRaw cannot read ({error})"[:200]) from None
    metadata = raw_metadata(data, image.size, mtime_ns, camera_time)
    if options.min_side:
        image = shrink_to_min_side(image, options.min_side)
    return LoadedPhoto(image=image, format=format_name, metadata=metadata, notes=[f"{format_name} from its {source}"])


def _preview(raw: Any, sensor: tuple[int, int], options: LoadOptions) -> Image.Image | None:
    """The embedded JPEG preview when it is big enough: at least the size asked for, or nearly
    the sensor's own size when the full resolution is wanted."""
    import rawpy

    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawError, OSError):
        return None
    if thumb.format != rawpy.ThumbFormat.JPEG:
        return None
    try:
        preview = Image.open(io.BytesIO(thumb.data))
        enough = (min(preview.size) >= options.min_side if options.min_side
                  else max(preview.size) >= FULL_SIZE * max(sensor))
        if not enough:
            return None
        if options.min_side:
            preview.draft("RGB", (2 * options.min_side, 2 * options.min_side))
        return preview.convert("RGB")
    except (OSError, ValueError):
        return None  # a broken preview: the sensor data is still there


def _demosaic(raw: Any, sensor: tuple[int, int], options: LoadOptions) -> Image.Image:
    """The sensor data, demosaiced with the camera's white balance; at half size (four times
    faster) when that still leaves at least twice the side asked for."""
    half = bool(options.min_side) and min(sensor) // 2 >= 2 * (options.min_side or 0)
    pixels = raw.postprocess(use_camera_wb=True, output_bps=8, half_size=half)
    return Image.fromarray(np.ascontiguousarray(pixels), "RGB")
