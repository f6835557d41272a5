"""ONNX exports of a model's networks, made once and cached: the files ONNX Runtime runs.

A model's image network (and its text network, where it has one) is exported on first use into
the user cache folder, one folder per model id, weights fingerprint and export version. The folder
is written under a temporary name and renamed into place, so a crash leaves no half export. When
made, the export is verified: on a fixed probe batch ONNX Runtime's outputs must match PyTorch's
(cosine >= 0.9999), and those outputs are kept as the export's reference. On every load, file
sizes and checksums are compared and the probe is run again, so a damaged export is noticed,
said in one line, and made anew.

Finding an export needs neither PyTorch nor open_clip: everything a query needs (the model's
description, its preprocessing, the tokenizer vocabulary) is in the folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ExportDamaged, ExportFailed
from ..scan import hash_file
from .engines import OnnxTower, inference_threads, onnx_session

if TYPE_CHECKING:
    import torch

EXPORT_VERSION = 1  # bump when the export recipe changes: older exports are then made again
ENV_CACHE = "PHOTO_SEARCH_CACHE"
MANIFEST = "manifest.json"
MIN_COSINE = 0.9999
OPSET = 17


def cache_root() -> Path:
    """$PHOTO_SEARCH_CACHE, else the XDG cache folder: ~/.cache/photo-search."""
    chosen = os.environ.get(ENV_CACHE)
    if chosen:
        return Path(chosen).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "photo-search"


@dataclass(frozen=True)
class Export:
    """A verified export on disk: its folder and what its manifest says."""

    folder: Path
    manifest: dict[str, Any]

    @property
    def info(self) -> dict[str, Any]:
        return self.manifest["info"]

    def path(self, name: str) -> Path:
        return self.folder / name

    def has(self, tower: str) -> bool:
        return f"{tower}.onnx" in self.manifest["files"]

    def tower(self, tower: str) -> OnnxTower:
        """Load one network and check it still answers the probe as it did when verified. The text
        network runs one short query at a time, so it skips weight prepacking (a faster start)."""
        try:
            loaded = OnnxTower(self.path(f"{tower}.onnx"), prepack=tower != "text")
        except Exception as error:  # noqa: BLE001 - ONNX Runtime raises untyped errors for bad files
            raise ExportDamaged(f"{tower} network does not load ({str(error)[:120]})") from None
        probe = np.load(self.path(f"probe-{tower}.npy"))
        if _worst_cosine(loaded(probe), np.asarray(self.manifest["reference"][tower], np.float32)) < MIN_COSINE:
            raise ExportDamaged(f"{tower} network answers differently from when it was verified")
        return loaded


def folder_for(model_id: str, fingerprint: str) -> Path:
    """One folder per model, weights and export version; readable, yet unique for any model id."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id)[:60]
    digest = hashlib.blake2b(f"{model_id}\0{fingerprint}".encode(), digest_size=6).hexdigest()
    return cache_root() / "onnx" / f"{slug}-{digest}-v{EXPORT_VERSION}"


def find_export(model_id: str, fingerprint: str) -> Export | None:
    """The cached export for this model and weights, if there is a whole one (sizes and checksums
    match its manifest); raises ExportDamaged when one is there but broken."""
    folder = folder_for(model_id, fingerprint)
    if not folder.exists():
        return None
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        raise ExportDamaged("its manifest is missing or unreadable") from None
    if manifest.get("export_version") != EXPORT_VERSION or manifest.get("fingerprint") != fingerprint:
        raise ExportDamaged("its manifest does not match its folder")
    for name, expected in manifest["files"].items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != expected["size"] or hash_file(path) != expected["digest"]:
            raise ExportDamaged(f"{name} is missing or changed")
    return Export(folder, manifest)


def discard(model_id: str, fingerprint: str) -> None:
    shutil.rmtree(folder_for(model_id, fingerprint), ignore_errors=True)


@dataclass(frozen=True)
class TowerToExport:
    """One network to export, with the probe it is verified on."""

    module: torch.nn.Module
    probe: np.ndarray  # a fixed input batch (pixels or token ids)


def make_export(model_id: str, fingerprint: str, info: dict[str, Any], towers: dict[str, TowerToExport],
                extras: dict[str, Callable[[Path], None]]) -> Export:
    """Export, verify and atomically publish the networks of one model. `extras` write further
    files the model needs without PyTorch (a tokenizer vocabulary, classifier weights)."""
    final = folder_for(model_id, fingerprint)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".partial-", dir=final.parent))
    except OSError as error:
        raise ExportFailed(f"cannot write to the cache folder {final.parent} ({error.strerror}); "
                           f"set {ENV_CACHE} to a writable folder") from None
    try:
        reference = {name: _export_one(tower, work / f"{name}.onnx", work / f"probe-{name}.npy")
                     for name, tower in towers.items()}
        for name, write in extras.items():
            write(work / name)
        # Size and quick hash catch truncation and overwrites without reading hundreds of
        # megabytes on every start; the probe, run at each load, catches the rest.
        files = {path.name: {"size": path.stat().st_size, "digest": hash_file(path)}
                 for path in sorted(work.iterdir())}
        manifest = {"export_version": EXPORT_VERSION, "model_id": model_id, "fingerprint": fingerprint,
                    "info": info, "files": files, "reference": reference, "opset": OPSET,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "versions": _versions()}
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1))
        if final.exists():  # another process published it meanwhile, or a damaged one is there
            try:
                published = find_export(model_id, fingerprint)
            except ExportDamaged:
                published = None
            if published is not None:
                return published
            shutil.rmtree(final, ignore_errors=True)
        os.replace(work, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Export(final, manifest)


def _export_one(tower: TowerToExport, onnx_path: Path, probe_path: Path) -> list[list[float]]:
    """Export one network, then check ONNX Runtime against PyTorch on the probe batch."""
    import torch

    module = tower.module.eval().requires_grad_(False).cpu()
    raw = onnx_path.with_suffix(".raw.onnx")
    example = torch.from_numpy(tower.probe)
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)  # the fused attention kernel has no ONNX form
    try:
        with torch.inference_mode():
            expected = module(example).float().numpy()
        with warnings.catch_warnings():  # the exporter's notes concern graph details, not the user
            warnings.simplefilter("ignore")
            torch.onnx.export(module, (example,), str(raw), input_names=["input"], output_names=["features"],
                              dynamic_axes={"input": {0: "batch"}, "features": {0: "batch"}}, opset_version=OPSET,
                              dynamo=False)
    except Exception as error:  # noqa: BLE001 - the exporter raises many kinds for unsupported layers
        raise ExportFailed(f"the ONNX export failed: {str(error).splitlines()[0][:160]}") from None
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    try:
        onnx_session(raw, inference_threads(), save_optimised_to=onnx_path)  # optimised once, here
        got = OnnxTower(onnx_path)(tower.probe)
    except Exception as error:  # noqa: BLE001 - ONNX Runtime raises its own untyped errors
        raise ExportFailed(f"ONNX Runtime cannot run the export: {str(error)[:160]}") from None
    finally:
        raw.unlink(missing_ok=True)
    agreement = _worst_cosine(got, expected)
    if agreement < MIN_COSINE:
        raise ExportFailed(f"ONNX Runtime disagrees with PyTorch (cosine {agreement:.6f} < {MIN_COSINE})")
    np.save(probe_path, tower.probe)
    return got.tolist()


def _worst_cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.reshape(len(a), -1).astype(np.float64), b.reshape(len(b), -1).astype(np.float64)
    if a.shape != b.shape:
        return -1.0
    cosine = (a * b).sum(axis=1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)
    return float(cosine.min())


def _versions() -> dict[str, str]:
    import onnxruntime
    import torch

    return {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__}
