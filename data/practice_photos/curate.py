"""Maintainers only: choose the practice photos from the licence-clean test photos and lay them out
as a person's photo folder. Run once from the project root, with ../shared beside it:

    .venv/bin/python data/practice_photos/curate.py ../shared/photos

It writes `library/` (the photos, long side <= 1024 px), `photos.csv` (each photo's group, source,
licence and credit) and `ATTRIBUTION.md`. Users never run it: the output is committed, and
`python -m helpers.course.practice` builds the practice library from it without any network or test data.
Pixels are only resized and re-encoded. Dates and camera names are assigned here (the source files
carry none), except the Lund trip, whose capture times and GPS are the photographer's own.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
LONG_SIDE = 1024
QUALITY = 82

# (source folder under photos/, how many, album, name pattern, group, start time or None, camera)
CALTECH_EVENTS = {
    "2022/2022-05 zoo and aquarium": ["kangaroo", "elephant", "crab", "dragonfly", "lotus"],
    "2022/2022-09 air show and harbour": ["airplanes", "helicopter", "schooner"],
    "2023/2023-03 street photos": ["Motorbikes", "car_side", "stop_sign"],
    "2023/2023-11 at home": ["pizza", "laptop", "grand_piano", "buddha"],
}
PER_CLASS = 6
# Caltech 101 holds a few copies of its own: one is left out (the same clip-art sign twice), one is
# kept and recorded as a copy found in the wild (the same piano photo at two sizes).
SKIP = {"stop_sign/image_0005.jpg"}
FOUND_COPIES = {"grand_piano/image_0004.jpg": "grand_piano/image_0006.jpg"}
# Group names are what a person would type to find the photos (chapter 7 searches by them).
WORDS = {"Motorbikes": "motorbike", "car_side": "car", "stop_sign": "stop sign", "grand_piano": "grand piano",
         "airplanes": "airplane", "longsleeve": "long sleeve top"}
PER_GARMENT = 10
LICENCES = {
    "caltech": ("CC BY 4.0", "Caltech 101, L. Fei-Fei, R. Fergus, P. Perona; "
                "CC BY 4.0 https://creativecommons.org/licenses/by/4.0/"),
    "cloth": ("CC0 1.0", "clothing-dataset-small by Alexey Grigorev (no credit required)"),
    "opensfm": ("BSD-2-Clause", "Mapillary, OpenSfM sample data (BSD-2-Clause notice below)"),
    "immich": ("public domain", "immich-app/test-assets (no credit required)"),
}


def main(photos: Path) -> None:
    inventory = {row["path"]: row for row in csv.DictReader(open(photos / "inventory.csv"))}
    out = HERE / "library"
    shutil.rmtree(out, ignore_errors=True)
    rows: list[dict[str, str]] = []

    def put(source: str, target: str, group: str, *, taken: datetime | None, camera: tuple[str, str] | None,
            gps: bool = False, caption: str = "", saved: datetime | None = None) -> None:
        """`saved`: the file time where no camera recorded when the photo was taken."""
        entry = inventory[source]
        key = entry["licence_key"]
        if key == "coco":
            licence, url = entry["image_licence"].split(" (", 1)
            licence = {"Attribution License": "CC BY 2.0",
                       "Attribution-ShareAlike License": "CC BY-SA 2.0"}[licence]
            credit = f"Flickr photo {url.rstrip(')')}, via COCO 2017; {licence}"
        else:
            licence, credit = LICENCES[key]
        _write(photos / source, out / target, taken=taken, camera=camera, gps=gps)
        rows.append({"path": target, "group": group, "source": f"{entry['source']}@{entry['commit'][:7]}",
                     "source_path": entry["source_path"], "licence": licence, "credit": credit,
                     "caption": caption, "file_time": (taken or saved or datetime(2024, 6, 1)).isoformat()})

    # A trip with GPS: the Lund street sequence keeps its own capture times and positions.
    for n, source in enumerate(sorted(photos.glob("retrieval/scenes/opensfm_lund/*.jpg")), start=1):
        rel = str(source.relative_to(photos))
        put(rel, f"2014/2014-06 Lund trip/IMG_{3100 + n}.jpg", "a street in Lund", taken=_lund_time(source),
            camera=("Apple", "iPhone 4S"), gps=True)
    berlin_start = datetime(2014, 6, 9, 15, 12, 0)
    for n, source in enumerate(sorted(photos.glob("retrieval/scenes/opensfm_berlin/*.jpg")), start=1):
        put(str(source.relative_to(photos)), f"2014/2014-06 Lund trip/Berlin stopover/IMG_{3200 + n}.jpg",
            "a street in Berlin", taken=berlin_start + timedelta(minutes=7 * n), camera=("Apple", "iPhone 4S"),
            gps=True)
    # A walk in nature on an old camera.
    walk = datetime(2020, 5, 17, 9, 30, 0)
    nature = sorted(photos.glob("retrieval/distractors/immich_nature/*.jpg"))
    for n, source in enumerate(nature):
        put(str(source.relative_to(photos)), f"2020/2020-05 spring walk/{source.stem.replace('_', ' ')}.jpg",
            source.stem, taken=walk + timedelta(minutes=23 * n), camera=("Canon", "PowerShot A590"))
    # Things for sale: phone photos someone named themselves, no EXIF (a listing site strips it).
    for garment in ("dress", "longsleeve", "pants", "shirt", "shorts"):
        sources = sorted(photos.glob(f"retrieval/clothing/{garment}/*.jpg"))[:PER_GARMENT]
        for n, source in enumerate(sources, start=1):
            put(str(source.relative_to(photos)), f"2021/2021-04 clothes to sell/{garment} {n}.jpg",
                WORDS.get(garment, garment), taken=None, camera=None,
                saved=datetime(2021, 4, 10, 14, 0) + timedelta(minutes=3 * n))
    # Days out and things at home, on a compact camera: DSC names, no words to search by.
    number = 1000
    shots: list[tuple[str, str, str, datetime]] = []  # (source, target, group, taken)
    for album, classes in CALTECH_EVENTS.items():
        day = datetime.strptime(album.split("/")[1][:7] + "-12 10:00", "%Y-%m-%d %H:%M")
        for category in classes:
            sources = sorted(photos.glob(f"retrieval/caltech101/{category}/*.jpg"))
            for source in [s for s in sources if f"{category}/{s.name}" not in SKIP][:PER_CLASS]:
                number += 1
                day += timedelta(minutes=11)
                shots.append((str(source.relative_to(photos)), f"{album}/DSC0{number}.jpg",
                              WORDS.get(category, category), day))
    # A copy keeps the capture time of the photo it copies (a camera never takes one photo twice).
    taken_at = {source.split("caltech101/")[-1]: taken for source, _, _, taken in shots}
    for source, target, group, taken in shots:
        original = FOUND_COPIES.get(source.split("caltech101/")[-1])
        put(source, target, group, taken=taken_at.get(original, taken) if original else taken,
            camera=("Sony", "DSC-W800"))
    # The phone's camera roll: people, food, streets, each photo its own group, with a caption.
    captions = _first_captions(photos)
    roll = datetime(2024, 3, 2, 12, 0, 0)
    for n, (path, caption) in enumerate(sorted(captions.items()), start=1):
        put(f"retrieval/{path}", f"2024/Camera Roll/IMG_{5000 + 7 * n}.jpg", f"IMG_{5000 + 7 * n}",
            taken=roll + timedelta(days=3 * n, hours=n % 9), camera=("Google", "Pixel 7"), caption=caption)
    for source, name in (("retrieval/distractors/immich_text/book-beside-flowers.jpg", "IMG_5301.jpg"),
                         ("retrieval/distractors/immich_text/craft-beer.jpg", "IMG_5302.jpg"),
                         ("retrieval/distractors/immich_text/handwritten-notes.jpg", "IMG_5303.jpg"),
                         ("retrieval/distractors/immich_text/japanese-shop.jpg", "IMG_5304.jpg")):
        put(source, f"2024/Camera Roll/{name}", name[:-4], taken=roll + timedelta(days=90, hours=int(name[7])),
            camera=("Google", "Pixel 7"))
    # Files that arrive from elsewhere: downloads and a screenshot.
    put("messy/screenshots/density_plot.png", "Downloads/Screenshot 2024-06-01 at 10.12.55.png", "screenshot",
        taken=None, camera=None)
    put("messy/webp_avif_jxl/denali.webp", "Downloads/denali.webp", "denali", taken=None, camera=None)
    put("messy/camera_exif/immich_mongolels.jpg", "Downloads/mongolels.jpg", "mongolels", taken=None, camera=None)

    by_source = {row["source_path"].split("101_ObjectCategories/")[-1]: row["path"] for row in rows}
    for row in rows:
        row["copy_of"] = by_source.get(FOUND_COPIES.get(row["source_path"].split("101_ObjectCategories/")[-1], ""), "")
    with open(HERE / "photos.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    _write_attribution(rows)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{len(rows)} photos, {size / 1e6:.1f} MB in {out}")


def _first_captions(photos: Path) -> dict[str, str]:
    """COCO photos whose image licence allows copies (CC BY, CC BY-SA), each with its first caption."""
    chosen: dict[str, str] = {}
    for row in csv.DictReader(open(photos / "retrieval/captions.csv")):
        if row["licence"].startswith(("image: Attribution License", "image: Attribution-ShareAlike License")):
            chosen.setdefault(row["path"], row["caption"].strip().rstrip("."))
    return chosen


def _lund_time(source: Path) -> datetime:
    """The capture time Mapillary's app wrote into the photo's description (local time in Lund)."""
    with Image.open(source) as image:
        stamp = json.loads(image.getexif()[0x010E])["MAPCaptureTime"]
    return datetime.strptime(stamp[:19], "%Y_%m_%d_%H_%M_%S")


def _write(source: Path, target: Path, *, taken: datetime | None, camera: tuple[str, str] | None,
           gps: bool) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        gps_ifd = dict(image.getexif().get_ifd(0x8825)) if gps else {}
        picture = image.convert("RGB") if image.mode not in ("RGB", "L") else image.copy()
    picture.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS)
    exif = Image.Exif()
    if camera:
        exif[0x010F], exif[0x0110] = camera
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")  # DateTimeOriginal
    if gps_ifd:
        exif.get_ifd(0x8825).update(gps_ifd)
    if target.suffix == ".png":
        picture.save(target, "PNG", optimize=True)
    elif target.suffix == ".webp":
        picture.save(target, "WEBP", quality=QUALITY, exif=exif.tobytes())
    else:
        picture.save(target, "JPEG", quality=QUALITY, optimize=True, exif=exif.tobytes())


def _write_attribution(rows: list[dict[str, str]]) -> None:
    lines = ["# Where the practice photos come from", "",
             "Every photo in `library/` is a real photo from a source whose licence allows copies, resized to at",
             "most 1,024 px on the long side and re-encoded; nothing in the pictures was changed. Folder, file",
             "names, dates and camera names were assigned for the course (the Lund trip keeps its own capture",
             "times and GPS). `photos.csv` has the same list with each photo's ground-truth group and caption.",
             "Photos under CC BY-SA 2.0 stay under CC BY-SA 2.0; copies of them must keep that licence.", "",
             "| file | source (repository@commit: path) | licence | credit |", "|---|---|---|---|"]
    lines += [f"| `{r['path']}` | {r['source']}: `{r['source_path']}` | {r['licence']} | {r['credit']} |"
              for r in rows]
    lines += ["", "## OpenSfM (BSD-2-Clause)", "", "```", "Copyright (c) Mapillary (see LICENSE in "
              "github.com/mapillary/OpenSfM for the exact notice)", "All rights reserved.", "",
              (HERE.parent.parent / "notebooks/examples/ATTRIBUTION.md").read_text().split("All rights reserved.")[1]
              .split("```")[0].strip(), "```", ""]
    (HERE / "ATTRIBUTION.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/photos"))
