"""Is photo B an edited copy of photo A? Geometric and pixel verification of a candidate pair.

Embeddings say two photos *look alike*; they cannot tell an edited copy from the next shot of a
burst or another photo of the same landmark. So each candidate pair is checked the way a person
would: find the same details in both (SIFT keypoints, mirrored too, so flips and any rotation
are covered), fit one homography that maps B onto A (crops, resizes, aspect changes, rotations,
straightening, keystone correction, a photo of a print), lay B over A with it, and compare the
pixels block by block after matching their tones (brightness, contrast, grayscale, sepia, and
light that changes smoothly across the frame, as a vignette). An edit leaves nearly every block in agreement; a burst
shot, a stereo pair or a re-take leaves many blocks that disagree, because things moved. An edit that lays
something over the photo (a caption band, a date stamp) leaves one rectangle at the frame's edge that disagrees:
the pair is also scored without it, and a pair that passes only so must pass the second look (`fine_detail`).

Works on the index's cached thumbnails (256 px, EXIF-upright), so no original is decoded again.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, replace

import cv2
import numpy as np
from PIL import Image

WORK_SIDE = 256  # the longer side that keypoints are found at (the thumbnail size)
COMPARE_SIDE = 128  # the aligned pair is compared at this size: JPEG noise and dithering average out
TONE_LEVELS = 32  # levels of the tone curve from B to A
GRID = 16  # blocks per side for the pixel comparison
CLEAR_MATCH = 0.95  # a score this high is not improved on by trying the mirror image
MIN_INLIERS = 12  # keypoint matches that must agree with one transform
RATIO = 0.8  # Lowe's ratio test for keypoint matches
RANSAC_PIXELS = 3.0
BLOCK_TOLERANCE = 0.25  # a block agrees when its mean tone-matched difference is below this share of A's spread
CHROMA_TOLERANCE = 14.0  # a block's colours agree when Lab |da| + |db| averages below this
GRAY_CHROMA = 2.0  # a photo whose Lab chroma spreads less than this is black and white
FLAT = 0.15  # a block whose own spread is below this share of the photo's spread is flat
MIN_COVERAGE = 0.5  # share of the smaller photo that the other must cover (crops up to about 30 %)
MAX_OVERLAY = 0.25  # an overlay (a caption band, a sticker) covers at most this share of the blocks
OVERLAY_COST = 2.0  # an agreeing block inside an overlay's rectangle outweighs this many that disagree
OVERLAY_INLIERS = 2 * MIN_INLIERS  # a pair let off an overlay must rest on a firmer fit than the least one
FIRM_INLIERS = 200  # keypoints agreeing with one fit that make a pair worth the originals, whatever its pixels say

cv2.setNumThreads(1)  # pairs are verified on worker threads; one OpenCV thread each avoids oversubscription
_SIFT = cv2.SIFT_create(nfeatures=800)  # type: ignore[attr-defined]  # missing from the stubs


@dataclass(frozen=True)
class Fingerprint:
    """What verification needs of one photo: grayscale pixels and keypoints (plain and mirrored)."""

    gray: np.ndarray
    chroma: np.ndarray | None  # Lab a and b (int8, H x W x 2, centred on 0); None for a black-and-white photo
    points: np.ndarray
    descriptors: np.ndarray | None
    mirrored_points: np.ndarray
    mirrored_descriptors: np.ndarray | None


@dataclass(frozen=True)
class Verdict:
    """score: share of aligned blocks whose pixels agree (0 when no transform fits)."""

    score: float
    inliers: int
    coverage: float
    mirrored: bool = False
    detail: float | None = None  # fine-detail agreement on the originals (`fine_detail`), when measured
    another_shot: bool = False  # the originals' fine detail says: two exposures, not one photograph
    scale: float = 1.0  # area in A's thumbnail of one pixel of B's thumbnail (see `content_scale`)
    checked_from: float = 0.0  # the evidence is complete for thresholds from this one up (`answers`)
    overlay: float | None = None  # the score outside one rectangle of disagreement (`overlay_rectangle`)

    def as_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Verdict:
        return cls(**json.loads(text))

    def reversed(self) -> Verdict:
        """The same verdict seen from B's side."""
        return replace(self, scale=1 / self.scale if self.scale else 0.0)

    def answers(self, threshold: float) -> bool:
        """Whether this evidence decides a pair at `threshold`. A pair is verified in both
        directions, and looked at again on the originals, only when it `could_pass` the threshold
        it was checked for; otherwise it was refused after one direction, which also settles any
        threshold above its scores."""
        return threshold >= self.checked_from or not self.could_pass(threshold)

    def could_pass(self, threshold: float) -> bool:
        """Whether the pair may be one photograph at `threshold`: its thumbnails agree that well,
        or do so outside an overlay, or so many keypoints agree with one fit (`firm`) that the
        blocks' disagreement is more likely the thumbnails' own (fine stripes each thumbnail
        aliases its own way) than the scene's. All but the first need the originals to confirm."""
        return self.best >= threshold or self.firm

    @property
    def best(self) -> float:
        """The score with an overlay left out, where one was found."""
        return max(self.score, self.overlay or 0.0)

    @property
    def firm(self) -> bool:
        return self.inliers >= FIRM_INLIERS and self.coverage >= MIN_COVERAGE

    @property
    def aligned(self) -> bool:
        """The same scene from (nearly) the same viewpoint: a copy, a burst shot or a re-take."""
        return self.inliers >= MIN_INLIERS and self.coverage >= MIN_COVERAGE


NO_MATCH = Verdict(0.0, 0, 0.0)


def fingerprint(image: Image.Image | bytes) -> Fingerprint:
    """Keypoints of a thumbnail (JPEG bytes or an image); tiny photos are enlarged first."""
    if isinstance(image, bytes):
        image = Image.open(io.BytesIO(image))
    rgb = np.asarray(image.convert("RGB"))
    scale = WORK_SIDE / max(rgb.shape[:2])
    if abs(scale - 1) > 0.05:
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    gray = np.ascontiguousarray(lab[:, :, 0])
    chroma = lab[:, :, 1:].astype(np.float32) - 128
    points, descriptors = _keypoints(gray)
    mirrored_points, mirrored_descriptors = mirrored_keypoints(points, descriptors, gray.shape[1])
    return Fingerprint(gray, None if _monochrome(gray, chroma) else chroma.astype(np.int8), points, descriptors,
                       mirrored_points, mirrored_descriptors)


def _monochrome(gray: np.ndarray, chroma: np.ndarray) -> bool:
    """Black and white, or toned black and white (sepia, cyanotype): the colour at each pixel
    follows from its brightness alone, so colour carries no evidence of its own."""
    if chroma.std() < GRAY_CHROMA:
        return True
    levels = (gray // 8).ravel()
    counts = np.maximum(np.bincount(levels, minlength=32), 1)
    spread = 0.0
    for channel in (chroma[:, :, 0].ravel(), chroma[:, :, 1].ravel()):
        means = np.bincount(levels, weights=channel, minlength=32) / counts
        spread += float(np.mean((channel - means[levels]) ** 2))
    return np.sqrt(spread / 2) < GRAY_CHROMA


def _keypoints(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    keypoints, descriptors = _SIFT.detectAndCompute(gray, None)
    return np.array([k.pt for k in keypoints], dtype=np.float32).reshape(-1, 2), descriptors


def mirrored_keypoints(points: np.ndarray, descriptors: np.ndarray | None,
              width: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The keypoints the mirror image has at the mirrored places, without running SIFT again: a
    SIFT descriptor is 4 x 4 cells of 8 orientation bins, and mirroring reverses the cell rows
    and the orientations (checked exact against SIFT on mirrored photos)."""
    mirrored_points = points.copy()
    mirrored_points[:, 0] = width - mirrored_points[:, 0]
    if descriptors is None:
        return mirrored_points, None
    cells = descriptors.reshape(-1, 4, 4, 8)[:, ::-1, :, (-np.arange(8)) % 8]
    return mirrored_points, np.ascontiguousarray(cells.reshape(-1, 128))


def verify(a: Fingerprint, b: Fingerprint) -> Verdict:
    """How well B, mapped onto A by the best transform (B plain or mirrored), agrees with A."""
    best = NO_MATCH
    for mirrored in (False, True):
        if best.score >= CLEAR_MATCH:  # the plain orientation already agrees: no mirror needed
            break
        points, descriptors = (b.mirrored_points, b.mirrored_descriptors) if mirrored else (b.points, b.descriptors)
        fit = _fit_transform(a.points, a.descriptors, points, descriptors)
        if fit is None:
            continue
        transform, inliers = fit
        if inliers <= best.inliers:
            continue
        score, coverage, overlay = _compare(a, b, transform, mirrored)  # 0 when the overlap is too small
        best = Verdict(score, inliers, coverage, mirrored, scale=_area_scale(transform, a, b),
                       overlay=overlay if inliers >= OVERLAY_INLIERS else None)
    return best


def verify_both(a: Fingerprint, b: Fingerprint, at_least: float = 0.0) -> Verdict:
    """The weaker of B-onto-A and A-onto-B, so the verdict does not depend on the order. The
    second direction is only computed when the first reaches `at_least`: below it, the pair
    is rejected either way. With an overlay left out, the weaker direction's score counts too."""
    forward = verify(a, b)
    if not forward.could_pass(at_least):
        return forward
    backward = verify(b, a).reversed()
    weaker = min(forward, backward, key=lambda verdict: verdict.score)
    best = min(forward.best, backward.best)
    return replace(weaker, overlay=best if best > weaker.score else None)


def _area_scale(transform: np.ndarray, a: Fingerprint, b: Fingerprint) -> float:
    """Area in A's thumbnail that one pixel of B's thumbnail covers, at B's centre."""
    centre = np.array([[[b.gray.shape[1] / 2, b.gray.shape[0] / 2]]], np.float32)
    step = cv2.perspectiveTransform(centre + np.array([[[0, 0]], [[1, 0]], [[0, 1]]], np.float32), transform)
    dx, dy = (step[1] - step[0])[0], (step[2] - step[0])[0]
    return float(abs(dx[0] * dy[1] - dx[1] * dy[0]))


def content_scale(verdict: Verdict, long_side_a: int, long_side_b: int) -> float:
    """Area in A's original pixels that one of B's original pixels covers. Below 1, A shows B's
    content with fewer pixels than B has: A is a smaller, or framed, copy (a screenshot, a border)."""
    return verdict.scale * (long_side_a / max(long_side_b, 1)) ** 2


def _fit_transform(points_a: np.ndarray, descriptors_a: np.ndarray | None, points_b: np.ndarray,
                   descriptors_b: np.ndarray | None) -> tuple[np.ndarray, int] | None:
    """The projective map (3 x 3) from B to A that most keypoint matches agree with, if plausible.
    A homography, not an affine map: one photograph cropped, turned, straightened or keystone-
    corrected is still one plane seen through a new frame, and that is what a homography maps."""
    matched = matched_points(points_a, descriptors_a, points_b, descriptors_b)
    if matched is None:
        return None
    source, target = matched
    transform, mask = cv2.findHomography(source, target, cv2.USAC_ACCURATE, RANSAC_PIXELS, maxIters=2000,
                                         confidence=0.995)
    if transform is None or not _plausible(transform, source):
        return None
    return transform, int(mask.sum())


def matched_points(points_a: np.ndarray, descriptors_a: np.ndarray | None, points_b: np.ndarray,
                   descriptors_b: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """(B's points, A's points) of the keypoint matches that pass Lowe's ratio test, or None when
    fewer than MIN_INLIERS do: too few to fit a transform to."""
    if descriptors_a is None or descriptors_b is None or len(descriptors_a) < 2 or len(descriptors_b) < 2:
        return None
    pairs = [m for m in cv2.BFMatcher(cv2.NORM_L2).knnMatch(descriptors_b, descriptors_a, k=2)
             if len(m) == 2 and m[0].distance < RATIO * m[1].distance]
    if len(pairs) < MIN_INLIERS:
        return None
    return (np.array([points_b[m[0].queryIdx] for m in pairs], dtype=np.float32),
            np.array([points_a[m[0].trainIdx] for m in pairs], dtype=np.float32))


def _plausible(transform: np.ndarray, points: np.ndarray) -> bool:
    """An edit keeps the frame convex and does not squeeze it beyond an aspect change: reject maps
    that fold, flip or stretch B's keypoint area by more than 2.5 : 1 between directions."""
    corners = np.array([points.min(0), [points[:, 0].max(), points[:, 1].min()], points.max(0),
                        [points[:, 0].min(), points[:, 1].max()]], dtype=np.float32)
    mapped = cv2.perspectiveTransform(corners[None], transform)[0]
    if not cv2.isContourConvex(mapped.astype(np.float32)):
        return False
    stretch = np.linalg.svd(transform[:2, :2] / transform[2, 2], compute_uv=False)
    return bool(stretch[1] > 1e-3 and stretch[0] / stretch[1] <= 2.5 and abs(transform[2, :2]).max() < 0.004)


def _compare(a: Fingerprint, b: Fingerprint, transform: np.ndarray,
             mirrored: bool) -> tuple[float, float, float | None]:
    """(share of agreeing blocks, coverage, the share outside an overlay or None) for B warped onto
    A, compared at COMPARE_SIDE: tones in textured blocks, and, when both photos are in colour,
    colours in every block."""
    height, width = a.gray.shape
    flip = (lambda array: array[:, ::-1]) if mirrored else (lambda array: array)

    def warp(array: np.ndarray) -> np.ndarray:
        return cv2.warpPerspective(np.ascontiguousarray(flip(array), dtype=np.float32), transform, (width, height),
                                   flags=cv2.INTER_LINEAR)

    inside = warp(np.ones(b.gray.shape, np.float32)) > 0.99
    frame = np.array([[0, 0], [b.gray.shape[1], 0], [b.gray.shape[1], b.gray.shape[0]], [0, b.gray.shape[0]]],
                     np.float32)
    coverage = float(inside.sum()) / min(a.gray.size, cv2.contourArea(cv2.perspectiveTransform(frame[None], transform)))
    if coverage < MIN_COVERAGE:
        return 0.0, coverage, None
    size = (COMPARE_SIDE, max(GRID, round(COMPARE_SIDE * height / width))) if width >= height else \
        (max(GRID, round(COMPARE_SIDE * width / height)), COMPARE_SIDE)

    def small(array: np.ndarray) -> np.ndarray:
        return cv2.resize(np.asarray(array, dtype=np.float32), size, interpolation=cv2.INTER_AREA)

    valid = small(inside) > 0.99
    if valid.sum() < 64:
        return 0.0, coverage, None
    colours = (small(a.chroma), small(warp(b.chroma))) if a.chroma is not None and b.chroma is not None else None
    aligned = _Aligned(small(a.gray), small(warp(b.gray)), colours)
    score, disagreeing, counted = _agreement(aligned, valid)
    if score >= CLEAR_MATCH:
        return score, coverage, None
    inside_blocks, areas = _block_sums(valid, np.ones(valid.shape, bool))
    overlay = overlay_rectangle(disagreeing, counted, inside_blocks >= 0.5 * areas)
    if overlay is None:
        return score, coverage, None
    return score, coverage, _agreement(aligned, valid & ~_pixels_of(overlay, valid.shape))[0]


@dataclass(frozen=True)
class _Aligned:
    """A and B laid over it, at COMPARE_SIDE: grey levels, and Lab a and b of both when both are in colour."""

    gray_a: np.ndarray
    gray_b: np.ndarray
    chroma: tuple[np.ndarray, np.ndarray] | None


def _agreement(aligned: _Aligned, valid: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """(share of agreeing blocks, blocks that disagree, blocks that were compared) of the pixels in
    `valid`: tones in textured blocks, and colours in every block when both photos have colour."""
    small_a, small_b = aligned.gray_a, aligned.gray_b
    spread = float(small_a[valid].std()) + 8.0  # flat photos: do not let noise count as disagreement
    textured = _textured(small_a, spread)
    score, agreeing, counted = max((_agreeing_blocks(np.abs(small_a - _match_tones(tones, small_a, valid)) / spread,
                                                     valid, textured=textured)
                                    for tones in (small_b, _even_light(small_b, small_a, valid))),
                                   key=lambda found: found[0])
    disagreeing = counted & ~agreeing
    if aligned.chroma is not None:  # each channel tone-matched like the gray
        chroma_a, chroma_b = aligned.chroma
        colour_gap = sum(np.abs(chroma_a[:, :, c] - _match_tones(chroma_b[:, :, c], chroma_a[:, :, c], valid))
                         for c in range(2)) / CHROMA_TOLERANCE
        colour, colour_agreeing, colour_counted = _agreeing_blocks(colour_gap, valid, textured=None, tolerance=1.0)
        score = min(score, colour)
        disagreeing |= colour_counted & ~colour_agreeing
        counted |= colour_counted
    return score, disagreeing, counted


def overlay_rectangle(disagreeing: np.ndarray, counted: np.ndarray, overlap: np.ndarray) -> np.ndarray | None:
    """The blocks of one rectangle that holds most of the disagreement, when it looks like something
    laid over the photo (a caption band, a date stamp, a watermark, a sticker in a corner) rather than
    a scene that changed: the rectangle of blocks with the largest sum of +1 for each block that
    disagrees, -OVERLAY_COST for each that agrees (and a little less for each not compared, so the
    smallest such rectangle wins). None unless it holds two disagreeing blocks or more and at least
    half of them all, covers at most MAX_OVERLAY of the blocks and reaches the edge of the
    `overlap` (where overlays are put;
    a different object in the middle of a look-alike is not one). The blocks outside it then get a
    score of their own (`Verdict.overlay`); a pair that passes only on that score must pass the
    second look on the originals as well."""
    weights = np.where(disagreeing, 1.0, np.where(counted, -OVERLAY_COST, -0.01))
    size = weights.shape[0]
    tops, bottoms = np.triu_indices(size)
    cumulative = np.vstack([np.zeros(size), np.cumsum(weights, axis=0)])
    strips = cumulative[bottoms + 1] - cumulative[tops]  # every run of rows, summed per column
    prefix = np.hstack([np.zeros((len(strips), 1)), np.cumsum(strips, axis=1)])
    lowest = np.minimum.accumulate(prefix, axis=1)
    gains = prefix[:, 1:] - lowest[:, :-1]  # best sum of a run of columns ending at each column
    strip, right = np.unravel_index(int(np.argmax(gains)), gains.shape)
    if gains[strip, right] < 2:
        return None
    left = int(np.argmin(prefix[strip, :right + 1]))
    rectangle = np.zeros(weights.shape, bool)
    rectangle[tops[strip]:bottoms[strip] + 1, left:right + 1] = True
    if rectangle.sum() > MAX_OVERLAY * rectangle.size or 2 * (rectangle & disagreeing).sum() < disagreeing.sum():
        return None
    around = np.pad(overlap, 1)  # outside the grid is outside the overlap
    top, bottom = tops[strip] + 1, bottoms[strip] + 1  # in the padded grid
    sides = (around[top - 1, left + 1:right + 2], around[bottom + 1, left + 1:right + 2],
             around[top:bottom + 1, left], around[top:bottom + 1, right + 2])
    return rectangle if not all(side.all() for side in sides) else None


def _even_light(source: np.ndarray, reference: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Undo a smooth change of light across the frame (a vignette, a print lit from one side):
    a smooth surface (a tilt, a bowl and a vignette's steeper rim) fitted to the log ratio of the
    two photos' brightness, block by block, twice, the second time without the blocks the first
    fit explains worst (a caption, a moved thing). Only a field that smooth is removed; a local
    change leaves its mark."""
    ratio = np.log(reference + 16) - np.log(source + 16)
    sums, counts = _block_sums(ratio, valid)
    used = counts >= 0.5 * counts.max()
    if used.sum() < 12:
        return source
    centres = (np.arange(GRID) + 0.5) / GRID - 0.5
    means = sums / np.maximum(counts, 1)
    terms = _light_terms(*np.meshgrid(centres, centres))
    for _ in range(2):
        coefficients, *_ = np.linalg.lstsq(terms[used], means[used], rcond=None)
        misfit = np.abs(means - terms @ coefficients)
        used &= misfit <= np.quantile(misfit[used], 0.7)
    height, width = source.shape
    xs, ys = np.meshgrid((np.arange(width) + 0.5) / width - 0.5, (np.arange(height) + 0.5) / height - 0.5)
    return (source + 16) * np.exp(_light_terms(xs, ys) @ coefficients) - 16


def _light_terms(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The shapes a smooth change of light can take, at positions centred on the frame."""
    radius = xs * xs + ys * ys
    return np.stack([np.ones_like(xs), xs, ys, xs * xs, ys * ys, xs * ys, radius * radius], axis=-1)


def _match_tones(source: np.ndarray, reference: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Map B's tones onto A's: each level of B becomes the median of A's pixels at that level.
    This undoes brightness, contrast, gamma, clipping and grayscale (one curve for the whole
    photo); a small sticker hardly bends it, while a black caption band can pull the dark levels
    (so the score outside an overlay fits the curve again without it).
    A local change (something moved, HDR tone mapping) cannot be explained by one curve."""
    values, targets = source[valid], reference[valid]
    levels = np.linspace(float(values.min()), float(values.max()) + 1e-3, TONE_LEVELS + 1)
    bins = np.clip(np.digitize(values, levels) - 1, 0, TONE_LEVELS - 1)
    ordered = targets[np.lexsort((targets, bins))]  # grouped by level, sorted within each
    counts = np.bincount(bins, minlength=TONE_LEVELS)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    present = counts >= 3
    if present.sum() < 2:
        return np.full_like(source, float(np.median(targets)))
    medians = ordered[starts[present] + (counts[present] - 1) // 2]
    centres = ((levels[:-1] + levels[1:]) / 2)[present]
    return np.interp(source, centres, medians)


def _textured(gray: np.ndarray, spread: float) -> np.ndarray:
    """Which blocks have detail of their own. Flat blocks (sky, a white backdrop) agree in tone
    with anything of the same brightness, so they are no evidence either way."""
    everywhere = np.ones(gray.shape, bool)
    sums, counts = _block_sums(gray, everywhere)
    squares, _ = _block_sums(gray * gray, everywhere)
    mean = sums / counts
    return np.sqrt(np.maximum(squares / counts - mean * mean, 0)) >= FLAT * spread


def _agreeing_blocks(difference: np.ndarray, valid: np.ndarray, *, textured: np.ndarray | None,
                     tolerance: float = BLOCK_TOLERANCE) -> tuple[float, np.ndarray, np.ndarray]:
    """(share, blocks that agree, blocks counted) of the (textured) blocks inside the overlap
    whose mean difference is below `tolerance`."""
    sums, counts = _block_sums(difference, valid)
    _, areas = _block_sums(difference, np.ones(valid.shape, bool))
    counted = counts >= 0.5 * areas
    if textured is not None:
        counted &= textured
    agreeing = sums / np.maximum(counts, 1) < tolerance
    return (float(agreeing[counted].mean()) if counted.any() else 0.0), agreeing, counted


def _pixels_of(blocks: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A GRID x GRID block mask as a pixel mask of `shape`, split the way `_block_sums` splits."""
    height, width = shape
    rows = np.searchsorted(np.arange(GRID) * height // GRID, np.arange(height), side="right") - 1
    columns = np.searchsorted(np.arange(GRID) * width // GRID, np.arange(width), side="right") - 1
    return blocks[rows[:, None], columns[None, :]]


def _block_sums(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sums of the masked values, and how many there are, in each block of a GRID x GRID split."""
    height, width = values.shape
    rows, columns = np.arange(GRID) * height // GRID, np.arange(GRID) * width // GRID
    weights = mask.astype(np.float32)

    def per_block(array: np.ndarray) -> np.ndarray:
        return np.add.reduceat(np.add.reduceat(array, rows, axis=0), columns, axis=1)

    return per_block(np.where(mask, values, 0).astype(np.float32)), per_block(weights)


SIGNATURE_SIDE = 8  # the turn-free signature is taken from an 8 x 8 grayscale version of the photo


def _symmetry_orbits(side: int) -> np.ndarray:
    """Pixel positions of a side x side grid, grouped by the 8 turns and flips of the square:
    row k lists the positions one pixel visits under all of them."""
    grid = np.arange(side * side).reshape(side, side)
    views = [np.rot90(grid, turns) for turns in range(4)]
    views += [view.T for view in views]
    stacked = np.stack([view.ravel() for view in views], axis=1)  # position -> its 8 images
    orbits = {tuple(sorted(row)) for row in stacked}
    return np.array([list(orbit) + [orbit[0]] * (8 - len(orbit)) if len(orbit) < 8 else list(orbit)
                     for orbit in sorted(orbits)])


_ORBITS = _symmetry_orbits(SIGNATURE_SIDE)
SIGNATURE_LENGTH = _ORBITS.size


def turn_free_signature(image: Image.Image | bytes) -> np.ndarray:
    """A unit vector that stays the same when the photo is turned by 90/180/270 degrees or
    mirrored, and under brightness and contrast changes: each orbit of pixel positions under the
    square's symmetries contributes its sorted values. Plain embeddings change a lot when a photo
    is turned; this catches turned copies as candidates for verification."""
    if isinstance(image, bytes):
        image = Image.open(io.BytesIO(image))
        image.draft("L", (SIGNATURE_SIDE * 4, SIGNATURE_SIDE * 4))
    small = np.asarray(image.convert("L").resize((SIGNATURE_SIDE, SIGNATURE_SIDE), Image.Resampling.BOX),
                       dtype=np.float32).ravel()
    features = np.sort(small[_ORBITS], axis=1).ravel()
    features -= features.mean()
    norm = float(np.linalg.norm(features))
    return features / norm if norm > 1e-6 else features
