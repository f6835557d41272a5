"""Model compute alone, per inference engine: is any engine faster than PyTorch for the same model?

OpenCLIP ViT-B-32-256's image tower (random weights: the compute is the real model's), batch 32, best
of 3 runs, on this machine's cores. The ONNX file is the one `bench_index.py` exports for rclip.
Engines that are not installed are reported as such (`pip install onnxruntime openvino` to add them;
they are not project requirements). Usage: python benchmarks/bench_engines.py
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ONNX = Path(__file__).resolve().parents[1] / "data/bench/rclip-data/ViT-B-32-256-datacomp_s34b_b86k/visual.onnx"
BATCH = 32


def photos_per_second(run: Callable[[], object], runs: int = 3) -> float:
    run()  # warm-up
    best = min(_timed(run) for _ in range(runs))
    return BATCH / best


def _timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    os.environ.setdefault("OPENVINO_TELEMETRY_ENABLE", "0")  # nothing leaves the machine
    pixels = np.random.default_rng(0).standard_normal((BATCH, 3, 256, 256), dtype=np.float32)
    rows = []
    import open_clip
    import torch

    visual = open_clip.create_model("ViT-B-32-256", pretrained=None).eval().visual
    with torch.inference_mode():
        tensor = torch.from_numpy(pixels)
        rows.append(("PyTorch", photos_per_second(lambda: visual(tensor))))
    if not ONNX.exists():
        rows.append(("ONNX engines", "run benchmarks/bench_index.py first (it exports the ONNX model)"))
    else:
        if importlib.util.find_spec("onnxruntime"):
            import onnxruntime

            session = onnxruntime.InferenceSession(str(ONNX), providers=["CPUExecutionProvider"])
            name = session.get_inputs()[0].name
            rows.append(("ONNX Runtime", photos_per_second(lambda: session.run(None, {name: pixels}))))
        else:
            rows.append(("ONNX Runtime", "not installed"))
        if importlib.util.find_spec("openvino"):
            import openvino

            compiled = openvino.Core().compile_model(str(ONNX), "CPU", {"PERFORMANCE_HINT": "LATENCY"})
            rows.append(("OpenVINO", photos_per_second(lambda: compiled(pixels))))
        else:
            rows.append(("OpenVINO", "not installed"))
    print("| engine | photos/s (model only) |\n|---|---:|")
    for name, value in rows:
        print(f"| {name} | {value:.1f} |" if isinstance(value, float) else f"| {name} | {value} |")


if __name__ == "__main__":
    main()
