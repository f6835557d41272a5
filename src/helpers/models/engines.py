"""What runs a network, chosen in one place: ONNX Runtime on the CPU, PyTorch on a CUDA GPU.

The rest of the package sees a `Tower`: a numpy batch in, a numpy batch of features out. ONNX
Runtime is how CLIP ships in photo tools (rclip, immich, ente): it starts in a tenth of a second,
where importing PyTorch takes seconds, and on many CPUs it is also the faster engine. PyTorch
stays for CUDA GPUs, for making the ONNX export, and for the course's teaching cells.

Choice: `--engine` > PHOTO_SEARCH_ENGINE > PyTorch when an NVIDIA GPU is visible, else ONNX Runtime.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..errors import BadInput, quoted

if TYPE_CHECKING:
    import onnxruntime
    import torch

Engine = Literal["onnx", "torch"]
ENGINES: tuple[Engine, ...] = ("onnx", "torch")
ENV_ENGINE = "PHOTO_SEARCH_ENGINE"
Tower = Callable[[np.ndarray], np.ndarray]


def chosen_engine(name: str | None = None) -> Engine:
    """The engine asked for (argument, then environment), else the best one for this machine."""
    name = name or os.environ.get(ENV_ENGINE) or None
    if name is None:
        return "torch" if _cuda_visible() else "onnx"
    if name not in ENGINES:
        raise BadInput(f"unknown engine {quoted(name)}; choose one of: {', '.join(ENGINES)}")
    return name


def _cuda_visible() -> bool:
    """An NVIDIA GPU this process may use, told without importing torch (that costs seconds)."""
    hidden = os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1")
    return not hidden and Path("/dev/nvidiactl").exists()


def inference_threads() -> int:
    """Threads for the network: every core this process may run on. Decoding threads share them;
    ONNX Runtime is told not to spin while it waits, so the decoders get the cores in between."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class OnnxTower:
    """One exported network run by ONNX Runtime on the CPU."""

    def __init__(self, path: Path, threads: int | None = None, *, prepack: bool = True) -> None:
        self.path = path
        self.session = onnx_session(path, threads or inference_threads(), prepack=prepack)
        self._input = self.session.get_inputs()[0].name

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        return np.asarray(self.session.run(None, {self._input: inputs})[0], dtype=np.float32)


def onnx_session(path: Path, threads: int, *, prepack: bool = True,
                 save_optimised_to: Path | None = None) -> onnxruntime.InferenceSession:
    """A CPU session.

    `save_optimised_to` writes ONNX Runtime's portable graph optimisations (fused attention, layer
    norms, GELU) to a file, with the weights in a separate `.data` file beside it: done once when
    an export is made. Loading such a file skips the optimisation passes and maps the weights
    instead of copying them out of the graph, which halves a cold start. `prepack=False` skips
    repacking the weights for fast batches: right for one text query, wrong for indexing.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only: its warnings are about graph details, not the user's photos
    if not prepack:
        options.add_session_config_entry("session.disable_prepacking", "1")
    if save_optimised_to is not None:
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = str(save_optimised_to)
        options.add_session_config_entry("session.optimized_model_external_initializers_file_name",
                                         save_optimised_to.with_suffix(".data").name)
        options.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class TorchTower:
    """One network run by PyTorch, on the GPU when there is one."""

    def __init__(self, module: torch.nn.Module, *, channels_last: bool = False) -> None:
        import torch

        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self._format = torch.channels_last if channels_last else torch.contiguous_format
        self.module = module.eval().to(self.device).to(memory_format=self._format)

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        import torch

        tensor = torch.from_numpy(inputs).to(self.device)
        if tensor.dim() == 4:
            tensor = tensor.contiguous(memory_format=self._format)
        with torch.inference_mode():
            return self.module(tensor).float().cpu().numpy()


def describe_engine(tower: Any) -> str:
    """A short name for what runs a tower, for notes and benchmarks."""
    if isinstance(tower, OnnxTower):
        return "onnx"
    return f"torch-{tower.device.type}" if isinstance(tower, TorchTower) else "numpy"
