"""The second look: is a verified pair one photograph, or two shots of one scene? Read from the originals.

The first stage (`verify`) works on 256-px thumbnails, where a burst frame, a step-apart street
view or a view of a distant landscape can line up with its neighbour almost everywhere. Two
exposures are never the same in their fine detail, though: leaves, water, grass and people move,
parallax shifts near things against far ones by a pixel or two, and each exposure has its own
noise. An edited copy keeps the fine detail of its original, whatever was done to the frame.

So, when the first stage is unsure, both originals are decoded at up to 1024 px, B is laid over
A by a homography fitted there, and the fine detail (what a 2-px blur removes) is correlated
block by block. A copy's detail correlates (0.48 or more on every generated edit kind); another
shot's does not (0.0-0.2 on consecutive street views and bursts).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from .verify import matched_points, mirrored_keypoints

DETAIL_SIDE = 1024  # longer side the originals are compared at
DETAIL_MIN = 0.35  # median fine-detail correlation below which a pair is two shots, not one photo
# The first stage is unsure when few keypoints carried the fit or the pixel agreement is middling.
UNSURE_INLIERS = 60
UNSURE_SCORE = 0.9
GRID = 12  # blocks per side for the correlation
MIN_BLOCKS = 4  # textured blocks needed for a measurement
BLUR_SIGMA = 2.0  # fine detail: what a Gaussian blur of this radius removes
RANSAC_PIXELS = 1.5

_SIFT = cv2.SIFT_create(nfeatures=2000)  # type: ignore[attr-defined]  # missing from the stubs


@dataclass(frozen=True)
class Detail:
    """Fine-detail agreement of B laid over A (median block correlation) and how many blocks spoke."""

    agreement: float
    blocks: int

    @property
    def one_photo(self) -> bool:
        return self.agreement >= DETAIL_MIN


def is_unsure(score: float, inliers: int) -> bool:
    """Whether a first-stage match is weak enough to deserve the second look."""
    return inliers < UNSURE_INLIERS or score < UNSURE_SCORE


@dataclass(frozen=True)
class DetailPrint:
    """What the second look needs of one original: its grayscale pixels at up to DETAIL_SIDE and
    their keypoints (plain and mirrored), made once per photo and reused for every pair it is in."""

    gray: np.ndarray
    points: np.ndarray
    descriptors: np.ndarray | None
    mirrored_points: np.ndarray
    mirrored_descriptors: np.ndarray | None


def detail_print(image: Image.Image) -> DetailPrint:
    gray = _shrink(np.asarray(image.convert("L")), DETAIL_SIDE)
    keypoints, descriptors = _SIFT.detectAndCompute(gray, None)
    points = np.array([k.pt for k in keypoints], dtype=np.float32).reshape(-1, 2)
    return DetailPrint(gray, points, descriptors, *mirrored_keypoints(points, descriptors, gray.shape[1]))


def fine_detail(a: DetailPrint, b: DetailPrint, mirrored: bool = False) -> Detail | None:
    """How well B's fine detail matches A's once B is laid over A, B plain or mirrored (`mirrored`,
    the first stage's finding, is tried first). None: no alignment or no texture to judge by; the
    first stage's verdict then stands. Both are compared at the smaller one's scale, so a small copy
    is not asked for detail it never had."""
    best = None
    for flip in (mirrored, not mirrored):
        found = _aligned_detail(a, b, flip)
        if found is not None and (best is None or found.agreement > best.agreement):
            best = found
        if best is not None and best.one_photo:
            break
    return best


def _aligned_detail(a: DetailPrint, b: DetailPrint, flip: bool) -> Detail | None:
    points, descriptors = (b.mirrored_points, b.mirrored_descriptors) if flip else (b.points, b.descriptors)
    transform = _homography(a.points, a.descriptors, points, descriptors)
    if transform is None:
        return None
    side = min(max(a.gray.shape), max(b.gray.shape))  # compare at the smaller photo's size
    gray_a = _shrink(a.gray, side)
    gray_b = _shrink(np.ascontiguousarray(b.gray[:, ::-1]) if flip else b.gray, side)
    scale_a, scale_b = gray_a.shape[1] / a.gray.shape[1], gray_b.shape[1] / b.gray.shape[1]
    transform = np.diag([scale_a, scale_a, 1.0]) @ transform @ np.diag([1 / scale_b, 1 / scale_b, 1.0])
    height, width = gray_a.shape
    warped = cv2.warpPerspective(gray_b.astype(np.float32), transform, (width, height), flags=cv2.INTER_LINEAR)
    inside = cv2.warpPerspective(np.ones(gray_b.shape, np.float32), transform, (width, height)) > 0.99
    inside = cv2.erode(inside.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    return _block_correlation(_high_pass(gray_a.astype(np.float32)), _high_pass(warped), inside)


def _shrink(gray: np.ndarray, side: int) -> np.ndarray:
    """The photo with its longer side at `side` (never enlarged)."""
    scale = side / max(gray.shape)
    if scale >= 1:
        return gray
    return cv2.resize(gray, (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale))),
                      interpolation=cv2.INTER_AREA)


def _homography(points_a: np.ndarray, descriptors_a: np.ndarray | None, points_b: np.ndarray,
                descriptors_b: np.ndarray | None) -> np.ndarray | None:
    """B onto A, fitted tighter than on thumbnails: sub-pixel agreement is what is looked for here."""
    matched = matched_points(points_a, descriptors_a, points_b, descriptors_b)
    if matched is None:
        return None
    transform, _ = cv2.findHomography(*matched, cv2.USAC_MAGSAC, RANSAC_PIXELS, maxIters=5000, confidence=0.999)
    return transform


def _high_pass(gray: np.ndarray) -> np.ndarray:
    return gray - cv2.GaussianBlur(gray, (0, 0), BLUR_SIGMA)


def _block_correlation(a: np.ndarray, b: np.ndarray, inside: np.ndarray) -> Detail | None:
    """Median correlation of the two detail images over the blocks that lie inside the overlap
    and have detail of their own in both (flat sky and blown highlights say nothing)."""
    height, width = a.shape
    correlations = []
    for row in range(GRID):
        for column in range(GRID):
            block = (slice(row * height // GRID, (row + 1) * height // GRID),
                     slice(column * width // GRID, (column + 1) * width // GRID))
            mask = inside[block]
            if mask.mean() < 0.8:
                continue
            x, y = a[block][mask], b[block][mask]
            if x.std() < 1.5 or y.std() < 0.5:
                continue
            correlations.append(float(np.corrcoef(x, y)[0, 1]))
    if len(correlations) < MIN_BLOCKS:
        return None
    return Detail(float(np.median(correlations)), len(correlations))
