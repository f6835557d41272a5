"""Decode a photo file into upright RGB pixels, fast, or say exactly why it cannot be used.

Everything about pixels lives here: format plugins, the decompression-bomb cap, JPEG draft
decoding, EXIF orientation, and turning every pixel mode into plain RGB.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageCms, ImageFile, UnidentifiedImageError

from ..errors import VANISHED, ImageTooLarge, PhotoSkipped, UnsupportedFormat
from . import formats
from .metadata import exif_orientation, file_time_metadata, read_metadata
from .photo import LoadedPhoto, LoadOptions, shrink_to_min_side

# Pillow only *warns* at MAX_IMAGE_PIXELS and *raises* at twice that, with its own global
# limit. We switch its check off and apply our own per-call cap (`LoadOptions.max_megapixels`)
# so the limit is explicit, configurable, and reported with the file's real size.
Image.MAX_IMAGE_PIXELS = None
# Never pad a truncated file with grey: a half-grey picture embedded as if it were real is
# worse than a reported skip. (This is Pillow's default; we pin it against other libraries.)
ImageFile.LOAD_TRUNCATED_IMAGES = False

# Pillow warns about oddities it then handles (a malformed MPO header read as a plain JPEG);
# the loader reports real problems itself, so these would only be noise in a report.
warnings.filterwarnings("ignore", message="Image appears to be a malformed MPO file")

# Orientations 5-8 swap width and height when displayed.
_SWAPS_AXES = {5, 6, 7, 8}
# What turns stored pixels upright for each EXIF Orientation value (as in the EXIF spec).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_WHITE = (255, 255, 255)


# A 250-megapixel photo decodes in about 1.4 GB; a decompression bomb claims thousands of megapixels.
def load_photo(path: str | os.PathLike[str], options: LoadOptions = LoadOptions(), *,
               display_path: str | None = None, mtime_ns: int | None = None) -> LoadedPhoto:
    """Decode `path` into an upright RGB image, or raise PhotoSkipped with the reason.

    The file is only ever opened for reading. `display_path` is the name used in errors
    (the path relative to the library); `mtime_ns` saves a stat when the caller has one.
    """
    path = Path(path)
    name = display_path or str(path)
    try:
        with open(path, "rb") as handle:
            data_head = handle.read(formats.SNIFF_BYTES)
            if mtime_ns is None:
                mtime_ns = os.fstat(handle.fileno()).st_mtime_ns
            handle.seek(0)
            return _decode(handle, data_head, name, mtime_ns, options)
    except PermissionError as error:
        raise PhotoSkipped(name, "permission denied", str(error)) from None
    except FileNotFoundError as error:
        raise PhotoSkipped(name, VANISHED, str(error)) from None
    except IsADirectoryError as error:
        raise PhotoSkipped(name, "not a file", str(error)) from None


def load_photo_bytes(data: bytes, options: LoadOptions = LoadOptions(), *, name: str = "upload") -> LoadedPhoto:
    """Decode an in-memory file (an upload) exactly as `load_photo` decodes one on disk."""
    return _decode(io.BytesIO(data), data[: formats.SNIFF_BYTES], name, 0, options)


def _decode(handle: BinaryIO, head: bytes, name: str, mtime_ns: int,
            options: LoadOptions) -> LoadedPhoto:
    format_name = _check_format(head, name)
    if format_name in formats.RAW_FORMATS:
        from .raw import load_raw

        return load_raw(handle, name, format_name, mtime_ns, options)
    try:
        # Not `with Image.open(...)`: closing a Pillow image frees its pixels, and the caller
        # owns (and closes) the file handle anyway.
        return _decode_opened(Image.open(handle), name, mtime_ns, options)
    except PhotoSkipped:
        raise
    except UnidentifiedImageError as error:
        if format_name == "TIFF":
            handle.seek(0)
            return _decode_with_tifffile(handle, name, mtime_ns, options, error)
        raise PhotoSkipped(name, "damaged", f"{format_name} data no decoder accepts") from None
    except Exception as error:  # noqa: BLE001 - decoders raise any type on hostile bytes
        raise PhotoSkipped(name, _reason_for(error), str(error)[:200]) from None


def _check_format(head: bytes, name: str) -> str:
    """Refuse early what no decoder will read, naming the format when we know it."""
    if not head:
        raise PhotoSkipped(name, "empty file")
    format_name = formats.identify(head, name)
    if format_name is None:
        raise PhotoSkipped(name, "not an image")
    if not formats.is_decodable(format_name):
        raise UnsupportedFormat(name, format_name)
    return format_name


def _decode_opened(image: Image.Image, name: str, mtime_ns: int, options: LoadOptions) -> LoadedPhoto:
    width, height = image.size
    megapixels = width * height / 1e6
    if megapixels > options.max_megapixels:
        raise ImageTooLarge(name, megapixels, options.max_megapixels)
    orientation = exif_orientation(image)
    upright = (height, width) if orientation in _SWAPS_AXES else (width, height)
    metadata = read_metadata(image, upright, mtime_ns)
    format_name = image.format or "unknown"
    frames = getattr(image, "n_frames", 1)
    notes = [f"{frames} frames, first used"] if frames > 1 else []
    if options.min_side and format_name in ("JPEG", "MPO"):
        # DCT scaling: libjpeg decodes straight to 1/2, 1/4 or 1/8 size, several times faster
        # than a full decode. Asking for twice the side we need leaves the last step to a real
        # bicubic resize, as the models' own transforms do: embeddings then agree with a full
        # decode at cosine 0.9989 or more, 0.9993 on average (0.989 when decoding straight to
        # the needed side; efficientnet-lite0 on the 7 full-resolution photos, test_engine.py).
        image.draft("RGB", (2 * options.min_side, 2 * options.min_side))
    image.load()  # full decode now: a truncated file raises here instead of coming out grey
    pixels = to_rgb(image)
    if orientation != 1:
        pixels = _apply_orientation(pixels, orientation)
    if options.min_side and options.shrink:
        pixels = shrink_to_min_side(pixels, options.min_side)
    return LoadedPhoto(image=pixels, format=format_name, metadata=metadata, notes=notes)


def _apply_orientation(pixels: Image.Image, orientation: int) -> Image.Image:
    """Turn stored pixels upright, as the EXIF Orientation tag asks a viewer to."""
    return pixels.transpose(_UPRIGHT[orientation])


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode to 8-bit RGB, the way a photo viewer would show it."""
    mode = image.mode
    if mode == "RGB":
        return image.copy() if image.readonly else image
    if mode == "CMYK":
        return _cmyk_to_rgb(image)
    if mode == "LAB":
        return _checked(ImageCms.applyTransform(image, _lab_to_srgb()))
    if mode.startswith(("I", "F")):
        return Image.fromarray(_to_uint8(np.asarray(image)), "L").convert("RGB")
    if mode in ("P", "PA") or (mode in ("L", "RGB") and "transparency" in image.info):
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "RGBa", "La", "PA"):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, _WHITE)
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def _checked(image: Image.Image | None) -> Image.Image:
    """ImageCms returns None only when asked to convert in place, which we never do."""
    assert image is not None
    return image


def _cmyk_to_rgb(image: Image.Image) -> Image.Image:
    icc = image.info.get("icc_profile")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return _checked(ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"),
                                                      outputMode="RGB"))
        except (ImageCms.PyCMSError, OSError):
            pass  # a broken profile: fall back to the naive conversion below
    return image.convert("RGB")


_LAB_TRANSFORM: ImageCms.ImageCmsTransform | None = None


def _lab_to_srgb() -> ImageCms.ImageCmsTransform:
    global _LAB_TRANSFORM
    if _LAB_TRANSFORM is None:
        _LAB_TRANSFORM = ImageCms.buildTransform(
            ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB"), "LAB", "RGB"
        )
    return _LAB_TRANSFORM


def _to_uint8(values: np.ndarray) -> np.ndarray:
    """16-bit or float samples to 0-255. Pillow's own convert("L") clips 16-bit values at 255,
    which turns most 16-bit photos white; scale instead."""
    if values.dtype.kind == "f":
        finite = np.nan_to_num(values.astype(np.float64))
        low, high = float(finite.min()), float(finite.max())
        if low >= 0 and high <= 1:
            return (finite * 255 + 0.5).astype(np.uint8)
        span = high - low or 1.0
        return ((finite - low) * (255 / span) + 0.5).astype(np.uint8)
    top = 255 if values.max(initial=0) <= 255 else 65535
    return (values.astype(np.uint32) * 255 // top).clip(0, 255).astype(np.uint8)


def _decode_with_tifffile(handle: BinaryIO, name: str, mtime_ns: int, options: LoadOptions,
                          pillow_error: Exception) -> LoadedPhoto:
    """Scientific and multi-page TIFFs (float samples, planar layout) that Pillow refuses."""
    import tifffile

    try:
        with tifffile.TiffFile(handle) as tiff:
            page = tiff.pages.first
            megapixels = page.imagewidth * page.imagelength / 1e6
            if megapixels > options.max_megapixels:
                raise ImageTooLarge(name, megapixels, options.max_megapixels)
            values = page.asarray()
            pages = len(tiff.pages)
    except PhotoSkipped:
        raise
    except Exception as error:  # noqa: BLE001 - tifffile raises many types for bad data
        raise PhotoSkipped(name, "damaged", f"{pillow_error}; tifffile: {error}"[:200]) from None
    pixels = Image.fromarray(_as_rgb_array(values), "RGB")
    metadata = file_time_metadata(pixels.size, mtime_ns)
    if options.min_side and options.shrink:
        pixels = shrink_to_min_side(pixels, options.min_side)
    notes = [f"{pages} pages, first used"] if pages > 1 else []
    return LoadedPhoto(image=pixels, format="TIFF", metadata=metadata, notes=notes)


def _as_rgb_array(values: np.ndarray) -> np.ndarray:
    if values.ndim == 3 and values.shape[0] in (3, 4) and values.shape[-1] not in (3, 4):
        values = np.moveaxis(values, 0, -1)  # planar (channels first) to interleaved
    values = _to_uint8(values)
    if values.ndim == 2:
        values = np.stack([values] * 3, axis=-1)
    return np.ascontiguousarray(values[..., :3])


def _reason_for(error: BaseException) -> str:
    text = str(error).lower()
    if isinstance(error, EOFError) or any(word in text for word in _TRUNCATION_WORDS):
        return "truncated"
    if isinstance(error, MemoryError):
        return "out of memory"
    return "damaged"


# How Pillow, libjpeg and libheif word "the data ended too soon".
_TRUNCATION_WORDS = ("truncated", "premature end", "end of data", "unexpected end", "not enough data")
