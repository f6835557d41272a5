"""Build the practice library: a person's photo folder, made from the real photos committed in
`data/practice_photos/` (their sources and licences are in its ATTRIBUTION.md).

A real folder is messy, so the practice one is too: albums by year and event, a trip with GPS,
phone photos, things for sale, downloads and a screenshot; and the copies a library accumulates
(EXIF-rotated, shared and re-compressed, cropped, grayscale, brighter, HEIC and WebP, a byte-exact
copy, a thumbnail), a burst with one shaky frame, and three broken files. A hidden manifest
records what each file is, so chapters and tests can check themselves against the truth.

Run: python -m helpers.course.practice data/practice_library
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from ..images import formats

VERSION = 5  # bumped whenever the committed photos or the generated copies change: a built library is rebuilt
MANIFEST = ".practice.json"
DEFAULT_LOCATION = Path("data/practice_library")
SOURCE = Path(__file__).resolve().parents[3] / "data" / "practice_photos"
# The chapters' example query: a kangaroo whose raw-pixel neighbours are other subjects, and whose
# embedding neighbours are the other kangaroos (chapter 0 shows both).
EXAMPLE = "2022/2022-05 zoo and aquarium/DSC01001.jpg"


@dataclass(frozen=True)
class PracticeFile:
    """One file of the practice library and the truth about it."""

    path: str
    group: str  # files of one group show the same subject: relevant to each other in search
    kind: str  # "original", a copy ("exif_rotate_6", "crop", "exact", "found_copy", ...), "burst", "broken"
    expected: str  # "loads", or the skip reason a correct loader must give
    copy_of: str = ""  # for an edited or exact copy: the file it was made from


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
    sources = _sources()
    files = _write_library(staging, sources)
    (staging / MANIFEST).write_text(json.dumps(
        {"version": VERSION, "files": [asdict(item) for item in files]}, indent=1))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    write_groups_csv(files, target.with_name(target.name + ".groups.csv"))
    _write_captions_csv(files, sources, target.with_name(target.name + ".captions.csv"))
    return target


def manifest(library: str | os.PathLike[str] = DEFAULT_LOCATION) -> list[PracticeFile]:
    """The truth about every file of a built practice library."""
    data = json.loads((Path(library) / MANIFEST).read_text())
    return [PracticeFile(**item) for item in data["files"]]


def teaching_sample(library: str | os.PathLike[str] = DEFAULT_LOCATION) -> list[str]:
    """Sixteen files that make a small similarity table readable: two photos each of five subjects,
    a photo with its three copies, and a photo with one frame of its burst."""
    files = manifest(library)
    picked = []
    for subject in ("kangaroo", "schooner", "pizza", "dress", "a street in Lund"):
        picked += [item.path for item in files if item.group == subject and item.kind == "original"][:2]
    shared = Counter(source for _, source, _ in _COPIES).most_common(1)[0][0]  # the photo copied most
    picked += [shared] + [item.path for item in files if item.copy_of == shared]
    return picked + [_BURST_OF, next(item.path for item in files if item.kind == "burst")]


def describe(item: PracticeFile) -> str:
    """A short label saying what a practice file is: its subject and file for an original, its
    subject and how it was made for a copy or a burst frame ("IMG_5021: copy, webp")."""
    if item.kind == "original":
        return f"{item.group}: {Path(item.path).stem}" if item.group != Path(item.path).stem else item.group
    made = "burst frame" if item.kind == "burst" else f"copy, {item.kind.replace('_', ' ')}"
    return f"{item.group}: {made}"


def write_groups_csv(files: list[PracticeFile], destination: Path) -> None:
    """Ground truth for evaluation in the `path,group` format `photo-search eval` reads."""
    with open(destination, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "group", "kind", "copy_of"])
        writer.writerows((item.path, item.group, item.kind, item.copy_of)
                         for item in files if item.expected == "loads")


def _write_captions_csv(files: list[PracticeFile], sources: list[dict[str, str]], destination: Path) -> None:
    """Text ground truth (`path,caption`, as `photo-search eval --captions` reads it): the camera-roll
    photos' own one-line descriptions, and each subject's name for the photos of that subject."""
    captions = {row["path"]: row["caption"] for row in sources}
    sizes = Counter(row["group"] for row in sources if not row["caption"])
    subjects = {group for group, size in sizes.items() if size > 1}  # a name shared by several photos
    with open(destination, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "caption"])
        for item in files:
            text = captions.get(item.copy_of or item.path) or (item.group if item.group in subjects else "")
            if item.expected == "loads" and text:
                writer.writerow([item.path, text])


def _is_current(target: Path) -> bool:
    try:
        return json.loads((target / MANIFEST).read_text()).get("version") == VERSION
    except (OSError, ValueError):
        return False


def _sources() -> list[dict[str, str]]:
    """The committed photos: path, group, caption, file_time (and source, licence, credit)."""
    listing = SOURCE / "photos.csv"
    if not listing.is_file():
        raise RuntimeError(f"the practice photos are missing ({listing}): run from a clone of the project")
    with open(listing, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _write_library(root: Path, sources: list[dict[str, str]]) -> list[PracticeFile]:
    files = []
    for row in sources:
        target = root / row["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SOURCE / "library" / row["path"], target)
        _set_file_time(target, datetime.fromisoformat(row["file_time"]))
        found = row["copy_of"]  # a copy the source collection already held
        files.append(PracticeFile(row["path"], row["group"], "found_copy" if found else "original", "loads", found))
    group_of = {item.path: item.group for item in files}
    files += [_copy(root, kind, source, target, group_of[source]) for kind, source, target in _COPIES]
    files += _burst(root, _BURST_OF, group_of[_BURST_OF])
    files += _broken(root, _BURST_OF)
    return files


# The copies a library accumulates: (kind, made from, where it lands). Phones rotate with an EXIF
# tag, messengers shrink and strip metadata, editors crop and convert, backups duplicate.
_COPIES = (
    ("exif_rotate_6", "2024/Camera Roll/IMG_5021.jpg", "2024/Camera Roll/edited/IMG_5021 rotated.jpg"),
    ("exif_rotate_3", "2014/2014-06 Lund trip/IMG_3105.jpg", "2014/2014-06 Lund trip/edited/IMG_3105 upside down.jpg"),
    ("exif_rotate_5", "2021/2021-04 clothes to sell/dress 1.jpg", "2021/2021-04 clothes to sell/dress 1 mirrored.jpg"),
    ("resize_recompress", "2024/Camera Roll/IMG_5021.jpg", "From WhatsApp/IMG-20240315-WA0001.jpg"),
    ("resize_recompress", "2014/2014-06 Lund trip/IMG_3110.jpg", "From WhatsApp/IMG-20140612-WA0002.jpg"),
    ("thumbnail", "2024/Camera Roll/IMG_5028.jpg", "From WhatsApp/IMG-20240320-WA0003.jpg"),
    ("crop", "2022/2022-05 zoo and aquarium/DSC01003.jpg", "2022/2022-05 zoo and aquarium/edited/DSC01003 crop.jpg"),
    ("crop", "2024/Camera Roll/IMG_5035.jpg", "2024/Camera Roll/edited/IMG_5035 crop.jpg"),
    ("grayscale", "2024/Camera Roll/IMG_5049.jpg", "2024/Camera Roll/edited/IMG_5049 black and white.jpg"),
    ("brightness", "2022/2022-05 zoo and aquarium/DSC01009.jpg", "2022/2022-05 zoo and aquarium/edited/DSC01009.png"),
    ("heic", "2024/Camera Roll/IMG_5056.jpg", "iCloud export/IMG_5056.heic"),
    ("heic", "2014/2014-06 Lund trip/IMG_3115.jpg", "iCloud export/IMG_3115.heic"),
    ("webp", "2024/Camera Roll/IMG_5021.jpg", "Downloads/IMG_5021.webp"),
    ("exact", "2024/Camera Roll/IMG_5070.jpg", "2024/Camera Roll/IMG_5070 copy.jpg"),
)
_BURST_OF = "2024/Camera Roll/IMG_5042.jpg"  # a skateboarding trick: the moment people shoot in bursts


def _copy(root: Path, kind: str, source: str, target: str, group: str) -> PracticeFile:
    path = root / target
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "exact":
        shutil.copy2(root / source, path)  # a backup keeps the file time too
        return PracticeFile(target, group, kind, "loads", copy_of=source)
    with Image.open(root / source) as image:
        taken, camera = _taken(image), _camera(image)
        picture = image.convert("RGB")
    keep_date = kind not in ("resize_recompress", "thumbnail")  # messengers strip the metadata
    orientation, quality = 1, 80  # a re-save compresses a little more than the camera did
    if kind.startswith("exif_rotate_"):
        orientation = int(kind.rsplit("_", 1)[1])
        picture = picture.transpose(_STORED[orientation])
    elif kind == "resize_recompress":
        picture.thumbnail((480, 480), Image.Resampling.LANCZOS)
        quality = 45
    elif kind == "thumbnail":
        picture.thumbnail((200, 200), Image.Resampling.LANCZOS)
        quality = 70
    elif kind == "crop":
        width, height = picture.size
        picture = picture.crop((width // 10, height // 12, width, height))
    elif kind == "grayscale":
        picture = ImageOps.grayscale(picture)
    elif kind == "brightness":
        picture = ImageEnhance.Brightness(picture).enhance(1.3)
    _save(path, picture, taken if keep_date else None, camera, orientation=orientation, quality=quality)
    return PracticeFile(target, group, kind, "loads", copy_of=source)


def _burst(root: Path, source: str, group: str) -> list[PracticeFile]:
    """Five frames a second apart, starting just after the photo itself: the camera drifts a
    little, the light changes, and one frame is shaken (what chapter 1's sharpness flag finds)."""
    with Image.open(root / source) as image:
        taken, camera = _taken(image) or datetime(2024, 1, 1), _camera(image)
        scene = image.convert("RGB")
    width, height = scene.size
    frames = []
    for index in range(5):
        shift = index * width // 40
        frame = scene.crop((shift, shift // 2, width - width // 8 + shift, height - height // 10 + shift // 2))
        frame = ImageEnhance.Brightness(frame).enhance(1.0 + 0.04 * (index - 2))
        if index == 3:
            frame = frame.filter(ImageFilter.GaussianBlur(7))
        rel = f"2024/Camera Roll/burst/IMG_{5401 + index}.jpg"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        _save(root / rel, frame, taken + timedelta(seconds=40 + index), camera)
        frames.append(PracticeFile(rel, group, "burst", "loads"))
    return frames


def _broken(root: Path, source: str) -> list[PracticeFile]:
    """Damaged files every real folder eventually holds; each must be reported, not indexed."""
    folder = root / "unsorted"
    folder.mkdir(parents=True, exist_ok=True)
    data = (root / source).read_bytes()
    (folder / "IMG_0001_truncated.jpg").write_bytes(data[: len(data) // 2])
    (folder / "IMG_0002_empty.jpg").write_bytes(b"")
    (folder / "shopping_list.jpg").write_text("milk\neggs\ncoffee beans\n")
    for broken in folder.iterdir():
        _set_file_time(broken, datetime(2024, 9, 1, 8, 30))
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


def _taken(image: Image.Image) -> datetime | None:
    stamp = image.getexif().get_ifd(0x8769).get(0x9003)
    return datetime.strptime(stamp, "%Y:%m:%d %H:%M:%S") if stamp else None


def _camera(image: Image.Image) -> tuple[str, str] | None:
    exif = image.getexif()
    return (exif[0x010F], exif[0x0110]) if 0x010F in exif and 0x0110 in exif else None


def _save(path: Path, picture: Image.Image, taken: datetime | None, camera: tuple[str, str] | None, *,
          orientation: int = 1, quality: int = 90) -> None:
    exif = Image.Exif()
    if taken and camera:
        exif[0x010F], exif[0x0110] = camera  # Make, Model
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")  # DateTimeOriginal
    if orientation != 1:
        exif[0x0112] = orientation
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
    _set_file_time(path, taken or datetime(2024, 6, 1, 12, 0))


def _set_file_time(path: Path, when: datetime) -> None:
    """The file time agrees with the date taken, as on a camera card."""
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else DEFAULT_LOCATION
    build(target, force="--force" in args)
    count = sum(1 for item in manifest(target))
    print(f"practice library ready: {target} ({count} files)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
