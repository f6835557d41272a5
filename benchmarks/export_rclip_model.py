"""Put OpenCLIP ViT-B-32-256 with seeded random weights where rclip looks for its model.

rclip cannot download its weights on an offline machine. The architecture, and so the compute
per image, is what matters for speed, so we export the same architecture that photo-search runs
as `openclip:ViT-B-32-256:none` to ONNX in rclip's folder layout:
  $RCLIP_DATADIR/ViT-B-32-256-datacomp_s34b_b86k/visual.onnx and textual.onnx (input "input")
  $RCLIP_DATADIR/tokenizer/bpe_simple_vocab_16e6.txt.gz (the vocabulary open_clip ships)

Usage: python benchmarks/export_rclip_model.py RCLIP_DATADIR   (needs the `onnx` package)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import open_clip
import torch

from helpers.models import find_spec

MODEL_SUBDIR = "ViT-B-32-256-datacomp_s34b_b86k"
SAME_ARCH = "openclip:ViT-B-32-256:none"


def export(datadir: Path) -> None:
    target = datadir / MODEL_SUBDIR
    if (target / "visual.onnx").exists() and (target / "textual.onnx").exists():
        return
    target.mkdir(parents=True, exist_ok=True)
    parts = find_spec(SAME_ARCH).load(SAME_ARCH)  # the networks photo-search runs, in PyTorch
    for module, example, name in (
        (parts.image, torch.zeros(2, 3, 256, 256), "visual.onnx"),
        (parts.text, open_clip.get_tokenizer("ViT-B-32-256")(["a photo", "of a cat"]), "textual.onnx"),
    ):
        torch.onnx.export(module, (example,), target / name, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=17,
                          dynamo=False)
    vocab = Path(open_clip.__file__).parent / "bpe_simple_vocab_16e6.txt.gz"
    (datadir / "tokenizer").mkdir(exist_ok=True)
    shutil.copy(vocab, datadir / "tokenizer" / vocab.name)


if __name__ == "__main__":
    export(Path(sys.argv[1]))
    print(f"rclip model ready in {sys.argv[1]}")
