"""How pixels become model input: resize, crop and normalise exactly as the model was trained.

Published quality figures hold for us only if our pixels are the model's own pixels, so this
module reproduces the validation transforms of open_clip and timm step by step (the same output
size rounding, the same centre-crop offsets, the same PIL resampling filter). One `Preprocess`
serves indexing and querying alike, so the two can never drift apart.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from PIL import Image

from ..images import short_side_size

ResizeMode = Literal["shortest", "squash", "longest"]
Interpolation = Literal["bicubic", "bilinear"]

_FILTERS = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}


@dataclass(frozen=True)
class Preprocess:
    """One model's input recipe.

    `resize_mode`: "shortest" resizes the short side and centre-crops a square (CLIP); "squash"
    stretches the whole photo to a square (SigLIP); "longest" fits the long side and pads.
    `crop_fraction` below 1 resizes the short side to size / crop_fraction first (timm's crop_pct).
    """

    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    crop_fraction: float = 1.0
    resize_mode: ResizeMode = "shortest"
    interpolation: Interpolation = "bicubic"

    @property
    def resize_to(self) -> int:
        """The short side photos are decoded at (timm floors size / crop_pct)."""
        return int(self.size / self.crop_fraction + 1e-9)

    def crop(self, image: Image.Image) -> np.ndarray:
        """RGB image -> uint8 array (size, size, 3), on the model side just before a batch runs
        (`embedding`); `normalise` turns a stack of them into the network's float input."""
        resample = _FILTERS[self.interpolation]
        if self.resize_mode == "squash":
            return _as_array(_resize(image, (self.size, self.size), resample))
        if self.resize_mode == "longest":
            return _as_array(_pad_to_square(_fit_longest(image, self.size, resample), self.size))
        image = _resize(image, short_side_size(image.size, self.resize_to), resample)
        return _as_array(_centre_crop(image, self.size))

    def normalise(self, crops: np.ndarray) -> np.ndarray:
        """uint8 (N, size, size, 3) -> float32 (N, 3, size, size), scaled and normalised."""
        scale = np.float32(1 / 255) / np.asarray(self.std, np.float32)
        offset = np.asarray(self.mean, np.float32) / np.asarray(self.std, np.float32)
        return np.ascontiguousarray((crops.astype(np.float32) * scale - offset).transpose(0, 3, 1, 2))

    def describe(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Preprocess:
        return cls(size=int(values["size"]), mean=tuple(values["mean"]),
                   std=tuple(values["std"]),
                   crop_fraction=float(values.get("crop_fraction", 1.0)),
                   resize_mode=values.get("resize_mode", "shortest"),
                   interpolation=values.get("interpolation", "bicubic"))


    @classmethod
    def from_openclip(cls, cfg: dict[str, Any]) -> Preprocess:
        """From open_clip's preprocess config (`model.visual.preprocess_cfg`, filled from the
        pretrained weights' entry: SigLIP squashes, CLIPA resizes bilinearly)."""
        size = cfg["size"][0] if isinstance(cfg["size"], (tuple, list)) else cfg["size"]
        return cls(size=int(size), mean=tuple(cfg["mean"]), std=tuple(cfg["std"]),
                   resize_mode=cfg.get("resize_mode") or "shortest",
                   interpolation=cfg.get("interpolation") or "bicubic")


def _resize(image: Image.Image, size: tuple[int, int], resample: Image.Resampling) -> Image.Image:
    return image if image.size == size else image.resize(size, resample)


def _centre_crop(image: Image.Image, side: int) -> Image.Image:
    # torchvision rounds half offsets to even (Python's round), so we do too.
    left = round((image.width - side) / 2.0)
    top = round((image.height - side) / 2.0)
    return image.crop((left, top, left + side, top + side))


def _fit_longest(image: Image.Image, side: int, resample: Image.Resampling) -> Image.Image:
    ratio = max(image.width, image.height) / side
    return _resize(image, (round(image.width / ratio), round(image.height / ratio)), resample)


def _pad_to_square(image: Image.Image, side: int) -> Image.Image:
    canvas = Image.new("RGB", (side, side), (0, 0, 0))
    canvas.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
    return canvas


def _as_array(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.uint8)
