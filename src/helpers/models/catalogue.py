"""The table of models by name, and loading them (see the package docstring for the table)."""


from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BadInput, ExportDamaged, ExportFailed, ModelUnavailable, quoted
from .embedder import Embedder, HistogramBaseline, LabelText, ModelInfo, PixelBaseline
from .engines import TorchTower, Tower, chosen_engine, describe_engine
from .export import Export, TowerToExport, discard, find_export, make_export
from .networks import (
    ENV_MODEL,
    SEED,
    SEEDED,
    TINY_SIDE,
    NetworkParts,
    Weights,
    cached_hub_file,
    efficientnet_weights,
    file_weights,
    load_efficientnet,
    load_openclip,
    load_tiny_clip,
    openclip_config,
    openclip_parts,
    openclip_weights,
    remember_weights,
)

DEFAULT_MODEL = "clip"
FALLBACK_MODEL = "efficientnet-lite0"


# --- the table of models --------------------------------------------------------------------

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
        return load_openclip(arch, pretrained, model_id=name)

    def weights(_: str) -> Weights | None:
        return file_weights(cached_hub_file(hub))

    return load, weights


_CLIP = ("ViT-B-32-256", "datacomp_s34b_b86k", "laion/CLIP-ViT-B-32-256x256-DataComp-s34B-b86K")
_SIGLIP2 = ("ViT-B-32-SigLIP2-256", "webli", "timm/ViT-B-32-SigLIP2-256")


def _specs() -> list[ModelSpec]:
    return [
        ModelSpec("clip", f"OpenCLIP {_CLIP[0]} / {_CLIP[1]}: photos and free text (downloaded once, MIT)",
                  "free text", 256, 512, *_openclip_preset(*_CLIP)),
        ModelSpec("siglip2", f"OpenCLIP {_SIGLIP2[0]} / {_SIGLIP2[1]}: better published retrieval, heavier text "
                  "network; text needs the transformers package (downloaded once, Apache-2.0)",
                  "free text", 256, 768, *_openclip_preset(*_SIGLIP2)),
        ModelSpec("openclip:ARCH:PRETRAINED", "any OpenCLIP model; PRETRAINED is a tag, a local weights file, "
                  "or none (seeded random weights: speed tests only)", "free text", None, None,
                  lambda name: load_openclip(*openclip_parts(name), model_id=name), openclip_weights),
        ModelSpec("efficientnet-lite0", "ImageNet EfficientNet-Lite0, fully offline; text via ImageNet labels only",
                  "ImageNet labels", 256, 1280, lambda _: load_efficientnet(), lambda _: efficientnet_weights()),
        ModelSpec("tiny-clip", "a tiny seeded random OpenCLIP, for tests of the code paths (meaningless scores)",
                  "free text (meaningless)", TINY_SIDE, 64, lambda _: load_tiny_clip(), lambda _: SEEDED),
        ModelSpec("baseline-pixels", "no learning: the photo shrunk to 16 x 16 pixels (a baseline for evaluation)",
                  "no", 16, PixelBaseline.INFO.dimension, lambda _: PixelBaseline(), lambda _: None),
        ModelSpec("baseline-histogram", "no learning: a colour histogram (a baseline for evaluation)",
                  "no", 64, HistogramBaseline.INFO.dimension, lambda _: HistogramBaseline(), lambda _: None),
    ]


MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in _specs()}
_BASELINES = ("baseline-pixels", "baseline-histogram")


def list_models() -> list[str]:
    return list(MODELS)


def describe_models() -> dict[str, str]:
    return {name: spec.description for name, spec in MODELS.items()}


def find_spec(name: str) -> ModelSpec:
    """The table row for a model name (`openclip:...` names share one row)."""
    if name.startswith("openclip:"):
        openclip_parts(name)  # checks the form
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
    config = openclip_config(openclip_parts(name)[0])
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
    if asked is None and _DEFAULT_UNAVAILABLE:  # tried once in this process: no second wait, no second note
        return _load_named(FALLBACK_MODEL, engine, announce)
    try:
        return _load_named(asked or DEFAULT_MODEL, engine, announce)
    except ModelUnavailable:
        if asked is not None:
            raise
        _DEFAULT_UNAVAILABLE.append(True)
        announce(f"note: could not fetch the CLIP weights (offline?); using the offline {FALLBACK_MODEL} "
                 f"model instead (set {ENV_MODEL} to choose)")
        return _load_named(FALLBACK_MODEL, engine, announce)


_DEFAULT_UNAVAILABLE: list[bool] = []  # the default's weights could not be had in this process


def _load_named(name: str, engine: str | None, announce: Callable[[str], None]) -> Embedder:
    spec = find_spec(name)
    if name in _BASELINES:
        return spec.load(name)
    if chosen_engine(engine) == "onnx":
        return _onnx_embedder(name, spec, announce)
    return _torch_embedder(spec.load(name))


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
            _discard_damaged(name, weights.fingerprint, damage, announce)
    if export is None:
        parts = spec.load(name)
        try:
            export = _export(name, parts, announce)
        except ExportFailed as failure:
            announce(f"note: {name} runs in PyTorch instead of ONNX Runtime: {failure}")
            return _torch_embedder(parts)
    return _from_export(name, spec, export, announce)


def _discard_damaged(name: str, fingerprint: str, damage: ExportDamaged, announce: Callable[[str], None]) -> None:
    announce(f"note: the cached ONNX export of {name} is damaged ({damage}); making it again")
    discard(name, fingerprint)


def _export(name: str, parts: NetworkParts, announce: Callable[[str], None]) -> Export:
    announce(f"note: preparing {name} for ONNX Runtime (once; later runs start in a fraction of a second)")
    side = parts.info.preprocess.size
    rng = np.random.default_rng(SEED)
    towers = {"image": TowerToExport(parts.image, rng.standard_normal((2, 3, side, side), dtype=np.float32))}
    if parts.text is not None:
        towers["text"] = TowerToExport(parts.text, rng.integers(1, 400, (2, parts.info.context_length)))
    writers = {asset: _asset_writer(value) for asset, value in parts.assets.items()}
    export = make_export(name, parts.info.fingerprint, parts.info.to_dict(), towers, writers)
    if parts.weights is not None:
        remember_weights(name, parts.weights)
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
                _discard_damaged(self.name, self.export.manifest["fingerprint"], damage, self.announce)
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
