"""Finding and describing the faces in a photo, offline: dlib's HOG face detector, its 5-point
landmark model (to align each face) and its ResNet face descriptor, whose trained networks come
in the PyPI package `face-recognition-models` (CC0). The 68-point landmark model in that package
is never loaded: its training data does not allow commercial use.

A face descriptor is 128 numbers that are close (Euclidean distance under about 0.6) for two
photos of one person and far for two people. That makes it sensitive data: it identifies a
person. It stays in the index, on this machine, and `photo-search people forget` deletes it.

Cost: the detector's work grows with the pixels it scans. A photo is decoded (a JPEG by DCT
scaling, cheaply) to about DETECT_SIDE pixels on its short side and the detector scans it at
twice that size: the smallest face it finds is about 40 pixels across at DETECT_SIDE, so in the
photo a face of about 5 % of the short side, which is as small as a face in a photo of a group
still is. Smaller faces are left out on purpose, not only for speed: below about 40 pixels the
descriptors of two different people come closer than the grouping distance (measured on the
face kit, faces shrunk step by step), so a smaller face would join the wrong person.
"""

from __future__ import annotations

import importlib.util
import io
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .errors import BadInput
from .images import LoadOptions, load_photo, short_side_size

DETECT_SIDE = 750  # the short side the detector sees (upsampled once): finds faces of 5 % of it
DECODE_SIDE = 700  # a JPEG is DCT-decoded to at least this short side (3000 px -> 750), and resized
# only when that leaves it much larger (a plain bilinear step: the detector needs no antialiasing)
UPSAMPLE = 1
# The detector's score a face must reach. Its own decision level (0) also finds faces in clothes,
# flowers, badges and shelves: on the 679 photos of ../shared/photos outside the face kit, 5 such
# false faces and 1 statue scored 0-0.16, beside 3 real faces (0.05-0.10) of the 37 found there;
# every counted face of the kit scores 0.22 or more. 0.2 gives up those 3 faces for no false ones.
MIN_SCORE = 0.2
CROP_SIDE = 96  # the face crop kept for the people view (pixels, square)
CROP_PADDING = 0.3  # share of the face's size added around it in the crop
LANDMARKS = "shape_predictor_5_face_landmarks.dat"
DESCRIPTOR = "dlib_face_recognition_resnet_model_v1.dat"
DIMENSION = 128


@dataclass(frozen=True)
class Face:
    """One face: its box in the upright photo's own pixels (x, y, width, height), its descriptor
    (unit-free, compare by Euclidean distance) and a small JPEG crop of it."""

    box: tuple[int, int, int, int]
    descriptor: np.ndarray
    crop: bytes


def models_folder() -> Path:
    """Where `face-recognition-models` keeps its networks. Found without importing the package,
    whose import needs `pkg_resources`, which it does not declare."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise BadInput("finding faces needs the packages in requirements.txt (dlib-bin, face-recognition-models): "
                       "run `pip install -r requirements.txt`")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


class FaceFinder:
    """The three dlib models, loaded on first use, one set per thread: dlib lets go of the
    interpreter while it works, so as many photos as cores are searched at once, but its networks
    keep working memory of their own and must not be shared between threads."""

    def __init__(self) -> None:
        self._local = threading.local()

    def faces_in(self, path: str | Path) -> list[Face]:
        """The faces in the photo at `path`, upright as EXIF says, left to right. Raises
        PhotoSkipped for a file that cannot be decoded."""
        # The loader asks libjpeg for twice `min_side` (its models want a last bicubic step), so
        # half of DECODE_SIDE here: the decoded short side is at least DECODE_SIDE.
        loaded = load_photo(path, LoadOptions(min_side=DECODE_SIDE // 2, shrink=False))
        image = loaded.image
        if min(image.size) > DETECT_SIDE * 1.2:  # a JPEG too large for DCT scaling to reach DETECT_SIDE
            image = image.resize(short_side_size(image.size, DETECT_SIDE), Image.Resampling.BILINEAR)
        width = loaded.metadata.width or image.width
        return self.faces_in_image(image, scale=width / image.width)

    def faces_in_image(self, image: Image.Image, scale: float = 1.0) -> list[Face]:
        """The faces in upright RGB pixels; boxes multiplied by `scale` (to the photo's own size)."""
        detector, landmarks, describer = self._loaded()
        pixels = np.asarray(image.convert("RGB"))
        boxes, scores, _ = detector.run(pixels, UPSAMPLE, MIN_SCORE)
        found = sorted((box for box, score in zip(boxes, scores, strict=True) if score >= MIN_SCORE),
                       key=lambda box: box.left())
        faces = []
        for box in found:
            descriptor = describer.compute_face_descriptor(pixels, landmarks(pixels, box))
            faces.append(Face(_scaled(box, scale, image.size), np.asarray(descriptor, dtype=np.float32),
                              _crop(image, box)))
        return faces

    def _loaded(self) -> tuple[Any, Any, Any]:
        models: tuple[Any, Any, Any] | None = getattr(self._local, "models", None)
        if models is None:
            import dlib  # a large native module: loaded only by an index that finds faces

            folder = models_folder()
            models = (dlib.get_frontal_face_detector(), dlib.shape_predictor(str(folder / LANDMARKS)),
                      dlib.face_recognition_model_v1(str(folder / DESCRIPTOR)))
            self._local.models = models
        return models


def _scaled(box: Any, scale: float, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """A dlib rectangle, clipped to the picture, in the photo's own pixels."""
    left, top = max(box.left(), 0), max(box.top(), 0)
    right, bottom = min(box.right(), size[0]), min(box.bottom(), size[1])
    return (round(left * scale), round(top * scale), round((right - left) * scale), round((bottom - top) * scale))


def _crop(image: Image.Image, box: Any) -> bytes:
    half = max(box.width(), box.height()) * (0.5 + CROP_PADDING)
    x, y = (box.left() + box.right()) / 2, (box.top() + box.bottom()) / 2
    square = image.crop((round(x - half), round(y - half), round(x + half), round(y + half)))
    square = square.resize((CROP_SIDE, CROP_SIDE), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    square.convert("RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()
