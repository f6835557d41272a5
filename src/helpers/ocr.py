"""Reading the words inside a photo, offline: RapidOCR's PP-OCR networks (shipped inside its
wheel as ONNX files) on the ONNX Runtime that already runs the image model.

Most photos hold no words, and reading a photo that has some costs a second or so. So every
photo first gets a cheap look: the text detector alone on a small copy (LOOK_SIDE pixels, a
JPEG decoded straight to that size), about 30 ms on one core. Only a photo where it finds a line
of text is decoded again at READ_MIN_SIDE and read: detection at READ_SIDE, orientation, and
recognition of at most MAX_LINES lines (a dense page of 230 lines takes ten seconds). In a large
photo where the look saw only a line or two (most often a pattern: a rug, a shirt's print, leaves),
only those places are read first, and the whole photo only when they hold legible words. A small
picture in which the detector finds nothing may be a tightly cropped word, which the detector
misses; it is read whole, and kept only when the reading is confident.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .images import LoadOptions, load_photo
from .words import normalise

LOOK_SIDE = 448  # the longer side of the first look's copy: finds a sign's words, costs little
READ_MIN_SIDE = 1200  # a photo with words is decoded (DCT-scaled) to at least this side to read them
READ_SIDE = 1280  # the detector's longer side when reading
MAX_LINES = 300  # lines read per photo at most: a dense page of 230 lines takes about 10 s
MIN_CONFIDENCE = 0.5  # lines read with less confidence are dropped
WHOLE_FROM = 8  # a first look that sees this many lines (a page, a receipt) reads the whole photo
CHEAP_PIXELS = 1_500_000  # a picture this small (a screenshot, a web photo) is read whole at once
MAX_BOX_SHARE = 0.25  # a "line" the look sees covering more of the picture than this is not one
LEGIBLE = 0.8  # a line read this confidently, of three letters or more, is words, not a pattern
CROP_SIDE = 400  # a picture no larger than this, with nothing detected, is read whole ...
CROP_CONFIDENCE = 0.9  # ... and what that reads is kept only with this much confidence


@dataclass(frozen=True)
class Line:
    """One line of text read in a photo, with how sure the recogniser was (0 to 1)."""

    text: str
    confidence: float


class Reader:
    """The three RapidOCR engines a photo may need, made on first use and shared by threads
    (each running its networks on one core, so that as many photos as cores are read at once)."""

    def __init__(self, threads_per_photo: int = 1) -> None:
        self._threads = threads_per_photo
        self._lock = threading.Lock()
        self._engines: dict[str, Any] = {}

    def lines_in(self, path: str | Path) -> list[Line]:
        """The lines of text in the photo file at `path`, upright as EXIF says; [] for none.
        Raises PhotoSkipped for a file that cannot be decoded."""
        # The detector resizes with plain (aliased) linear interpolation, as it was trained: a copy
        # already smoothed to its size by an antialiasing resize scores text lower, enough to miss
        # a sign. So the JPEG is only DCT-scaled here, and the detector does the rest.
        small = load_photo(path, LoadOptions(min_side=LOOK_SIDE // 2, shrink=False)).image
        boxes = _lines_seen(self._looker(small), small.size)
        if not len(boxes):
            return self._read_whole(small) if max(small.size) <= CROP_SIDE else []
        image = load_photo(path, LoadOptions(min_side=READ_MIN_SIDE // 2, shrink=False)).image
        if len(boxes) < WHOLE_FROM and image.width * image.height > CHEAP_PIXELS:
            # A large photo where the look saw a line or two: most often a pattern, not words (a
            # second's reading for nothing). Read around what it saw first; only legible words
            # there earn the photo a whole reading.
            regions = _regions(boxes * (image.width / small.width), image.size)
            near = [line for region in regions for line in _lines(self._reader(image.crop(region)), MIN_CONFIDENCE)]
            if not any(_legible(line) for line in near):
                return []
        return _lines(self._reader(image), MIN_CONFIDENCE)

    def _read_whole(self, image: Image.Image) -> list[Line]:
        return _lines(self._whole(image), CROP_CONFIDENCE)

    def _looker(self, image: Image.Image) -> Any:
        return self._engine("look", {"Det.limit_side_len": LOOK_SIDE, "Global.use_cls": False,
                                     "Global.use_rec": False})(image)

    def _reader(self, image: Image.Image) -> Any:
        return self._engine("read", {"Det.limit_side_len": READ_SIDE, "Det.max_candidates": MAX_LINES})(image)

    def _whole(self, image: Image.Image) -> Any:
        # An engine of its own: switching detection off for one call switches it off for good.
        return self._engine("whole", {"Global.use_det": False, "Global.use_cls": False})(image)

    def _engine(self, name: str, settings: dict[str, Any]) -> Any:
        with self._lock:  # made once, by whichever thread asks first
            if name not in self._engines:
                from rapidocr import RapidOCR

                self._engines[name] = RapidOCR(params={
                    "Global.log_level": "error", "Det.limit_type": "max",
                    "EngineConfig.onnxruntime.intra_op_num_threads": self._threads,
                    "EngineConfig.onnxruntime.inter_op_num_threads": 1, **settings})
            return self._engines[name]


def _lines(output: Any, min_confidence: float) -> list[Line]:
    """The confident lines of an engine's output; a line of one letter (a shirt's print, a stray
    mark read as "A") says nothing a person would search for."""
    texts, scores = getattr(output, "txts", None) or (), getattr(output, "scores", None) or ()
    return [Line(text.strip(), round(float(score), 3)) for text, score in zip(texts, scores, strict=True)
            if len(normalise(text)) >= 2 and score >= min_confidence]


def _lines_seen(look: Any, size: tuple[int, int]) -> np.ndarray:
    """The first look's boxes that may be lines of text: not one covering a large part of the
    picture (what the detector makes of a frame, a noisy sky or a page seen whole, never a line)."""
    if look.boxes is None:
        return np.zeros((0, 4, 2))
    boxes = np.asarray(look.boxes, dtype=np.float64)
    spans = boxes.max(axis=1) - boxes.min(axis=1)
    return boxes[spans[:, 0] * spans[:, 1] <= MAX_BOX_SHARE * size[0] * size[1]]


def _legible(line: Line) -> bool:
    return line.confidence >= LEGIBLE and len(normalise(line.text).replace(" ", "")) >= 3


def _regions(boxes: np.ndarray, size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """The first look's text boxes (four corners each, in the photo's pixels) as rectangles to
    read, with room around each (the look's boxes are rough: a word may run past its box)."""
    width, height = size
    regions = []
    for box in boxes:
        left, top = box.min(axis=0)
        right, bottom = box.max(axis=0)
        margin = max(bottom - top, 16.0)
        regions.append((int(max(0.0, left - margin)), int(max(0.0, top - margin)),
                        int(min(float(width), right + margin)), int(min(float(height), bottom + margin))))
    return regions
