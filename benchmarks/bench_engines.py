"""Model compute alone, per engine, on this CPU: the networks photo-search runs, no decoding.

For each model: its image network on a batch of 32 (photos/s, best of 3) in each engine, and how
closely the engines agree. ONNX Runtime runs photo-search's own cached export; PyTorch runs the
same weights. Models with
seeded random weights have the real architecture's compute. Usage: python benchmarks/bench_engines.py
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from helpers.models import load_model

BENCH = Path(__file__).resolve().parents[1] / "data" / "bench"
BATCH = 32
MODELS = ["openclip:ViT-B-32-256:none", "openclip:ViT-B-32-SigLIP2-256:none", "efficientnet-lite0"]


def photos_per_second(run: Callable[[], object], runs: int = 3) -> float:
    run()  # warm-up
    return BATCH / min(_timed(run) for _ in range(runs))


def _timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def cpu_model() -> str:
    for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def main() -> None:
    os.environ.setdefault("PHOTO_SEARCH_CACHE", str(BENCH / "cache"))
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores\n")
    print("| model | engine | photos/s (image network, batch 32) | agreement with PyTorch (worst cosine) |")
    print("|---|---|---:|---:|")
    for name in MODELS:
        onnx, torch = load_model(name, engine="onnx"), load_model(name, engine="torch")
        side = onnx.preprocess.size
        pixels = np.random.default_rng(0).standard_normal((BATCH, 3, side, side), dtype=np.float32)
        agreement = float(np.min(np.sum(onnx.embed_pixels(pixels) * torch.embed_pixels(pixels), axis=1)))
        for label, model in (("ONNX Runtime", onnx), ("PyTorch", torch)):
            rate = photos_per_second(lambda model=model, pixels=pixels: model.embed_pixels(pixels))
            shown = f"{agreement:.6f}" if label == "ONNX Runtime" else "-"
            print(f"| {name} | {label} | {rate:.1f} | {shown} |")


if __name__ == "__main__":
    main()
