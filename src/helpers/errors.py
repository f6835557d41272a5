"""The exceptions photo-search raises, in one place.

The library raises; only the command line turns an exception into a one-line message and an
exit code (2). Each exception carries its data so a caller can act on it without parsing text.

    PhotoSearchError                 anything the tool expects and can explain in one line
    ├── BadInput                     the caller asked for something that cannot work
    ├── IndexUnusable                the index cannot be used as it is (damaged, unwritable)
    │   ├── ModelMismatch            built with another model; vectors never mix
    │   └── IndexBusy                another run is updating it right now
    ├── ModelUnavailable             weights or tokenizer cannot be had here (offline, missing)
    ├── NoTextEncoder                a text query to a model that cannot read text
    ├── ExportFailed                 a network could not be exported to ONNX (it runs in PyTorch)
    ├── ExportDamaged                a cached export no longer matches its check (it is redone)
    └── PhotoSkipped                 one file cannot be used; reported, the run goes on
        ├── UnsupportedFormat        a format no installed decoder reads
        └── ImageTooLarge            over the megapixel cap (or a decompression bomb)
"""

from __future__ import annotations

INPUT_SHOWN = 80  # characters of a person's own input quoted back in a message


def quoted(text: object, limit: int = INPUT_SHOWN) -> str:
    """User input for an error message: quoted, and shortened when long (a 100,000-character
    query should not come back as a 100,000-character error)."""
    text = str(text)
    return repr(text if len(text) <= limit else f"{text[:limit - 3]}...")


class PhotoSearchError(Exception):
    """Base class: every error the tool expects and can explain in one line."""


class BadInput(PhotoSearchError):
    """The caller asked for something that cannot work (a missing folder, a bad date, ...)."""


class IndexUnusable(PhotoSearchError):
    """The index cannot be used as it is (damaged, unwritable, made by another model, busy)."""


VANISHED = "file vanished"  # the reason of a photo that went away while it was read: not remembered as bad


def write_failed(folder: object, error: Exception) -> IndexUnusable:
    """What a person can do when the index cannot be written: a full disk, a read-only folder."""
    text = str(error)
    if "full" in text:
        why = "the disk holding it is full; free some space"
    elif "readonly" in text or "read-only" in text or "permission" in text.lower():
        why = "it is read-only here; make the folder writable, or give --index another folder"
    else:
        why = f"{text}; check the disk holding it"
    return IndexUnusable(f"could not write to the index at {folder}: {why}. Everything committed before is "
                         "kept, and the next run resumes from there")


class ModelMismatch(IndexUnusable):
    def __init__(self, index_model: str, requested: str) -> None:
        self.index_model, self.requested = index_model, requested
        super().__init__(f"this index was built with the model {index_model!r}, not {requested!r}; "
                         f"its vectors cannot be mixed. Re-embed with --reembed, or use another --index folder")


class IndexBusy(IndexUnusable):
    """Another photo-search run holds the index's lock (two runs would embed every photo twice)."""

    def __init__(self, folder: str, holder: str) -> None:
        self.folder, self.holder = folder, holder
        super().__init__(f"another photo-search run ({holder}) is updating the index at {folder}; "
                         "try again when it has finished")


class ModelUnavailable(PhotoSearchError):
    """A model's weights (or its tokenizer) cannot be had here: offline, a missing file or package.
    The message names the fixes."""


class NoTextEncoder(PhotoSearchError):
    """A text query against a model that cannot read text (or knows no matching label)."""


class ExportFailed(PhotoSearchError):
    """A network could not be exported to ONNX, or its export disagrees with PyTorch."""


class ExportDamaged(PhotoSearchError):
    """A cached export no longer matches what was verified; it is made again."""


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
