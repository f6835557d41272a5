"""Words inside photos: the words stage reads real photos and screenshots offline, and `--words`,
`--text` and `--has-text` find them by what they say; the matching forgives reading mistakes."""

from __future__ import annotations

import csv
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from helpers.index import DB_NAME, PhotoIndex
from helpers.indexer import update_index
from helpers.models import load_model
from helpers.search import Filters, Library, Term
from helpers.stages.runner import StageContext
from helpers.stages.words import NAME, WordsStage, lines_of
from helpers.words import PhotoText, normalise

if TYPE_CHECKING:
    from conftest import PhotoSearch

NOWHERE = ("purple elephant", "boarding pass", "xylophone quartet", "wifi password")


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, photos: Path) -> tuple[Path, Path]:
    """The text kit's photos beside pizzas that say nothing and two GPS photos, indexed offline."""
    root = tmp_path_factory.mktemp("words")
    shutil.copytree(photos / "text_in_photos" / "images", root / "photos" / "kit")
    (root / "photos" / "pizza").mkdir()
    for photo in sorted((photos / "retrieval" / "caltech101" / "pizza").iterdir())[:5]:
        shutil.copy2(photo, root / "photos" / "pizza" / photo.name)
    (root / "photos" / "arezzo").mkdir()
    for name in ("DSCN0010.jpg", "DSCN0042.jpg"):
        shutil.copy2(photos / "messy" / "gps" / name, root / "photos" / "arezzo" / name)
    update_index(root / "photos", root / "index", embedder=load_model("efficientnet-lite0"))
    return root / "photos", root / "index"


def _queries(photos: Path) -> list[tuple[str, list[str]]]:
    with open(photos / "text_in_photos" / "queries.csv", newline="", encoding="utf-8") as handle:
        return [(row["query"], ["kit/" + Path(path).name for path in row["relevant_paths"].split(";")])
                for row in csv.DictReader(handle)]


def _wide(text: str) -> bool:
    return any(unicodedata.east_asian_width(char) in ("W", "F") for char in text)


def test_the_kit_is_found_by_its_words(library: tuple[Path, Path], photos: Path) -> None:
    """recall@5 of every query of the kit: >= 0.90 for Latin script, >= 0.80 for Chinese."""
    recall: dict[bool, list[float]] = {False: [], True: []}
    with PhotoIndex.open(library[1]) as index:
        searcher = Library(index)
        for query, relevant in _queries(photos):
            found = [result.photo.path for result in searcher.search([Term("words", query)], k=5).results]
            recall[_wide(query)].append(sum(path in found for path in relevant) / len(relevant))
    assert recall[True], "the kit has Chinese queries"
    assert sum(recall[False]) / len(recall[False]) >= 0.90, recall[False]
    assert sum(recall[True]) / len(recall[True]) >= 0.80, recall[True]


def test_words_no_photo_holds_find_nothing(library: tuple[Path, Path]) -> None:
    with PhotoIndex.open(library[1]) as index:
        searcher = Library(index)
        for query in NOWHERE:
            outcome = searcher.search([Term("words", query)])
            assert outcome.results == [] and "no photo's words match" in outcome.notes[0], query


def test_a_text_query_finds_a_photo_by_its_words(library: tuple[Path, Path]) -> None:
    """"pizza" with the offline model: the pizzas by their looks, and the receipt that says
    "Pepperoni Pizza", which looks nothing like one, among the first five by its words."""
    with PhotoIndex.open(library[1]) as index:
        searcher = Library(index)
        results = searcher.search("pizza", k=5, min_score=0).results
        paths = [result.photo.path for result in results]
        assert "kit/td_006.jpg" in paths, paths
        assert sum(path.startswith("pizza/") for path in paths) >= 3, paths
        receipt = results[paths.index("kit/td_006.jpg")]
        assert "Pizza" in receipt.words


def test_text_the_model_cannot_read_is_answered_by_the_words(library: tuple[Path, Path],
                                                             photo_search: PhotoSearch) -> None:
    done = photo_search("search", "--index", str(library[1]), "--text", "musée du louvre", "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["results"][0]["path"] == "kit/td_002.jpg"
    assert "LOUVRE" in answer["results"][0]["words"] and "Musée" in answer["results"][0]["words"]
    assert "only the words inside photos" in answer["note"]
    nothing = photo_search("search", "--index", str(library[1]), "--text", "purple elephant")
    assert nothing.returncode == 2 and nothing.stderr.count("\n") == 1
    assert "no photo's words match it" in nothing.stderr


def test_has_text_and_no_text_split_the_library(library: tuple[Path, Path], photo_search: PhotoSearch) -> None:
    def listed(flag: str) -> set[str]:
        done = photo_search("search", "--index", str(library[1]), flag, "-k", "100", "--json", "--no-collapse")
        assert done.returncode == 0, done.stderr
        return {result["path"] for result in json.loads(done.stdout)["results"]}

    with_text, without = listed("--has-text"), listed("--no-text")
    assert not with_text & without
    assert len({path for path in with_text if path.startswith("kit/")}) >= 25  # of 27, each with words
    assert len(with_text | without) == 34  # every photo in one list or the other
    assert len([path for path in without if path.startswith("pizza/")]) >= 4  # one has a Coca-Cola can in it
    report = json.loads(photo_search("report", "--index", str(library[1]), "--json").stdout)
    assert report["with_words"] == len(with_text)


def test_words_filter_another_query(library: tuple[Path, Path]) -> None:
    """--words beside an example photo keeps only the photos that say it."""
    with PhotoIndex.open(library[1]) as index:
        searcher = Library(index)
        query = [Term("path", str(library[0] / "kit" / "td_025.jpg")), Term("words", "thank you")]
        paths = {result.photo.path for result in searcher.search(query, k=10, min_score=0).results}
    assert paths == {"kit/td_007.jpg", "kit/td_026.jpg", "kit/td_027.jpg"}  # td_025 is the query itself


def test_lines_are_kept_as_read_with_their_confidence(library: tuple[Path, Path]) -> None:
    with PhotoIndex.open(library[1]) as index:
        photo = index.find_by_path("kit/td_001.jpg")
        assert photo is not None
        lines = lines_of(index, photo.id)
    assert any(line.text == "愚园路" for line in lines)
    assert all(0.5 <= line.confidence <= 1 for line in lines)


def test_the_words_stage_resumes_after_kill_9(library: tuple[Path, Path], tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(library[1], index_dir)
    with PhotoIndex.open(index_dir) as index:
        expected = index.db.execute("SELECT photo_id, text FROM photo_words ORDER BY photo_id").fetchall()
        with index.transaction() as db:  # as if the stage had never run
            db.execute("DELETE FROM photo_words")
            index.forget_stage(db, NAME)
        total = index.count()
    code = ("import sys; from helpers.stages import words; words.BATCH = 2; from helpers.index import PhotoIndex; "
            "from helpers.stages.runner import StageContext; "
            "words.WordsStage().run(PhotoIndex.open(sys.argv[1]), StageContext(model=lambda: None))")
    run = subprocess.Popen([sys.executable, "-c", code, str(index_dir)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _done(index_dir) < 6 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert run.poll() is None, "the stage ended before it could be killed"
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert 6 <= _done(index_dir) < total
    with PhotoIndex.open(index_dir) as index:
        left = len(index.pending(NAME, WordsStage.version))
        assert 0 < left < total - 5
        WordsStage().run(index, StageContext(model=lambda: load_model("efficientnet-lite0")))
        assert not index.pending(NAME, WordsStage.version)
        assert index.db.execute("SELECT photo_id, text FROM photo_words ORDER BY photo_id").fetchall() == expected
        assert index.db.execute("SELECT count(*) FROM words_fts WHERE words_fts MATCH '\"louvre\"'").fetchone()[0] == 1


def _done(index_dir: Path) -> int:
    with sqlite3.connect(index_dir / DB_NAME, timeout=10) as db:
        return db.execute("SELECT count(*) FROM stage_done WHERE stage = ?", (NAME,)).fetchone()[0]


def test_filters_apply_to_word_searches(library: tuple[Path, Path]) -> None:
    with PhotoIndex.open(library[1]) as index:
        searcher = Library(index)
        assert searcher.search([Term("words", "thank you")], filters=Filters(folder="pizza")).results == []


# --- matching, letter by letter ---------------------------------------------------------------

def test_accents_case_and_punctuation_are_ignored() -> None:
    assert normalise("Théâtre du PALAIS-ROYAL!") == "theatre du palais royal"
    assert PhotoText(["Musée du LOUVRE"]).match("musee louvre") is not None
    assert PhotoText(["Musee du Louvre"]).match("Musée") is not None


def test_reading_mistakes_are_forgiven_in_long_words_only() -> None:
    sign = PhotoText(["Genexis Theatre", "Carpark"])
    match = sign.match("genaxis theatre")
    assert match is not None and match.words == ("Genexis", "Theatre") and match.score < 1
    assert PhotoText(["AVOCADD COFFEE"]).match("avocado coffee") is not None
    assert PhotoText(["PAT"]).match("pay") is None  # three letters: exact or nothing
    assert PhotoText(["STAY MAIN"]).match("star") is None  # four letters too
    assert PhotoText(["jubilant"]).match("jubilee") is None  # a mistake must cover a whole word


def test_a_word_is_found_inside_a_longer_one() -> None:
    match = PhotoText(["starMEX", "Air-Conditioner"]).match("star")
    assert match is not None and match.words == ("starMEX",)


def test_more_than_half_of_the_query_must_be_found() -> None:
    receipt = PhotoText(["THANK YOU FOR SHOPPING"])
    assert receipt.match("thank you") is not None
    assert PhotoText(["think, said he"]).match("thank you") is None  # one word, nearly: not half
    assert receipt.match("shopping mall opening hours") is None


def test_chinese_words_match_exactly_or_nearly() -> None:
    sign = PhotoText(["西", "愚园路", "东"])
    assert sign.match("愚园路") is not None
    assert sign.match("愚园") is not None
    assert PhotoText(["正品促销"]).match("正品促销") is not None
    assert PhotoText(["正品保证"]).match("正品促销") is None


def test_the_gallery_highlights_the_words_that_matched(library: tuple[Path, Path], photo_search: PhotoSearch,
                                                       tmp_path: Path) -> None:
    page = tmp_path / "louvre.html"
    done = photo_search("gallery", "--index", str(library[1]), "--text", "louvre", "--out", str(page))
    assert done.returncode == 0, done.stderr
    assert "says: <mark>LOUVRE</mark>" in page.read_text(encoding="utf-8")
