"""Duplicates: kinds on real edited pairs and generated edits, no chaining, keepers, move + undo."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

if TYPE_CHECKING:
    from conftest import PhotoSearch
from PIL import Image

from helpers.duplicates.calibrate import Scored, calibrate, choose
from helpers.duplicates.candidates import pairs_above
from helpers.duplicates.edits import EDITS, edited_copies
from helpers.duplicates.finder import Member, find_duplicates, keeper_rank, keeper_reason, star_groups
from helpers.duplicates.review import move_copies, undo_moves, write_review_list
from helpers.duplicates.settings import CALIBRATION, DEFAULT_SIGNATURE_COSINE, DEFAULT_THRESHOLD, Settings
from helpers.duplicates.verify import fingerprint, overlay_rectangle, turn_free_signature, verify, verify_both
from helpers.errors import BadInput
from helpers.images import LoadOptions, load_photo, make_thumbnail
from helpers.index import PhotoIndex, PhotoRow
from helpers.indexer import update_index
from helpers.models import load_model

SIMILAR = ("burst", "stereo", "26 s later")
# Not among the edit kinds the finder promises: a 45-degree turn on an enlarged canvas, and a
# 1-bit dithered copy (its pixels are noise at thumbnail size). Both are reported as missed.
BEYOND_SCOPE = {"near_duplicates/hopper/hopper_45.png", "near_duplicates/hopper/hopper_bw_500.png"}


def _pairs(photos: Path) -> list[dict[str, str]]:
    with open(photos / "near_duplicates/pairs.csv", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def pairs_library(tmp_path_factory: pytest.TempPathFactory, photos: Path) -> Path:
    """Every file of pairs.csv, plus look-alikes that must not be reported: other stop signs and
    motorbikes (same class, same pose, white backdrop) and a street sequence of one place."""
    root = tmp_path_factory.mktemp("dupes") / "photos"
    files = {row[side] for row in _pairs(photos) for side in ("original", "copy")}
    files |= {f"retrieval/caltech101/{name}/image_{n:04d}.jpg" for name in ("stop_sign", "Motorbikes")
              for n in (2, 3, 6, 7, 8)}
    files |= {f"retrieval/scenes/opensfm_lund/{n:02d}.jpg" for n in range(1, 7)}
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(photos / rel, root / rel)
    return root


@pytest.fixture(scope="module")
def pairs_index(pairs_library: Path) -> Path:
    index_dir = pairs_library.parent / "index"
    update_index(pairs_library, index_dir, embedder=load_model("efficientnet-lite0"))
    return index_dir


@pytest.fixture(scope="module")
def report(pairs_index: Path):
    with PhotoIndex.open(pairs_index) as index:
        return find_duplicates(index)


def _group_of(report, path: str):
    return next((g for g in report.groups if path == g.keep or path in {m.path for m in g.members}), None)


def test_real_pairs_are_found_with_their_kind(report, photos: Path) -> None:
    for row in _pairs(photos):
        original, copy = row["original"], row["copy"]
        group = _group_of(report, copy)
        if any(word in row["relation"] for word in SIMILAR):
            assert group is None or original not in {group.keep, *(m.path for m in group.members)}, row
            continue
        if copy in BEYOND_SCOPE:
            continue
        assert group is not None and original in {group.keep, *(m.path for m in group.members)}, row
        kinds = {m.path: m.kind for m in group.members}
        expected = "exact" if "byte-identical" in row["relation"] else "near"
        assert kinds.get(copy, kinds.get(original)) == expected, row


def test_look_alikes_are_not_duplicates(report) -> None:
    reported = {p for g in report.groups for p in (g.keep, *(m.path for m in g.members))}
    assert not {p for p in reported if "/caltech101/" in p or "/opensfm_lund/" in p}
    similar = {p for g in report.similar for p in (g.keep, *(m.path for m in g.members))}
    assert "retrieval/full_resolution/holidays_100001.jpg" in similar or \
        "retrieval/full_resolution/holidays_100000.jpg" in similar


@pytest.mark.parametrize("name", sorted(EDITS))
def test_every_edit_kind_verifies_and_a_different_photo_does_not(name: str, photos: Path) -> None:
    original = load_photo(photos / "retrieval/scenes/opensfm_lund/01.jpg").image
    other = load_photo(photos / "retrieval/scenes/opensfm_lund/03.jpg").image  # same street, moments later
    base = fingerprint(make_thumbnail(original))
    copy = edited_copies(original, seed=3, kinds=[name])[name]
    assert verify(base, fingerprint(make_thumbnail(copy))).score >= DEFAULT_THRESHOLD
    assert verify(base, fingerprint(make_thumbnail(other))).score < DEFAULT_THRESHOLD


def test_turned_copies_keep_their_signature(photos: Path) -> None:
    image = load_photo(photos / "retrieval/caltech101/crab/image_0005.jpg").image
    signature = turn_free_signature(make_thumbnail(image))
    for turn in (Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180, Image.Transpose.TRANSPOSE):
        assert signature @ turn_free_signature(make_thumbnail(image.transpose(turn))) >= DEFAULT_SIGNATURE_COSINE
    other = load_photo(photos / "retrieval/caltech101/crab/image_0006.jpg").image
    assert signature @ turn_free_signature(make_thumbnail(other)) < DEFAULT_SIGNATURE_COSINE


def test_an_overlay_is_a_small_rectangle_of_disagreement_at_the_edge_of_the_overlap() -> None:
    counted, overlap = np.ones((16, 16), bool), np.ones((16, 16), bool)
    band = np.zeros((16, 16), bool)
    band[12:14] = True  # a caption across the lower part
    assert (overlay_rectangle(band, counted, overlap) == band).all()
    middle = np.zeros((16, 16), bool)
    middle[6:9, 5:10] = True  # something else in the middle of the frame: a different object, not an overlay
    assert overlay_rectangle(middle, counted, overlap) is None
    cropped = overlap.copy()
    cropped[:, 12:] = False  # the other photo covers only the left part: its edge is an edge too
    middle[6:9, 5:12] = True
    assert overlay_rectangle(middle & cropped, counted, cropped) is not None
    assert overlay_rectangle(np.arange(256).reshape(16, 16) % 3 == 0, counted, overlap) is None  # scattered
    large = np.zeros((16, 16), bool)
    large[9:] = True  # 44 % of the frame: a scene that changed, not a caption
    assert overlay_rectangle(large, counted, overlap) is None


HARD_COPIES = {  # copies the thumbnails alone refuse: (photo, edit kind, seed of the edit)
    "caption band on a plain photo": ("retrieval/clothing/longsleeve/11bd32f7-4455-4d17-9607-031854e8db1f.jpg",
                                      "text overlay", 0),
    "striped shirt turned": ("retrieval/clothing/shirt/12dbb725-c49d-4993-ac78-c16cfe33dc9c.jpg", "rotate 180", 1),
}


@pytest.mark.parametrize("case", sorted(HARD_COPIES))
def test_copies_the_thumbnails_cannot_settle_are_settled_on_the_originals(case: str, tmp_path: Path,
                                                                          photos: Path) -> None:
    """A caption band on a photo with little texture of its own is most of what the thumbnails can
    compare; a striped shirt turned upside down has its stripes aliased differently by each
    thumbnail, though hundreds of keypoints agree. Both score below the threshold on the thumbnails,
    the band leaving one rectangle at the edge (`Verdict.overlay`), the stripes a firm fit
    (`Verdict.firm`), and the originals' fine detail confirms one photograph. Two motorbikes of one
    model in one pose differ in the middle of the frame, which no overlay explains."""
    source, kind, seed = HARD_COPIES[case]
    root = tmp_path / "photos"
    root.mkdir()
    original = load_photo(photos / source, LoadOptions(min_side=512)).image
    original.save(root / "photo.jpg", quality=95)
    edited_copies(original, seed=seed, kinds=[kind])[kind].save(root / "photo edited.jpg", quality=92)
    for number in (2, 9):
        shutil.copy2(photos / f"retrieval/caltech101/Motorbikes/image_{number:04d}.jpg", root / f"bike{number}.jpg")
    thumbnails = {name: fingerprint(make_thumbnail(load_photo(root / name).image)) for name in os.listdir(root)}
    plain = verify_both(thumbnails["photo.jpg"], thumbnails["photo edited.jpg"], at_least=DEFAULT_THRESHOLD)
    assert plain.score < DEFAULT_THRESHOLD and plain.could_pass(DEFAULT_THRESHOLD), plain
    assert not verify_both(thumbnails["bike2.jpg"], thumbnails["bike9.jpg"]).could_pass(DEFAULT_THRESHOLD)
    update_index(root, tmp_path / "index", embedder=load_model("efficientnet-lite0"))
    with PhotoIndex.open(tmp_path / "index") as index:
        found = find_duplicates(index)
    assert [(g.keep, [(m.path, m.kind) for m in g.members]) for g in found.groups] == \
        [("photo.jpg", [("photo edited.jpg", "near")])]


def test_pairs_above_matches_brute_force() -> None:
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    found = {(int(i), int(j)) for a, b, _ in pairs_above(vectors, 0.5, block=64) for i, j in zip(a, b)}
    scores = vectors @ vectors.T
    expected = {(i, j) for i in range(300) for j in range(i + 1, 300) if scores[i, j] >= 0.5}
    assert found == expected and expected


def _row(number: int, path: str, width: int, fmt: str = "JPEG", date: str | None = None) -> PhotoRow:
    return PhotoRow(number, path, "", date, "DateTimeOriginal" if date else None, None, None, width, width, fmt, None)


def test_no_chaining_each_member_matches_its_keeper() -> None:
    # a~b and b~c, but a and c are unrelated: they must not end up in one group.
    rows = [_row(0, "a.jpg", 400), _row(1, "b.jpg", 100), _row(2, "c.jpg", 300)]
    verified = {(0, 1), (1, 2)}
    checked = []

    def links(keeper: int, others: list[int]) -> dict[int, Member]:
        checked.extend((keeper, other) for other in others)
        return {o: Member(rows[o].path, 0.9, "near") for o in others if tuple(sorted((keeper, o))) in verified}

    groups = star_groups(rows, {0: {1}, 1: {0, 2}, 2: {1}}, links)
    assert [(g.keep, [m.path for m in g.members]) for g in groups] == [("a.jpg", ["b.jpg"])]
    assert (2, 1) not in checked  # b already belongs to a: c is not compared with it again


def test_keeper_rule_resolution_then_format_then_date_then_name() -> None:
    big, small = _row(0, "big.png", 2000, "PNG"), _row(1, "small.jpg", 1000)
    assert min([small, big], key=keeper_rank) is big
    assert keeper_reason(big, [small]).startswith("highest resolution")
    jpeg, webp = _row(0, "b.jpg", 1000), _row(1, "a.webp", 1000, "WEBP")
    assert min([webp, jpeg], key=keeper_rank) is jpeg and "original format" in keeper_reason(jpeg, [webp])
    early, late = _row(0, "z.jpg", 1000, date="2020-01-01T10:00:00"), _row(1, "a.jpg", 1000, date="2021-01-01T10:00:00")
    assert min([late, early], key=keeper_rank) is early and "taken first" in keeper_reason(early, [late])
    source, backup = _row(0, "x/IMG_5070.jpg", 1000), _row(1, "a/IMG_5070 copy.jpg", 1000)  # all else equal
    assert min([backup, source], key=keeper_rank) is source and "shortest name" in keeper_reason(source, [backup])


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file()}


def test_move_then_undo_restores_every_file(tmp_path: Path, pairs_library: Path, report) -> None:
    photos = tmp_path / "photos"
    shutil.copytree(pairs_library, photos)
    before = _digests(photos)
    with pytest.raises(BadInput):
        move_copies(report, photos, photos / "review")  # inside the photo folder: refused
    summary = move_copies(report, photos, tmp_path / "review")
    copies = {m.path for g in report.groups for m in g.members}
    assert summary.moved == len(copies) > 0
    assert not any((photos / path).exists() for path in copies)
    assert all((photos / g.keep).exists() for g in report.groups)
    result = undo_moves(summary.manifest)
    assert result["restored"] == summary.moved and not result["left_in_review"]
    assert _digests(photos) == before


def test_review_list_csv_and_json(tmp_path: Path, report) -> None:
    with open(write_review_list(report, tmp_path / "review.csv"), newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len([r for r in rows if r["section"] == "duplicate"]) == sum(len(g.members) for g in report.groups)
    assert json.loads((write_review_list(report, tmp_path / "review.json")).read_text())["threshold"] == \
        report.threshold


def test_choose_picks_the_lowest_threshold_meeting_the_precision() -> None:
    scored = [Scored("p", "jpeg q90", True, s, 0.9, 0.0) for s in (0.95, 0.9, 0.85, 0.65)]
    scored += [Scored("p", "library look-alike", False, s, 0.9, 0.0) for s in (0.7, 0.66)]
    calibration = choose(scored, target_precision=0.99)
    assert calibration.settings.threshold == pytest.approx(0.71)
    assert calibration.recall == pytest.approx(0.75) and calibration.precision == 1.0
    easy = choose([s for s in scored if s.same], target_precision=0.99)  # no look-alikes at all
    assert easy.settings.threshold == DEFAULT_THRESHOLD  # a sample never lowers the default


def test_dupes_cli_json_shape_and_stored_threshold(pairs_index: Path, photo_search: PhotoSearch) -> None:
    done = photo_search("dupes", "--index", str(pairs_index), "--json", "--threshold", "0.8")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["threshold"] == 0.8 and result["groups"]
    for group in result["groups"]:
        assert set(group) >= {"keep", "members"}
        assert all(set(m) == {"path", "score", "kind"} and m["kind"] in ("exact", "near") for m in group["members"])
    with PhotoIndex.open(pairs_index) as index:
        index.set_stage_state(CALIBRATION, {"threshold": 0.9})
        assert Settings.of_index(index).threshold == 0.9
    stored = json.loads(photo_search("dupes", "--index", str(pairs_index), "--json").stdout)
    assert stored["threshold"] == 0.9
    bad = photo_search("dupes", "--index", str(pairs_index), "--threshold", "3")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_calibration_on_the_library_is_stored_and_used(tmp_path: Path, pairs_index: Path) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(pairs_index, index_dir)
    with PhotoIndex.open(index_dir) as index:
        calibration = calibrate(index, load_model("efficientnet-lite0"), sample=3, seed=1)
        assert set(calibration.recall_by_edit) == set(EDITS) and calibration.sample == 3
        assert calibration.settings.threshold >= DEFAULT_THRESHOLD
        assert calibration.precision >= 0.99 and calibration.recall >= 0.9
        assert Settings.of_index(index) == calibration.settings
        assert find_duplicates(index).threshold == calibration.settings.threshold


def test_exact_copies_found_when_the_photo_folder_is_unreachable(tmp_path: Path, pairs_index: Path, report) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(pairs_index, index_dir)
    with PhotoIndex.open(index_dir) as index:
        with index.transaction() as db:
            index.set_config(db, photos_root=str(tmp_path / "unplugged-drive"))
        offline = find_duplicates(index)
    exact = {m.path for g in report.groups for m in g.members if m.kind == "exact"}
    assert exact and exact == {m.path for g in offline.groups for m in g.members if m.kind == "exact"}


@pytest.fixture(scope="module")
def exif_free_report(tmp_path_factory: pytest.TempPathFactory, photos: Path):
    """The look-alike set of `lookalikes`, metadata dropped, indexed and searched for copies."""
    from lookalikes import ALL, write_exif_free

    root = tmp_path_factory.mktemp("lookalikes") / "photos"
    write_exif_free(photos, root)
    index_dir = root.parent / "index"
    update_index(root, index_dir, embedder=load_model("efficientnet-lite0"))
    with PhotoIndex.open(index_dir) as index:
        assert {row.date_source for row in index.photo_rows()} == {"mtime"}, "EXIF was not dropped"
        assert len(index.photo_rows()) == len(ALL)
        return find_duplicates(index)


def test_look_alikes_without_exif_are_not_copies(exif_free_report) -> None:
    """Street views a step apart, bursts, re-takes, a stereo pair and same-pose objects: with no
    camera time to go by, the homography and the originals' fine detail must still tell them apart."""
    from lookalikes import HDR, same_photo

    reported = [(g.keep, m.path) for g in exif_free_report.groups for m in g.members]
    wrong = [pair for pair in reported if not same_photo(*pair) and not set(pair) <= set(HDR)]
    assert not wrong


def test_a_burst_without_exif_is_similar_not_near(exif_free_report) -> None:
    similar = {frozenset((g.keep, m.path)) for g in exif_free_report.similar for m in g.members}
    assert frozenset(("retrieval/full_resolution/holidays_100000.jpg",
                      "retrieval/full_resolution/holidays_100001.jpg")) in similar
