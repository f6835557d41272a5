"""Camera RAW files: DNGs made here from real photos (a Bayer mosaic written with pidng) load upright
with their date and camera, a RAW beside its JPEG is indexed once, and a broken RAW names its format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers.errors import PhotoSkipped
from helpers.images import LoadOptions, load_photo
from helpers.index import PhotoIndex
from helpers.indexer import update_index
from helpers.models import load_model
from helpers.scan import RAW_PAIR

pytest.importorskip("rawpy")
pidng = pytest.importorskip("pidng")

# XYZ (D65) to linear sRGB, as DNG rationals: with it the "camera" of these files sees in sRGB.
_XYZ_TO_SRGB = [[32406, 10000], [-15372, 10000], [-4986, 10000], [-9689, 10000], [18758, 10000], [415, 10000],
                [557, 10000], [-2040, 10000], [10570, 10000]]


def write_dng(photo: Image.Image, target: Path, *, orientation: int = 1, taken: str = "2021:07:14 10:30:00") -> Path:
    """A 12-bit RGGB sensor image of `photo` in a DNG, as a camera would store it (linear light)."""
    from pidng.core import RAW2DNG, DNGTags, Tag
    from pidng.defs import CalibrationIlluminant, CFAPattern, DNGVersion, PhotometricInterpretation

    linear = (np.asarray(photo.convert("RGB"), dtype=np.float32) / 255.0) ** 2.2
    height, width = (linear.shape[0] // 2) * 2, (linear.shape[1] // 2) * 2
    linear = linear[:height, :width]
    mosaic = np.empty((height, width), np.uint16)
    for (row, column), channel in {(0, 0): 0, (0, 1): 1, (1, 0): 1, (1, 1): 2}.items():
        mosaic[row::2, column::2] = np.round(linear[row::2, column::2, channel] * 4095)
    tags = DNGTags()
    for tag, value in ((Tag.ImageWidth, width), (Tag.ImageLength, height), (Tag.TileWidth, width),
                       (Tag.TileLength, height), (Tag.Orientation, orientation),
                       (Tag.PhotometricInterpretation, PhotometricInterpretation.Color_Filter_Array),
                       (Tag.SamplesPerPixel, 1), (Tag.BitsPerSample, 16), (Tag.CFARepeatPatternDim, [2, 2]),
                       (Tag.CFAPattern, CFAPattern.RGGB), (Tag.BlackLevel, 0), (Tag.WhiteLevel, 4095),
                       (Tag.ColorMatrix1, _XYZ_TO_SRGB), (Tag.CalibrationIlluminant1, CalibrationIlluminant.D65),
                       (Tag.AsShotNeutral, [[1, 1], [1, 1], [1, 1]]), (Tag.Make, "TestCam"), (Tag.Model, "DNG-1"),
                       (Tag.DateTime, taken), (Tag.DNGVersion, DNGVersion.V1_4),
                       (Tag.DNGBackwardVersion, DNGVersion.V1_2)):
        tags.set(tag, value)
    converter = RAW2DNG()
    converter.options(tags, path=str(target.parent), compress=False)
    return Path(converter.convert(mosaic, filename=target.stem))


@pytest.fixture(scope="module")
def original(photos: Path) -> Image.Image:
    return load_photo(photos / "retrieval" / "full_resolution" / "sceaux_100_7100.JPG",
                      LoadOptions(min_side=532)).image


def test_a_dng_loads_upright_with_its_date_and_camera(tmp_path: Path, original: Image.Image) -> None:
    dng = write_dng(original, tmp_path / "IMG_0001.dng", orientation=6)
    loaded = load_photo(dng)
    assert loaded.format == "DNG"
    assert loaded.image.height > loaded.image.width  # orientation 6: turned to portrait
    assert loaded.metadata.date_taken == "2021-07-14T10:30:00" and loaded.metadata.camera_make == "TestCam"
    model = load_model("efficientnet-lite0")
    side = model.preprocess
    upright = original.transpose(Image.Transpose.ROTATE_270)
    a, b = (model.embed_pixels(side.normalise(side.crop(image)[None])) for image in (loaded.image, upright))
    assert float((a @ b.T)[0, 0]) > 0.9  # the same photo: demosaiced colours and all
    small = load_photo(dng, LoadOptions(min_side=128))  # half-size demosaic, then the usual resize
    assert min(small.image.size) == 128


def test_a_raw_beside_its_jpeg_is_indexed_once(tmp_path: Path, original: Image.Image) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    original.save(photos / "IMG_0002.JPG", quality=90)
    write_dng(original, photos / "IMG_0002.dng")
    write_dng(original.transpose(Image.Transpose.FLIP_LEFT_RIGHT), photos / "IMG_0003.dng")  # RAW alone
    summary = update_index(photos, tmp_path / "index", model="baseline-pixels")
    assert summary.indexed == 2 and summary.added == 2
    assert [(item.path, item.reason, item.detail) for item in summary.skipped] == [
        ("IMG_0002.dng", RAW_PAIR, "indexed as IMG_0002.JPG")]
    with PhotoIndex.open(tmp_path / "index") as index:
        assert sorted(row.path for row in index.photo_rows()) == ["IMG_0002.JPG", "IMG_0003.dng"]


def test_a_broken_raw_names_its_format_and_a_misnamed_jpeg_is_a_jpeg(tmp_path: Path,
                                                                      original: Image.Image) -> None:
    dng = write_dng(original, tmp_path / "broken.dng")
    dng.write_bytes(dng.read_bytes()[:3000])
    with pytest.raises(PhotoSkipped, match="DNG raw data LibRaw cannot read"):
        load_photo(dng)
    named = tmp_path / "really_a_jpeg.nef"
    original.save(named, "JPEG")
    assert load_photo(named).format == "JPEG"
    orf = tmp_path / "P1010001.ORF"
    orf.write_bytes(b"IIRO\x08\x00\x00\x00" + bytes(200))  # Olympus's own first bytes, nothing after
    with pytest.raises(PhotoSkipped, match="ORF raw data LibRaw cannot read"):
        load_photo(orf)
