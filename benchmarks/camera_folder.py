"""Build a folder of camera-size JPEGs (8-12 MP) for indexing benchmarks.

Sources are the real full-resolution photos in ../shared/photos (never copied as they are):
each output is a different crop (and sometimes a mirror) of one of them, re-encoded as a
camera would (quality 92), so every file is distinct and decodes like a real camera JPEG.

Usage: python benchmarks/camera_folder.py OUT_DIR [--count 200]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

TESTDATA = Path(os.environ.get("PHOTO_SEARCH_TESTDATA", Path(__file__).resolve().parents[2] / "shared" / "photos"))
SOURCES = [
    *sorted((TESTDATA / "retrieval/full_resolution").iterdir()),
    TESTDATA / "messy/very_large/craft-beer.jpg",
    TESTDATA / "messy/gps/empty_gps.jpg",
    TESTDATA / "messy/camera_exif/HMD_Nokia_8.3_5G.jpg",
]
MIN_PIXELS, MAX_PIXELS = 8e6, 12.5e6


def build(out_dir: Path, count: int, seed: int = 0) -> Path:
    marker = out_dir / f".complete-{count}-{seed}"
    if marker.exists():
        return out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    originals = []
    for path in SOURCES:
        with Image.open(path) as image:
            image = image.convert("RGB")
            pixels = image.width * image.height
            if pixels > MAX_PIXELS:  # the 24 MP photo becomes a 12 MP one
                scale = (MAX_PIXELS / pixels) ** 0.5
                image = image.resize((int(image.width * scale), int(image.height * scale)), Image.Resampling.LANCZOS)
            originals.append(image)
    for index in range(count):
        image = rng.choice(originals)
        pixels = image.width * image.height
        smallest = max(MIN_PIXELS, 0.75 * pixels) if pixels >= MIN_PIXELS else pixels
        target = rng.uniform(smallest, min(MAX_PIXELS, pixels))
        scale = (target / (image.width * image.height)) ** 0.5
        width, height = int(image.width * scale), int(image.height * scale)
        left, top = rng.randint(0, image.width - width), rng.randint(0, image.height - height)
        crop = image.crop((left, top, left + width, top + height))
        if rng.random() < 0.5:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        crop.save(out_dir / f"IMG_{index:04d}.jpg", quality=92)
    marker.touch()
    return out_dir


def build_shifted(out_dir: Path, per_photo: int = 36, seed: int = 0) -> Path:
    """`per_photo` shifted crops (90 % of each side, on a grid of offsets) of each of the 7
    full-resolution camera photos, saved at quality 86-93 with the camera's EXIF kept: distinct
    files that decode like the camera's own (orientation tags included)."""
    marker = out_dir / f".complete-shifted-{per_photo}-{seed}"
    if marker.exists():
        return out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    grid = max(1, round(per_photo ** 0.5))
    number = 0
    for path in sorted((TESTDATA / "retrieval/full_resolution").iterdir()):
        with Image.open(path) as image:
            exif = image.info.get("exif", b"")
            width, height = int(image.width * 0.9), int(image.height * 0.9)
            for shift in range(per_photo):
                left = (image.width - width) * (shift % grid) // max(1, grid - 1)
                top = (image.height - height) * (shift // grid % grid) // max(1, grid - 1)
                crop = image.crop((left, top, left + width, top + height))
                crop.save(out_dir / f"IMG_{number:04d}.jpg", quality=rng.randint(86, 93), exif=exif)
                number += 1
    marker.touch()
    return out_dir


# Caltech 101 holds a few copies of its own (the same photo at two sizes); a folder of distinct photos leaves them out.
KNOWN_COPIES = {"caltech101/grand_piano/image_0006.jpg", "caltech101/grand_piano/image_0014.jpg",
                "caltech101/grand_piano/image_0007.jpg", "caltech101/stop_sign/image_0005.jpg",
                "caltech101/stop_sign/image_0014.jpg"}
CAMERA = ("Google", "Pixel 7")


def build_distinct(out_dir: Path, count: int = 300, *, camera_exif: bool = True, seed: int = 0,
                   people_share: float = 0.0) -> Path:
    """`count` distinct camera-size photos, no copies among them: real web-size photos of
    ../shared/photos/retrieval (never the same one twice) enlarged to about 12 MP, with sensor-like
    noise, saved at quality 90. With `camera_exif`, each carries one phone's make and model and its
    own capture time (minutes to hours after the one before), as a phone's camera roll does.
    `people_share` of them are photos of people from ../shared/photos/faces instead (its whole
    photos, not its face chips)."""
    marker = out_dir / f".complete-distinct-{count}-{camera_exif}-{seed}-{people_share}"
    if marker.exists():
        return out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    retrieval = TESTDATA / "retrieval"
    sources = sorted(path for path in retrieval.rglob("*") if path.suffix.lower() in (".jpg", ".jpeg", ".png")
                     and "full_resolution" not in path.parts
                     and path.relative_to(retrieval).as_posix() not in KNOWN_COPIES)
    rng = random.Random(seed)
    with_people = round(count * people_share)
    chosen = rng.sample(sources, min(count - with_people, len(sources))) + rng.sample(_people_photos(), with_people)
    noise = np.random.default_rng(seed)
    taken = datetime(2024, 5, 1, 9, 0, 0)
    for number, path in enumerate(rng.sample(chosen, len(chosen))):
        with Image.open(path) as image:
            image = image.convert("RGB")
        scale = (12e6 / (image.width * image.height)) ** 0.5
        big = np.asarray(image.resize((round(image.width * scale), round(image.height * scale)),
                                      Image.Resampling.BICUBIC), dtype=np.int16)
        big += noise.normal(0, 3, big.shape[:2])[:, :, None].astype(np.int16)  # luminance grain
        exif = Image.Exif()
        if camera_exif:
            taken += timedelta(minutes=rng.randint(11, 600))
            exif[0x010F], exif[0x0110] = CAMERA
            exif.get_ifd(0x8769)[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
        Image.fromarray(np.clip(big, 0, 255).astype(np.uint8)).save(out_dir / f"PXL_{number:04d}.jpg", quality=90,
                                                                    exif=exif)
    marker.touch()
    return out_dir


def _people_photos() -> list[Path]:
    """The face kit's whole photos of people (one person or a group), not its tight face chips."""
    with (TESTDATA / "faces" / "identities.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [TESTDATA / "faces" / row["path"] for row in rows
            if row["identity"] != "none" and "chip" not in row["note"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    folder = build(args.out_dir, args.count)
    sizes = []
    for path in sorted(folder.glob("*.jpg")):
        with Image.open(path) as image:
            sizes.append(image.width * image.height / 1e6)
    print(f"{folder}: {len(sizes)} JPEGs, {min(sizes):.1f} to {max(sizes):.1f} MP")


if __name__ == "__main__":
    main()
