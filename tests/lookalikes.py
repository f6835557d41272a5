"""Look-alikes with no EXIF: photos of one scene or one object that are *not* copies of each other.

Frames of street sequences shot a step apart, a burst, a re-take, HDR on and off, a stereo pair and
same-class objects on plain backdrops, all from `../shared/photos`, written upright with their
metadata dropped (as a messenger or a social network delivers them), so the camera-time rule that
separates bursts from copies cannot help. Used by the tests and by `benchmarks/bench_dupes.py`.
"""

from __future__ import annotations

from pathlib import Path

from helpers.images import load_photo

STREETS = tuple(f"retrieval/scenes/opensfm_lund/{n:02d}.jpg" for n in range(1, 30)) + \
    tuple(f"retrieval/scenes/opensfm_berlin/{n:02d}.jpg" for n in (1, 2, 3))
SHOTS = ("retrieval/full_resolution/holidays_100000.jpg", "retrieval/full_resolution/holidays_100001.jpg",
         "retrieval/full_resolution/holidays_100002.jpg", "retrieval/full_resolution/sceaux_100_7100.JPG",
         "retrieval/full_resolution/sceaux_100_7105.JPG", "retrieval/distractors/skimage/motorcycle_left.png",
         "retrieval/distractors/skimage/motorcycle_right.png")
# HDR on and off, taken a moment apart: the one look-alike the finder still takes for a copy
# without EXIF (BENCHMARKS.md says why); listed apart so the tests can say so.
HDR = ("near_duplicates/iphone_hdr/iphone_hdr_NO.jpg", "near_duplicates/iphone_hdr/iphone_hdr_YES.jpg",
       "messy/gps/canon_hdr_NO.jpg", "near_duplicates/canon_hdr/canon_hdr_YES.jpg")
OBJECTS = tuple(f"retrieval/caltech101/{name}/image_{n:04d}.jpg" for name in ("stop_sign", "Motorbikes", "car_side")
                for n in range(1, 11))
ALL = STREETS + SHOTS + HDR + OBJECTS
# Photos in the sets above that are copies of each other after all (Caltech re-uses web images).
KNOWN_COPIES = {frozenset(("retrieval/caltech101/stop_sign/image_0001.jpg",
                           "retrieval/caltech101/stop_sign/image_0005.jpg"))}


def write_exif_free(photos: Path, target: Path, paths: tuple[str, ...] = ALL) -> list[str]:
    """Each photo decoded upright and saved again without metadata, under the same relative path."""
    written = []
    for path in paths:
        image = load_photo(photos / path).image
        out = target / path
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".png":
            image.save(out)
        else:
            image.save(out, "JPEG", quality=95)
        written.append(path)
    return written


def same_photo(a: str, b: str) -> bool:
    return frozenset((a, b)) in KNOWN_COPIES
