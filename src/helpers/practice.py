"""Build the practice library: a small, realistic photo folder made from photos that ship
inside installed packages (scikit-image and matplotlib sample images).

A real folder is messy, so the practice one is too: EXIF-rotated copies, resized and
re-compressed copies, crops, a grayscale copy, HEIC and WebP transcodes, a burst, nested
folders from different years, and three broken files. A hidden manifest records what each
file is, so chapters and tests can check themselves against the truth.

Run: python -m helpers.practice data/practice_library
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import shutil
import sys
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image, ImageEnhance, ImageOps

from . import formats

VERSION = 2
MANIFEST = ".practice.json"
DEFAULT_LOCATION = Path("data/practice_library")

# (source package, file inside its sample-data folder, name in the library, subject group)
_SOURCES = (
    ("skimage", "astronaut.png", "astronaut", "astronaut"),
    ("skimage", "chelsea.png", "chelsea_the_cat", "cat"),
    ("skimage", "coffee.png", "coffee", "coffee"),
    ("skimage", "rocket.jpg", "rocket_launch", "rocket"),
    ("skimage", "motorcycle_left.png", "motorcycle", "motorcycle"),
    ("skimage", "hubble_deep_field.jpg", "hubble_deep_field", "galaxies"),
    ("skimage", "retina.jpg", "retina_scan", "retina"),
    ("skimage", "camera.png", "cameraman", "cameraman"),
    ("skimage", "coins.png", "coins", "coins"),
    ("skimage", "ihc.png", "tissue_sample", "tissue"),
    ("matplotlib", "grace_hopper.jpg", "grace_hopper", "grace_hopper"),
)

# Which folder (and so which date) each original lives in: nested, by year and event.
_ALBUMS = {
    "astronaut": ("2019/2019-07 space museum", datetime(2019, 7, 14, 10, 0, 0)),
    "rocket": ("2019/2019-07 space museum", datetime(2019, 7, 14, 11, 30, 0)),
    "galaxies": ("2019/2019-07 space museum", datetime(2019, 7, 14, 12, 5, 0)),
    "cat": ("2021/home", datetime(2021, 3, 2, 18, 45, 0)),
    "coffee": ("2021/home", datetime(2021, 3, 3, 8, 15, 0)),
    "motorcycle": ("2022/road trip", datetime(2022, 8, 20, 16, 0, 0)),
    "cameraman": ("2023/archive scans", datetime(2023, 1, 9, 9, 0, 0)),
    "coins": ("2023/archive scans", datetime(2023, 1, 9, 9, 5, 0)),
    "grace_hopper": ("2023/archive scans", datetime(2023, 1, 9, 9, 10, 0)),
    "retina": ("2024/lab", datetime(2024, 5, 30, 14, 0, 0)),
    "tissue": ("2024/lab", datetime(2024, 5, 30, 14, 20, 0)),
}


@dataclass(frozen=True)
class PracticeFile:
    """One file of the practice library and the truth about it."""

    path: str
    group: str  # files of one group show the same subject: relevant to each other in search
    kind: str  # "original", an edit name ("exif_rotate_6", "crop", ...), "burst", or "broken"
    expected: str  # "loads", or the skip reason a correct loader must give


def build(target: str | os.PathLike[str] = DEFAULT_LOCATION, *, force: bool = False) -> Path:
    """Create the practice library at `target` unless an up-to-date one is already there.

    Built in a temporary sibling folder and renamed into place, so an interrupted build
    never leaves half a library behind.
    """
    target = Path(target)
    if not force and _is_current(target):
        return target
    staging = target.with_name(target.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    files = _write_library(staging)
    (staging / MANIFEST).write_text(json.dumps(
        {"version": VERSION, "files": [asdict(item) for item in files]}, indent=1))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    write_groups_csv(files, target.with_name(target.name + ".groups.csv"))
    return target


def manifest(library: str | os.PathLike[str] = DEFAULT_LOCATION) -> list[PracticeFile]:
    """The truth about every file of a built practice library."""
    data = json.loads((Path(library) / MANIFEST).read_text())
    return [PracticeFile(**item) for item in data["files"]]


def write_groups_csv(files: list[PracticeFile], destination: Path) -> None:
    """Ground truth for evaluation in the `path,group` format `photo-search eval` reads."""
    with open(destination, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "group", "kind"])
        writer.writerows((item.path, item.group, item.kind) for item in files if item.expected == "loads")


def _is_current(target: Path) -> bool:
    try:
        return json.loads((target / MANIFEST).read_text()).get("version") == VERSION
    except (OSError, ValueError):
        return False


def _sample_path(package: str, name: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the practice library needs the package {package!r}: run `make setup`")
    root = Path(spec.submodule_search_locations[0])
    return root / ("data" if package == "skimage" else "mpl-data/sample_data") / name


def _write_library(root: Path) -> list[PracticeFile]:
    files: list[PracticeFile] = []
    originals: dict[str, Image.Image] = {}
    for package, source, name, group in _SOURCES:
        with Image.open(_sample_path(package, source)) as image:
            picture = image.convert("RGB") if image.mode != "L" else image.copy()
        album, taken = _ALBUMS[group]
        originals[group] = picture
        files.append(_save(root, f"{album}/{name}.jpg", picture, group, "original", taken))
    files += _edits(root, originals)
    files += _burst(root, originals["motorcycle"])
    files += _broken(root, originals["coffee"])
    return files


def _edits(root: Path, originals: dict[str, Image.Image]) -> list[PracticeFile]:
    """Copies a real library accumulates: phone rotations, shares, crops, conversions."""
    when = datetime(2024, 12, 24, 20, 0, 0)
    astronaut, cat, coffee, rocket = (originals[name] for name in ("astronaut", "cat", "coffee", "rocket"))
    width, height = rocket.size
    return [
        # Pixels stored sideways plus an EXIF Orientation tag, as phones do.
        _save(root, "edits/coffee_phone_rotated.jpg", _stored_for_orientation(coffee, 6), "coffee",
              "exif_rotate_6", when, orientation=6),
        _save(root, "edits/cat_upside_down_exif.jpg", _stored_for_orientation(cat, 3), "cat",
              "exif_rotate_3", when, orientation=3),
        _save(root, "edits/astronaut_mirrored_exif.jpg", _stored_for_orientation(astronaut, 5), "astronaut",
              "exif_rotate_5", when, orientation=5),
        _save(root, "edits/coffee_shared_small.jpg", coffee.resize((300, 200), Image.Resampling.LANCZOS),
              "coffee", "resize_recompress", when, quality=45),
        _save(root, "edits/rocket_cropped.jpg", rocket.crop((width // 10, height // 10, width, height)),
              "rocket", "crop", when),
        _save(root, "edits/cat_grayscale.jpg", ImageOps.grayscale(cat), "cat", "grayscale", when),
        _save(root, "edits/astronaut.heic", astronaut, "astronaut", "heic", when),
        _save(root, "edits/coffee.webp", coffee, "coffee", "webp", when),
        _save(root, "edits/grace_hopper_brighter.png",
              ImageEnhance.Brightness(originals["grace_hopper"].convert("RGB")).enhance(1.3),
              "grace_hopper", "brightness", when),
    ]


def _burst(root: Path, scene: Image.Image) -> list[PracticeFile]:
    """Five frames a second apart: the camera drifts a little and the light changes."""
    start = datetime(2022, 8, 20, 16, 2, 0)
    width, height = scene.size
    frames = []
    for index in range(5):
        shift = index * width // 40
        frame = scene.crop((shift, shift // 2, width - width // 8 + shift, height - height // 10 + shift // 2))
        frame = ImageEnhance.Brightness(frame).enhance(1.0 + 0.04 * (index - 2))
        frames.append(_save(root, f"2022/road trip/burst/IMG_{4301 + index}.jpg", frame, "motorcycle",
                            "burst", start + timedelta(seconds=index)))
    return frames


def _broken(root: Path, picture: Image.Image) -> list[PracticeFile]:
    """Damaged files every real folder eventually holds; each must be reported, not indexed."""
    folder = root / "unsorted"
    folder.mkdir(parents=True, exist_ok=True)
    encoded = io.BytesIO()
    picture.save(encoded, "JPEG", quality=90)
    data = encoded.getvalue()
    (folder / "IMG_0001_truncated.jpg").write_bytes(data[: len(data) // 2])
    (folder / "IMG_0002_empty.jpg").write_bytes(b"")
    (folder / "shopping_list.jpg").write_text("milk\neggs\ncoffee beans\n")
    return [
        PracticeFile("unsorted/IMG_0001_truncated.jpg", "broken", "broken", "truncated"),
        PracticeFile("unsorted/IMG_0002_empty.jpg", "broken", "broken", "empty file"),
        PracticeFile("unsorted/shopping_list.jpg", "broken", "broken", "not an image"),
    ]


# The inverse of what a viewer applies for each orientation: how a camera stores the pixels.
_STORED = {
    3: Image.Transpose.ROTATE_180,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}


def _stored_for_orientation(upright: Image.Image, orientation: int) -> Image.Image:
    return upright.transpose(_STORED[orientation])


def _save(root: Path, rel_path: str, picture: Image.Image, group: str, kind: str, taken: datetime, *,
          orientation: int = 1, quality: int = 90) -> PracticeFile:
    path = root / rel_path
    path.parent.mkdir(parents=True, exist_ok=True)
    exif = _exif(taken, orientation)
    suffix = path.suffix.lower()
    if suffix == ".heic":
        formats.register_plugins()
        picture.save(path, "HEIF", quality=80, exif=exif.tobytes())
    elif suffix == ".webp":
        picture.save(path, "WEBP", quality=80, exif=exif.tobytes())
    elif suffix == ".png":
        picture.save(path, "PNG", exif=exif.tobytes())
    else:
        picture.save(path, "JPEG", quality=quality, exif=exif.tobytes())
    stamp = taken.timestamp()
    os.utime(path, (stamp, stamp))  # file time agrees with the EXIF date, as on a camera card
    return PracticeFile(rel_path, group, kind, "loads")


def _exif(taken: datetime, orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "photo-search"  # Make
    exif[0x0110] = "Practice Camera"  # Model
    exif[0x0112] = orientation
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")  # DateTimeOriginal
    exif_ifd[0x9011] = "+01:00"  # OffsetTimeOriginal
    return exif


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else DEFAULT_LOCATION
    build(target, force="--force" in args)
    count = sum(1 for item in manifest(target))
    print(f"practice library ready: {target} ({count} files)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
