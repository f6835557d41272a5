"""The engine: ONNX exports (made once, verified, cached, repaired), the two engines agreeing on real
photos, preprocessing identical to open_clip's, a tokenizer identical to open_clip's, and queries
that never import PyTorch."""

from __future__ import annotations

import json
import os
import random
import string
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers.errors import BadInput, ExportFailed
from helpers.images import LoadOptions, load_photo
from helpers.indexer import update_index
from helpers.models import MODELS, find_spec, list_models, load_model
from helpers.models.engines import chosen_engine
from helpers.models.export import TowerToExport, make_export
from helpers.models.preprocess import Preprocess
from helpers.models.tokenizer import ClipTokenizer, canonicalize, shipped_vocab
from helpers.search import Library


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh export cache, so a test sees exports being made."""
    monkeypatch.setenv("PHOTO_SEARCH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _loader_lines() -> tuple[list[str], object]:
    lines: list[str] = []
    return lines, lines.append


# --- the model table -------------------------------------------------------------------------

def test_the_table_answers_names_and_refuses_unknown_ones() -> None:
    assert list_models()[:2] == ["clip", "siglip2"]
    assert find_spec("openclip:ViT-B-32:none") is MODELS["openclip:ARCH:PRETRAINED"]
    with pytest.raises(BadInput, match="unknown model 'clipp'; available: clip, siglip2"):
        find_spec("clipp")
    with pytest.raises(BadInput, match="openclip:ARCH:PRETRAINED"):
        find_spec("openclip:ViT-B-32")


def test_engine_choice_argument_environment_and_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHOTO_SEARCH_ENGINE", "torch")
    assert chosen_engine() == "torch"
    assert chosen_engine("onnx") == "onnx"
    monkeypatch.delenv("PHOTO_SEARCH_ENGINE")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert chosen_engine() == "onnx"  # no GPU this process may use: ONNX Runtime on the CPU
    with pytest.raises(BadInput, match="unknown engine 'tensorflow'"):
        chosen_engine("tensorflow")


# --- exports ---------------------------------------------------------------------------------

def test_an_export_is_made_once_then_reused(own_cache: Path) -> None:
    lines, announce = _loader_lines()
    first = load_model("tiny-clip", engine="onnx", announce=announce)
    assert first.engine == "onnx" and len(lines) == 1 and "preparing tiny-clip" in lines[0]
    folders = list((own_cache / "onnx").glob("tiny-clip-*"))
    assert len(folders) == 1
    created = json.loads((folders[0] / "manifest.json").read_text())["created"]
    again = load_model("tiny-clip", engine="onnx", announce=announce)
    assert len(lines) == 1  # nothing made the second time
    assert json.loads((folders[0] / "manifest.json").read_text())["created"] == created
    pixels = np.random.default_rng(3).standard_normal((2, 3, 64, 64), dtype=np.float32)
    assert np.allclose(first.embed_pixels(pixels), again.embed_pixels(pixels), atol=1e-6)
    assert not list((own_cache / "onnx").glob(".partial-*"))  # nothing half-written left behind


@pytest.mark.parametrize("damage", ["truncate the text network", "change bytes inside the image weights"])
def test_a_damaged_export_is_noticed_said_and_made_again(own_cache: Path, damage: str) -> None:
    reference = load_model("tiny-clip", engine="torch")
    load_model("tiny-clip", engine="onnx", announce=lambda line: None)
    folder = next((own_cache / "onnx").glob("tiny-clip-*"))
    if damage.startswith("truncate"):
        target = folder / "text.data"
        target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    else:  # the middle of the file: sizes and quick checksums still match, the probe does not
        target = folder / "image.data"
        data = bytearray(target.read_bytes())
        middle = len(data) // 2
        data[middle:middle + 4096] = bytes(4096)
        target.write_bytes(bytes(data))
    lines, announce = _loader_lines()
    repaired = load_model("tiny-clip", engine="onnx", announce=announce)
    pixels = np.random.default_rng(4).standard_normal((2, 3, 64, 64), dtype=np.float32)
    vectors = repaired.embed_pixels(pixels)
    texts = repaired.embed_texts(["a dog on a beach", "Zürich at night"])
    assert any("damaged" in line and "making it again" in line for line in lines), lines
    assert np.min(np.sum(vectors * reference.embed_pixels(pixels), axis=1)) > 0.9999
    assert np.min(np.sum(texts * reference.embed_texts(["a dog on a beach", "Zürich at night"]), axis=1)) > 0.9999


@pytest.mark.slow
def test_changed_weights_make_a_new_export(own_cache: Path, tmp_path: Path) -> None:
    import open_clip
    import torch

    weights = tmp_path / "small.pt"
    torch.manual_seed(1)
    torch.save(open_clip.create_model("ViT-S-32-alt").state_dict(), weights)
    name = f"openclip:ViT-S-32-alt:{weights}"
    lines, announce = _loader_lines()
    before = load_model(name, engine="onnx", announce=announce)
    load_model(name, engine="onnx", announce=announce)
    assert sum("preparing" in line for line in lines) == 1
    torch.manual_seed(2)
    torch.save(open_clip.create_model("ViT-S-32-alt").state_dict(), weights)
    after = load_model(name, engine="onnx", announce=announce)
    assert sum("preparing" in line for line in lines) == 2
    assert after.fingerprint != before.fingerprint
    assert len(list((own_cache / "onnx").glob("openclip_ViT-S-32-alt*"))) == 2
    pixels = np.random.default_rng(5).standard_normal((1, 3, 224, 224), dtype=np.float32)
    assert float((before.embed_pixels(pixels) @ after.embed_pixels(pixels).T)[0, 0]) < 0.99


def test_an_export_that_disagrees_with_pytorch_is_refused(own_cache: Path) -> None:
    import torch

    class Noisy(torch.nn.Module):  # traced once: the exported graph keeps one draw of the noise
        def forward(self, pixels: torch.Tensor) -> torch.Tensor:
            return pixels.mean(dim=(2, 3)) + torch.rand(1).item()

    probe = np.random.default_rng(0).standard_normal((2, 3, 8, 8), dtype=np.float32)
    with pytest.raises(ExportFailed, match="disagrees with PyTorch"):
        make_export("noisy", "x", {}, {"image": TowerToExport(Noisy(), probe)}, {})
    assert not (own_cache / "onnx" / "noisy").exists()


def test_without_a_writable_cache_the_model_runs_in_pytorch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("PHOTO_SEARCH_CACHE", str(blocker))
    lines, announce = _loader_lines()
    model = load_model("tiny-clip", engine="onnx", announce=announce)
    assert model.engine.startswith("torch")
    assert any("runs in PyTorch" in line and "PHOTO_SEARCH_CACHE" in line for line in lines), lines
    assert model.embed_texts(["still works"]).shape == (1, 64)


# --- the two engines agree on real photos ----------------------------------------------------

def test_both_engines_give_the_same_top_ten_on_real_photos(photos: Path, tmp_path: Path) -> None:
    library = tmp_path / "photos"
    library.mkdir()
    for path in sorted((photos / "retrieval" / "caltech101").rglob("*.jpg"))[::3][:60]:
        (library / f"{path.parent.name}_{path.name}").symlink_to(path)
    onnx_model, torch_model = load_model("efficientnet-lite0", engine="onnx"), load_model("efficientnet-lite0",
                                                                                         engine="torch")
    update_index(library, tmp_path / "onnx-index", embedder=onnx_model)
    update_index(library, tmp_path / "torch-index", embedder=torch_model)
    by_onnx, by_torch = Library.open(tmp_path / "onnx-index"), Library.open(tmp_path / "torch-index")
    assert by_onnx.model_id == by_torch.model_id == "efficientnet-lite0"  # the index records the model only
    a, b = by_onnx.vectors.rows(np.arange(len(by_onnx))), by_torch.vectors.rows(np.arange(len(by_torch)))
    assert np.min(np.sum(a * b, axis=1)) > 0.999  # float16 storage, two engines
    for photo_id in by_onnx.ids[:20]:
        from helpers.search import Term

        ours = [r.photo.path for r in by_onnx.search(Term("photo", int(photo_id)), k=10).results]
        theirs = [r.photo.path for r in by_torch.search(Term("photo", int(photo_id)), k=10).results]
        assert ours == theirs


# --- preprocessing identical to open_clip's --------------------------------------------------

def _real_photos(photos: Path) -> dict[str, Image.Image]:
    messy = photos / "messy"
    full = LoadOptions(min_side=None)
    found = {
        "exif-rotated": load_photo(messy / "exif_orientation" / "portrait-orientation-6.jpg", full).image,
        "portrait": load_photo(photos / "retrieval" / "full_resolution" / "holidays_100000.jpg", full).image,
        "16-bit": load_photo(messy / "png16" / "pillow_heif_RGB_16__128x128.png", full).image,
        "landscape": load_photo(photos / "retrieval" / "full_resolution" / "sceaux_100_7100.JPG", full).image,
    }
    found["tiny"] = found["landscape"].resize((37, 23), Image.Resampling.LANCZOS)
    return found


# Each preset's pretrained config, plus architectures whose configs differ (SigLIP squashes, CLIPA
# squashes bilinearly); open_clip's config table is read offline, its transform built from it.
OPENCLIP_CONFIGS = [("ViT-B-32-256", "datacomp_s34b_b86k"), ("ViT-B-32-SigLIP2-256", "webli"),
                    ("ViT-L-14-CLIPA", "datacomp1b"), ("ViT-B-16", "openai")]


@pytest.mark.parametrize("arch,tag", OPENCLIP_CONFIGS)
def test_our_pixels_are_open_clips_pixels(photos: Path, arch: str, tag: str) -> None:
    import open_clip
    from open_clip.transform import PreprocessCfg, image_transform_v2, merge_preprocess_dict

    side = open_clip.get_model_config(arch)["vision_cfg"]["image_size"]
    cfg = merge_preprocess_dict({**vars(PreprocessCfg()), "size": side}, open_clip.get_pretrained_cfg(arch, tag))
    transform = image_transform_v2(PreprocessCfg(**cfg), is_train=False)
    ours = Preprocess.from_openclip(cfg)
    if (arch, tag) in (("ViT-B-32-256", "datacomp_s34b_b86k"), ("ViT-B-32-SigLIP2-256", "webli")):
        preset = {"ViT-B-32-256": "clip", "ViT-B-32-SigLIP2-256": "siglip2"}[arch]
        assert MODELS[preset].side == ours.resize_to and MODELS[preset].description.startswith(f"OpenCLIP {arch}")
    network = load_model("efficientnet-lite0", engine="torch")  # any size in: a yardstick for embeddings
    for label, image in _real_photos(photos).items():
        theirs = transform(image).numpy()
        mine = ours.normalise(ours.crop(image)[None])[0]
        pixel_error = np.max(np.abs(theirs - mine) * np.asarray(ours.std, np.float32)[:, None, None])
        assert pixel_error <= 1 / 255, f"{arch} {label}: off by {pixel_error * 255:.2f} levels"
        assert float(np.sum(network.embed_pixels(theirs[None]) * network.embed_pixels(mine[None]))) >= 0.999


def test_efficientnet_pixels_are_timms_pixels(photos: Path) -> None:
    import timm
    from timm.data import create_transform, resolve_data_config

    network = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    transform = create_transform(**resolve_data_config({}, model=network))
    ours = load_model("efficientnet-lite0").preprocess
    for label, image in _real_photos(photos).items():
        error = np.max(np.abs(transform(image).numpy() - ours.normalise(ours.crop(image)[None])[0]) * 0.5)
        assert error <= 1 / 255, f"{label}: off by {error * 255:.2f} levels"


def test_indexed_pixels_embed_like_open_clips_full_decode(photos: Path) -> None:
    """Indexing decodes JPEGs at reduced size (DCT scaling) for speed; the embeddings still agree
    with those of open_clip's transform on the fully decoded photo."""
    model = load_model("efficientnet-lite0")
    timm_like = model.preprocess
    paths = sorted((photos / "retrieval" / "full_resolution").iterdir())
    fast = [load_photo(path, LoadOptions(min_side=timm_like.resize_to)).image for path in paths]
    full = [load_photo(path, LoadOptions(min_side=None)).image for path in paths]
    a = model.embed_pixels(timm_like.normalise(np.stack([timm_like.crop(image) for image in fast])))
    b = model.embed_pixels(timm_like.normalise(np.stack([timm_like.crop(image) for image in full])))
    assert np.min(np.sum(a * b, axis=1)) >= 0.998


# --- the tokenizer ---------------------------------------------------------------------------

def _varied_texts() -> list[str]:
    rng = random.Random(7)
    words = ("a photo of the dog cat beach sunset mountain café naïve Zürich São Paulo 東京 Москва 🐶 🌅 don't "
             "it's we're they'll I'd &amp; &lt;b&gt; résumé coöperate ﬁancé Ångström 123 4.5 x² — – … “quoted” "
             "‘single’ #tag @user http://example.com/a?b=c C++ e-mail U.S.A. 3pm 10:45 ÃƒÂ©tÃ© señor").split()
    texts = ["", " ", "A PHOTO OF A DOG", "<start_of_text> sneaky", "tab\tand\nnewline", "control\x07char",
             "👨‍👩‍👧 family", "mojibake: cafÃ©", "&amp;amp;amp;", "x" * 400]
    for _ in range(400):
        count = rng.choice([1, 3, 8, 20, 200])
        texts.append(" ".join(rng.choice(words) if rng.random() < 0.8 else
                              "".join(rng.choice(string.printable) for _ in range(rng.randint(1, 12)))
                              for _ in range(count)))
    return texts


def test_our_tokenizer_is_open_clips_token_for_token() -> None:
    import open_clip

    texts = _varied_texts()
    ours = ClipTokenizer(shipped_vocab())(texts)
    theirs = open_clip.get_tokenizer("ViT-B-32-256")(texts).numpy()
    mismatched = [text[:60] for text, a, b in zip(texts, ours, theirs, strict=True) if not np.array_equal(a, b)]
    assert not mismatched, mismatched[:5]
    assert any(text.count(" ") >= 199 for text in texts)  # long texts were truncated, not dropped


def test_siglip_text_is_cleaned_as_open_clip_cleans_it() -> None:
    from open_clip.tokenizer import _clean_canonicalize

    texts = _varied_texts()
    assert [canonicalize(text) for text in texts] == [_clean_canonicalize(text) for text in texts]


# --- queries without PyTorch -----------------------------------------------------------------

_PROBE = """
import sys, runpy
sys.argv = ["photo-search", *sys.argv[1:]]
try:
    runpy.run_module("helpers", run_name="__main__")
except SystemExit as stop:
    code = stop.code
print("IMPORTED:" + ",".join(m for m in ("torch", "open_clip", "timm") if m in sys.modules), file=sys.stderr)
"""


def _run_without_torch_check(*args: str) -> tuple[dict, str]:
    done = subprocess.run([sys.executable, "-c", _PROBE, *args, "--json"], capture_output=True, text=True,
                          env={**os.environ}, timeout=300, check=True)
    return json.loads(done.stdout), done.stderr.strip().splitlines()[-1]


def test_queries_and_indexing_with_a_cached_export_never_import_torch(practice_library: Path, own_cache: Path,
                                                                      tmp_path: Path) -> None:
    load_model("tiny-clip", engine="onnx", announce=lambda line: None)  # the one-time export
    index = tmp_path / "index"
    summary, imported = _run_without_torch_check("index", str(practice_library), "--index", str(index),
                                                 "--model", "tiny-clip")
    assert summary["added"] > 10 and summary["engine"] == "onnx" and imported == "IMPORTED:"
    text, imported = _run_without_torch_check("search", "--index", str(index), "--text", "a red bicycle")
    assert len(text["results"]) == 10 and imported == "IMPORTED:"
    outside = tmp_path / "query.png"
    Image.new("RGB", (120, 90), (200, 30, 30)).save(outside)  # not in the library: it must be embedded
    image, imported = _run_without_torch_check("search", "--index", str(index), "--image", str(outside),
                                               "--min-score", "0")
    assert len(image["results"]) == 10 and imported == "IMPORTED:"
