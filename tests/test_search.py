"""Search: by photo, bytes, text and mixes; filters; exclusion of the query; re-ranking quality."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from helpers.errors import BadInput, NoTextEncoder
from helpers.evaluate import evaluate_image_queries, read_groups
from helpers.indexer import update_index
from helpers.models import load_model
from helpers.search import Filters, Library, Term, parse_query


@pytest.fixture(scope="module")
def efficientnet():
    return load_model("efficientnet-lite0")


@pytest.fixture(scope="module")
def library_dir(tmp_path_factory: pytest.TempPathFactory, practice_library: Path) -> Path:
    copy = tmp_path_factory.mktemp("search") / "photos"
    shutil.copytree(practice_library, copy)
    shutil.copy(copy / BIKE, copy / "Downloads/bike exact copy.jpg")
    return copy


@pytest.fixture(scope="module")
def library(library_dir: Path, efficientnet) -> Library:
    index_dir = library_dir.parent / "index"
    update_index(library_dir, index_dir, embedder=efficientnet)
    return Library.open(index_dir, efficientnet)


def _paths(outcome) -> list[str]:
    return [result.photo.path for result in outcome.results]


BIKE = "2024/Camera Roll/IMG_5021.jpg"  # a photo shared and edited three times
BIKE_COPIES = {"Downloads/IMG_5021.webp", "2024/Camera Roll/edited/IMG_5021 rotated.jpg",
               "From WhatsApp/IMG-20240315-WA0001.jpg"}


def test_image_query_finds_the_edited_copies_and_not_itself(library: Library, library_dir: Path) -> None:
    outcome = library.search(Term("path", library_dir / BIKE), k=3, collapse=False)
    assert set(_paths(outcome)) == BIKE_COPIES
    # Neither the query nor its byte-identical copy is a result.
    assert not {BIKE, "Downloads/bike exact copy.jpg"} & set(_paths(library.search(
        Term("path", library_dir / BIKE), k=30, collapse=False)))


def test_the_copies_of_a_photo_share_one_result(library: Library, library_dir: Path) -> None:
    """Folded (the default): the query photo's own edited copies are one result, the best-scoring
    copy standing for the others; the query and its byte-identical copy are still left out."""
    first = library.search(Term("path", library_dir / BIKE), k=3).results[0]
    folded = {first.photo.path} | {item["path"] for item in first.also}
    assert folded == BIKE_COPIES and {item["kind"] for item in first.also} == {"near"}
    # The burst and the photo it was shot around (seconds apart, by EXIF): one result, not five.
    burst = library.search(Term("path", library_dir / "2024/Camera Roll/burst/IMG_5403.jpg"), k=10, min_score=0)
    shown = [{r.photo.path} | {a["path"] for a in r.also} for r in burst.results]
    skateboard = [paths for paths in shown if any("IMG_5042" in path or "burst/" in path for path in paths)]
    assert skateboard[0] == {"2024/Camera Roll/IMG_5042.jpg"} | {f"2024/Camera Roll/burst/IMG_{n}.jpg"
                                                                for n in (5401, 5402, 5405)}
    assert skateboard[1:] in ([], [{"2024/Camera Roll/burst/IMG_5404.jpg"}])  # the shaky frame: its own
    assert {a["kind"] for a in burst.results[0].also} == {"similar"}


def test_query_from_outside_the_library_and_from_bytes(library: Library, messy: Path, photos: Path) -> None:
    outside = photos / "retrieval/scenes/opensfm_lund/10.jpg"  # not in the library: decoded and embedded
    by_path = library.search(Term("path", outside), k=5)
    by_bytes = library.search(Term("bytes", outside.read_bytes()), k=5)
    assert _paths(by_path) == _paths(by_bytes)
    assert _paths(by_path)[0] in {"2014/2014-06 Lund trip/IMG_3110.jpg", "From WhatsApp/IMG-20140612-WA0002.jpg"}


def test_filters_apply_before_ranking(library: Library, library_dir: Path) -> None:
    query = Term("path", library_dir / BIKE)
    in_2014 = library.search(query, k=5, filters=Filters(folder="2014"))
    assert in_2014.results and all(path.startswith("2014/") for path in _paths(in_2014))
    dated = library.search(query, k=30, filters=Filters(since=date(2022, 1, 1), until=date(2022, 12, 31)))
    assert dated.results and all(r.photo.date_taken.startswith("2022") for r in dated.results)
    assert library.search(query, k=5, filters=Filters(camera="sony")).results
    assert not library.search(query, k=5, filters=Filters(camera="nikon")).results


def test_min_score_can_say_nothing_is_close(library: Library, library_dir: Path) -> None:
    outcome = library.search(Term("path", library_dir / "2020/2020-05 spring walk/silver fir.jpg"), k=5, min_score=0.99)
    assert outcome.results == [] and "nothing close enough" in outcome.notes[0]


def test_text_through_imagenet_labels(library: Library) -> None:
    outcome = library.search("traffic light", k=3)
    shown = [{r.photo.path} | {a["path"] for a in r.also} for r in outcome.results]
    assert {BIKE, "Downloads/bike exact copy.jpg", *BIKE_COPIES} in shown
    assert "ImageNet labels" in outcome.notes[0]
    with pytest.raises(NoTextEncoder, match="no ImageNet label"):
        library.search("xylophone quartet at dusk", k=3)


def test_combination_query(library: Library, library_dir: Path) -> None:
    terms = parse_query(f'"traffic light" + "{library_dir}/2023/2023-11 at home/DSC01067.jpg" - 0.5*"pizza"')
    assert [(t.kind, t.weight) for t in terms] == [("text", 1.0), ("path", 1.0), ("text", -0.5)]
    assert len(library.search(terms, k=4).results) == 4
    with pytest.raises(BadInput):
        parse_query("   ")


def test_diversity_spreads_a_burst(library: Library, library_dir: Path) -> None:
    query = Term("path", library_dir / "2024/Camera Roll/IMG_5042.jpg")
    plain = _paths(library.search(query, k=4, collapse=False))  # folding would hide the burst anyway
    varied = _paths(library.search(query, k=4, diversity=0.6, collapse=False))
    bursts = lambda paths: sum("burst" in path for path in paths)
    assert bursts(plain) == 4
    assert bursts(varied) < bursts(plain)


def test_text_code_path_with_tiny_clip(tmp_path: Path, practice_library: Path) -> None:
    update_index(practice_library, tmp_path / "tiny", model="tiny-clip")
    outcome = Library.open(tmp_path / "tiny").search("a cat on a sofa", k=4)
    assert len(outcome.results) == 4 and all(-1 <= r.score <= 1 for r in outcome.results)


@pytest.fixture(scope="module")
def retrieval(tmp_path_factory: pytest.TempPathFactory, photos: Path, efficientnet) -> Library:
    index_dir = tmp_path_factory.mktemp("retrieval") / "index"
    update_index(photos / "retrieval", index_dir, embedder=efficientnet)
    return Library.open(index_dir, efficientnet)


def test_reranking_beats_plain_cosine_on_real_photos(retrieval: Library, photos: Path) -> None:
    groups = read_groups(photos / "retrieval/groups.csv")
    plain = evaluate_image_queries(retrieval, groups, k=10, rerank=False)
    reranked = evaluate_image_queries(retrieval, groups, k=10)
    assert plain.queries and plain.missing == 0
    assert 0.74 <= plain.map_at_k <= 0.79  # the plain pipeline the issue quotes (about 0.76)
    assert reranked.map_at_k >= 0.80
    assert reranked.map_at_k > plain.map_at_k + 0.02
