"""The course without make: `python -m helpers.course run` executes chapters into outputs/ (Windows path)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


def test_a_chapter_runs_with_python_alone() -> None:
    page = PROJECT / "outputs" / "00_setup.html"
    page.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-m", "helpers.course", "run", "00"], check=False, cwd=PROJECT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "without encryption" not in done.stderr and "Parent appears" not in done.stderr, done.stderr
    assert page.exists() and "Chapter 0" in page.read_text(encoding="utf-8")
    assert (PROJECT / "outputs" / "00_setup.ipynb").exists()


def test_an_unknown_chapter_is_one_line() -> None:
    done = subprocess.run([sys.executable, "-m", "helpers.course", "run", "99"], check=False, cwd=PROJECT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "00_setup" in done.stderr


CHAPTERS = sorted((PROJECT / "notebooks").glob("[0-9]*.ipynb"))


def _code(path: Path) -> list[str]:
    import nbformat

    return [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_every_chapter_ends_with_an_exercise_its_check_and_a_quiz(path: Path) -> None:
    cells = _code(path)
    solution = next(i for i, source in enumerate(cells) if "### BEGIN SOLUTION" in source)
    assert "### END SOLUTION" in cells[solution]
    assert "check(" in cells[solution + 1], "a solution without a check"
    success = max(i for i, source in enumerate(cells) if re.search(r'print\("[a-z ]+ OK"\)', source))
    assert success < solution, "the exercise comes after the chapter's own success check"
    assert f'questions("{path.stem[:2]}")' in cells[-2] and f'quiz("{path.stem[:2]}", MY_ANSWERS)' in cells[-1]


def test_every_quiz_has_five_questions_with_their_answer_among_three_options() -> None:
    from helpers.course.quiz import QUIZZES

    assert sorted(QUIZZES) == [path.stem[:2] for path in CHAPTERS]
    for questions in QUIZZES.values():
        assert len(questions) == 5
        assert all(len(set(q.options)) == 3 and q.answer in "abc" and q.why for q in questions)
    assert len({q.answer for questions in QUIZZES.values() for q in questions}) == 3  # not always "b"


def test_a_wrong_quiz_answer_is_explained_in_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    from helpers.course import NotYet
    from helpers.course.quiz import QUIZZES, quiz

    right = "".join(q.answer for q in QUIZZES["03"])
    wrong = next(letter for letter in "abc" if letter != right[0]) + right[1:]
    with pytest.raises(NotYet, match="4 of 5 right") as failed:
        quiz("03", wrong)
    assert failed.value._render_traceback_() == [str(failed.value)]  # what a notebook shows: one line
    shown = capsys.readouterr().out.splitlines()
    assert shown[0].startswith(f"1. not quite ({wrong[0]}): the answer is {right[0]}, because ")
    assert all(line.startswith(f"{n}. right") for n, line in enumerate(shown[1:], 2))
    with pytest.raises(NotYet, match="give 5 letters"):
        quiz("03", "ab")
    quiz("03", right.upper())
    assert capsys.readouterr().out.endswith("well done: all 5 right\n")


def test_make_exercises_blanks_every_solution_and_nothing_else(tmp_path: Path) -> None:
    from helpers.course import write_exercises

    (tmp_path / "notebooks").mkdir()
    for path in CHAPTERS:
        shutil.copy(path, tmp_path / "notebooks" / path.name)
    written = write_exercises(tmp_path)
    assert [path.name for path in written] == [path.name for path in CHAPTERS]
    for original, blank in zip(CHAPTERS, written, strict=True):
        before, after = _code(original), _code(blank)
        changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
        assert len(changed) == sum("### BEGIN SOLUTION" in source for source in before) >= 1
        for _, blanked in changed:
            assert "SOLUTION" not in blanked and 'raise NotImplementedError("your turn' in blanked


def test_a_blank_exercise_fails_and_the_check_says_why(tmp_path: Path) -> None:
    from helpers.course import BLANK, SOLUTION, check

    cells = _code(PROJECT / "notebooks" / "03_similarity.ipynb")
    exercise = next(source for source in cells if "def bottom_k" in source)
    blanked = SOLUTION.sub(BLANK, exercise)
    namespace: dict[str, object] = {}
    exec(blanked.replace("bottom_k(query, 3)", ""), namespace)  # noqa: S102 (the learner's empty function)
    with pytest.raises(NotImplementedError, match="your turn"):
        namespace["bottom_k"](0, 3)  # type: ignore[operator]
    with pytest.raises(AssertionError, match="not yet: sort the scores"):
        check(False, "", "sort the scores")


def test_the_exercises_command_writes_the_workbook() -> None:
    done = subprocess.run([sys.executable, "-m", "helpers.course", "exercises"], check=False, cwd=PROJECT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"{len(CHAPTERS)} chapters" in done.stdout
    assert (PROJECT / "exercises" / "03_similarity.ipynb").exists()


def test_a_blank_workbook_chapter_runs_up_to_its_exercise() -> None:
    """The workbook copy works where make exercises puts it: every cell runs until the learner's turn."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from helpers.course import write_exercises

    blank = next(path for path in write_exercises(PROJECT) if path.stem.startswith("03"))
    notebook = nbformat.read(blank, as_version=4)
    with pytest.raises(CellExecutionError, match="your turn: write this part"):
        NotebookClient(notebook, timeout=600, resources={"metadata": {"path": str(blank.parent)}}).execute()
    ran = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.get("execution_count")]
    assert any("similarity OK" in str(cell.outputs) for cell in ran), "the chapter itself ran to its success check"


def test_the_default_model_is_tried_once_for_the_whole_course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline, every chapter used to try CLIP's download again (a wait and a note each): the first
    chapter's answer is remembered in outputs/, and the index's model wins once there is an index."""
    from helpers import models
    from helpers.course import chapters
    from helpers.indexer import update_index

    tries: list[str | None] = []

    class Loaded:
        id = "efficientnet-lite0"

    monkeypatch.setattr(models, "load_model", lambda name=None: tries.append(name) or Loaded())
    monkeypatch.delenv("PHOTO_SEARCH_MODEL", raising=False)
    monkeypatch.chdir(tmp_path)
    photos = tmp_path / "photos"
    shutil.copytree(PROJECT / "data" / "practice_photos" / "library" / "2020", photos)
    first, second = chapters.setup(photos), chapters.setup(photos)
    assert first.model == second.model == "efficientnet-lite0" and tries == [None]
    assert (tmp_path / "outputs" / chapters.COURSE_MODEL).read_text().strip() == "efficientnet-lite0"
    update_index(photos, first.index, model="baseline-pixels")
    assert chapters.setup(photos).model == "baseline-pixels" and tries == [None]
