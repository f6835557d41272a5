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

from ..errors import ModelUnavailable, NoTextEncoder
from .catalogue import (
    DEFAULT_MODEL,
    ENV_MODEL,
    FALLBACK_MODEL,
    MODELS,
    ModelSpec,
    chosen_model_name,
    describe_models,
    find_spec,
    input_side,
    list_models,
    load_model,
)
from .embedder import Embedder, HistogramBaseline, LabelText, ModelInfo, PixelBaseline, TextKind

__all__ = ["DEFAULT_MODEL", "ENV_MODEL", "FALLBACK_MODEL", "MODELS", "Embedder", "HistogramBaseline", "LabelText",
           "ModelInfo", "ModelSpec", "ModelUnavailable", "NoTextEncoder", "PixelBaseline", "TextKind",
           "chosen_model_name", "describe_models", "find_spec", "input_side", "list_models", "load_model"]
