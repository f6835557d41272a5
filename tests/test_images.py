"""Decoding: every messy file gets the right outcome, pixels come out upright RGB, fast paths are right."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers.errors import ImageTooLarge, PhotoSkipped, UnsupportedFormat
from helpers.health import health_report
from helpers.images import LoadOptions, load_photo, load_photo_bytes

# What a correct loader must conclude for each damaged or unusual file in ../shared/photos/messy.
# Every other file there must load.
EXPECTED_SKIPS = {
    "camera_exif/ultrahdr.jpg": "truncated",  # 48 KB for 4 MP: the stream ends; Pillow would fill it grey
    "corrupt/broken.png": "damaged",
    "corrupt/corrupted.heic": "damaged",
    "corrupt/truncated_jpeg.jpg": "truncated",
    "corrupt/ukbench09268_corrupt.jpg": "not an image",  # no image signature left at all
    "not_an_image/notes.jpg": "not an image",
    "very_large/decompression_bomb.gif": "too large: 4365 megapixels",
    "webp_avif_jxl/8bit-sRGB.jxl": "unsupported format: JXL",
    "zero_byte/empty.jpg": "empty file",
}


def _all_files(folder: Path) -> list[str]:
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())


@pytest.fixture(scope="module")
def messy_report(messy: Path):
    return health_report(messy, LoadOptions(min_side=224))


def test_every_messy_file_gets_the_expected_outcome(messy: Path, messy_report) -> None:
    skipped = {item.path: item.reason for item in messy_report.skipped}
    loaded = {item.record.rel_path for item in messy_report.loaded}
    assert skipped == EXPECTED_SKIPS
    assert loaded == set(_all_files(messy)) - set(EXPECTED_SKIPS)
    assert messy_report.files == len(_all_files(messy))


def test_skipped_files_carry_readable_reasons(messy_report) -> None:
    assert all(item.reason and "\n" not in item.reason for item in messy_report.skipped)


def test_loaded_images_are_rgb_at_the_requested_size(messy: Path) -> None:
    for rel in ("cmyk_jpeg/pil_sample_cmyk.jpg", "png16/pillow_heif_L_16__128x128.png",
                "tiff/hopper.Lab.tif", "gif/chi.gif", "heic/IMG_5195.HEIC", "very_large/craft-beer.jpg"):
        image = load_photo(messy / rel, LoadOptions(min_side=96)).image
        assert image.mode == "RGB", rel
        assert min(image.size) == 96, rel


def _pixels(path: Path, **options) -> np.ndarray:
    return np.asarray(load_photo(path, LoadOptions(**options)).image, dtype=np.float32)


@pytest.mark.parametrize("kind", ["landscape", "portrait"])
@pytest.mark.parametrize("orientation", range(2, 9))
def test_exif_orientation_matches_the_upright_original(messy: Path, kind: str, orientation: int) -> None:
    folder = messy / "exif_orientation"
    upright = _pixels(folder / f"wikimedia_{kind}_1.jpg")
    rotated = _pixels(folder / f"wikimedia_{kind}_{orientation}.jpg")
    assert rotated.shape == upright.shape
    difference = np.abs(rotated - upright).mean()
    # The files differ in colour profile and JPEG noise (about 15 levels); a wrong turn or
    # mirror of this photo differs by far more, which the second check proves for this file.
    assert difference < 20
    wrong = [np.abs(np.asarray(Image.fromarray(rotated.astype(np.uint8)).transpose(t), np.float32) - upright).mean()
             for t in (Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_180, Image.Transpose.FLIP_TOP_BOTTOM)]
    assert difference < 0.7 * min(wrong)


def test_heic_and_webp_orientation_are_applied_once(messy: Path, photos: Path) -> None:
    reference = _pixels(photos / "near_duplicates/hopper/hopper.png")
    for rel in ("exif_orientation/hopper_orientation_6.webp", "exif_orientation/hopper_orientation_6.jpg"):
        assert np.abs(_pixels(messy / rel) - reference).mean() < 8, rel
    portrait = load_photo(messy / "heic/arrow.heic").metadata  # stored landscape, displayed portrait
    assert (portrait.width, portrait.height) == (3024, 4032)


def test_cmyk_with_profile_matches_the_rgb_original(messy: Path, photos: Path) -> None:
    rgb = _pixels(photos / "near_duplicates/pil_sample/pil_sample_rgb.jpg")
    cmyk = _pixels(messy / "cmyk_jpeg/pil_sample_cmyk.jpg")
    assert np.abs(cmyk - rgb).mean() < 12


def test_sixteen_bit_grey_is_scaled_not_clipped(messy: Path) -> None:
    pixels = _pixels(messy / "png16/pillow_heif_L_16__128x128.png")
    raw = np.asarray(Image.open(messy / "png16/pillow_heif_L_16__128x128.png"), dtype=np.float64)
    expected = raw * 255 / 65535
    assert np.abs(pixels[..., 0] - expected).max() <= 1.0
    assert pixels.std() > 10  # Pillow's plain convert("L") would have clipped it to flat white


def test_transparency_is_composited_on_white(messy: Path) -> None:
    image = Image.open(messy / "png_alpha/transparent.png").convert("RGBA")
    alpha = np.asarray(image.getchannel("A"))
    pixels = _pixels(messy / "png_alpha/transparent.png")
    assert (pixels[alpha == 0] == 255).all()


def test_lab_tiff_matches_the_rgb_tiff(messy: Path) -> None:
    assert np.abs(_pixels(messy / "tiff/hopper.Lab.tif") - _pixels(messy / "tiff/hopper.tif")).mean() < 6


def test_first_page_of_a_multipage_float_tiff(messy: Path) -> None:
    photo = load_photo(messy / "tiff/skimage_multipage_rgb.tif")
    assert photo.image.size == (10, 10) and photo.image.mode == "RGB"
    assert "first used" in photo.notes[0]


def test_animated_gif_gives_its_first_frame(messy: Path) -> None:
    with Image.open(messy / "gif/chi.gif") as gif:
        first = np.asarray(gif.convert("RGB"), dtype=np.float32)
    assert np.array_equal(_pixels(messy / "gif/chi.gif"), first)


def test_draft_decoding_is_close_to_a_full_decode_then_resize(photos: Path) -> None:
    path = next((photos / "retrieval/full_resolution").glob("*.jpg"))
    fast = load_photo(path, LoadOptions(min_side=256)).image
    full = load_photo(path).image
    reference = full.resize(fast.size, Image.Resampling.BICUBIC, reducing_gap=2.0)
    assert min(fast.size) == 256
    assert np.abs(np.asarray(fast, np.float32) - np.asarray(reference, np.float32)).mean() < 3


def test_megapixel_cap_reports_the_real_size(messy: Path) -> None:
    with pytest.raises(ImageTooLarge) as caught:
        load_photo(messy / "very_large/200MP.heic", LoadOptions(max_megapixels=100))
    assert caught.value.reason == "too large: 200 megapixels"
    assert "--max-megapixels" in caught.value.detail


def test_unsupported_format_is_named(messy: Path) -> None:
    with pytest.raises(UnsupportedFormat, match="JXL"):
        load_photo(messy / "webp_avif_jxl/8bit-sRGB.jxl")


def test_uploaded_bytes_decode_like_files(messy: Path) -> None:
    path = messy / "exif_orientation/wikimedia_portrait_6.jpg"
    from_bytes = load_photo_bytes(path.read_bytes(), LoadOptions(min_side=128)).image
    from_file = load_photo(path, LoadOptions(min_side=128)).image
    assert np.array_equal(np.asarray(from_bytes), np.asarray(from_file))
    with pytest.raises(PhotoSkipped, match="not an image"):
        load_photo_bytes(b"<html>hello</html>")


def _fingerprint(folder: Path) -> dict[str, tuple[str, int]]:
    return {rel: (hashlib.sha256((folder / rel).read_bytes()).hexdigest(), (folder / rel).stat().st_mtime_ns)
            for rel in _all_files(folder)}


def test_a_full_run_changes_no_byte_and_no_mtime(messy: Path, tmp_path: Path) -> None:
    # On a writable copy, so that a stray write could actually happen and be caught.
    library = tmp_path / "messy"
    shutil.copytree(messy, library)
    before = _fingerprint(library)
    report = health_report(library, LoadOptions(min_side=224))
    assert report.loaded
    assert _fingerprint(library) == before
    assert sorted(p.name for p in library.iterdir()) == sorted(p.name for p in messy.iterdir())
