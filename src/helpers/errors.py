"""The exceptions photo-search raises, in one place.

The library raises; only the command line turns an exception into a one-line message and an
exit code. Each exception carries its data so a caller can act on it without parsing text.
"""

from __future__ import annotations


class PhotoSearchError(Exception):
    """Base class: every error the tool expects and can explain in one line."""


class BadInput(PhotoSearchError):
    """The caller asked for something that cannot work (a missing folder, a bad date, ...)."""


class ModelUnavailable(PhotoSearchError):
    """A model's weights (or its tokenizer) cannot be had here: offline, a missing file or package.
    The message names the fixes."""


class NoTextEncoder(PhotoSearchError):
    """A text query against a model that cannot read text (or knows no matching label)."""


class PhotoSkipped(PhotoSearchError):
    """One file cannot be used; it is reported with `reason` and the run goes on.

    `reason` is short and stable so reports can count by it ("truncated", "not an image");
    `detail` keeps the decoder's own words for whoever wants to dig.
    """

    def __init__(self, path: str, reason: str, detail: str = "") -> None:
        self.path = path
        self.reason = reason
        self.detail = detail
        super().__init__(f"{path}: {reason}" + (f" ({detail})" if detail else ""))


class UnsupportedFormat(PhotoSkipped):
    """An image in a format no installed decoder reads (JPEG XL without a plugin, SVG, ...)."""

    def __init__(self, path: str, format_name: str) -> None:
        self.format_name = format_name
        super().__init__(path, f"unsupported format: {format_name}")


class ImageTooLarge(PhotoSkipped):
    """Decoding would need more memory than the megapixel cap allows (or it is a decompression bomb)."""

    def __init__(self, path: str, megapixels: float, limit: float) -> None:
        self.megapixels = megapixels
        self.limit = limit
        super().__init__(
            path,
            f"too large: {megapixels:.0f} megapixels",
            f"limit is {limit:g} megapixels; raise it with --max-megapixels",
        )
