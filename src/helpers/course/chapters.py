"""What every chapter starts with: where the photos, the index and the outputs are, and which model.

Each chapter's parameters cell calls `setup()` once. Your own folder and model come from the
arguments, or from the environment (PHOTOS, INDEX, PHOTO_SEARCH_MODEL: `PHOTOS=~/Pictures make run`),
else the practice library, built on first use. Photos are only ever read.

`python -m helpers.course run [CHAPTER ...]` executes chapters into outputs/ with Python alone;
`python -m helpers.course exercises` writes copies of them whose solutions are blanked.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BadInput, PhotoSearchError
from . import practice

COURSE_MODEL = "course-model.txt"  # in outputs/: the model the chapters found usable (delete it to try again)


@dataclass(frozen=True)
class Chapter:
    project: Path  # the course folder (notebooks/ is inside it)
    photos: Path
    index: Path
    outputs: Path  # previews and reports go here, never into the photo folder
    model: str  # chosen, or the index's, or CLIP (the offline model where CLIP cannot be downloaded)

    @property
    def practice(self) -> bool:
        """Whether the chapter runs on the practice library (whose ground truth it can check)."""
        return self.photos == self.project / "data" / "practice_library"

    @property
    def practice_groups(self) -> Path:
        return self.project / "data" / "practice_library.groups.csv"

    @property
    def practice_captions(self) -> Path:
        return self.project / "data" / "practice_library.captions.csv"


def setup(photos: str | os.PathLike[str] | None = None, *, index: str | os.PathLike[str] | None = None,
          model: str | None = None) -> Chapter:
    """The chapter's settings: arguments first, then the environment, then the practice library."""
    here = Path.cwd()
    project = here.parent if here.name in ("notebooks", "exercises") else here  # chapters or their workbook
    index_path = Path(index or os.environ.get("INDEX") or project / "data" / "index").expanduser()
    chapter = Chapter(
        project=project,
        photos=Path(photos or os.environ.get("PHOTOS") or project / "data" / "practice_library").expanduser(),
        index=index_path,
        outputs=project / "outputs",
        model=model or os.environ.get("PHOTO_SEARCH_MODEL") or _course_model(project / "outputs", index_path),
    )
    if chapter.practice:
        practice.build(chapter.photos)
    return chapter


def _course_model(outputs: Path, index: Path) -> str:
    """The model the chapters run when none was chosen: the index's, once it exists; before that,
    the one the first chapter found usable (CLIP, or the offline model when CLIP cannot be
    downloaded), remembered in outputs/, so the download is tried once and not in every chapter."""
    from ..index import DB_NAME, PhotoIndex
    from ..models import load_model

    if (index / DB_NAME).is_file():
        with PhotoIndex.open(index) as existing:
            indexed = existing.config().model_id
        if indexed:
            return str(indexed)
    remembered = outputs / COURSE_MODEL
    if remembered.is_file():
        return remembered.read_text(encoding="utf-8").strip()
    name = load_model(None).id
    outputs.mkdir(parents=True, exist_ok=True)
    remembered.write_text(name + "\n", encoding="utf-8")
    return name


def run_chapters(project: Path, names: list[str] | None = None, *, timeout: int = 1200) -> list[Path]:
    """Execute the chapters (all, or those whose names start with one of `names`) top to bottom, as
    a learner would, into outputs/: the executed notebook and its HTML page. What `make run` does,
    with Python alone, so it works where there is no `make` (Windows)."""
    import nbformat

    from .pages import offline_page

    notebooks = sorted((project / "notebooks").glob("*.ipynb"))  # the chapters, then the app page
    chosen = [path for path in notebooks if not names or any(path.stem.startswith(name) for name in names)]
    if not chosen:
        raise BadInput(f"no chapter starts with {', '.join(names or [])}; the chapters are "
                       f"{', '.join(path.stem for path in notebooks)}")
    outputs = project / "outputs"
    outputs.mkdir(exist_ok=True)
    pages = []
    for path in chosen:
        started = time.perf_counter()
        notebook = nbformat.read(path, as_version=4)
        _execute(notebook, path.parent, timeout)
        nbformat.write(notebook, outputs / path.name)
        page = outputs / f"{path.stem}.html"
        page.write_text(offline_page(notebook), encoding="utf-8")  # complete offline: no other host
        print(f"{path.stem}: {page} ({time.perf_counter() - started:.0f} s)", flush=True)
        pages.append(page)
    return pages


def _execute(notebook: Any, folder: Path, timeout: int) -> None:
    """Run a notebook in a fresh kernel that talks to us over local sockets (IPC) in a private
    folder: no network port, and no "running over TCP without encryption" warning on the screen."""
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory(prefix="photo-search-kernel-") as sockets:
        kernel = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sockets) / "kernel"))
        try:
            NotebookClient(notebook, km=kernel, timeout=timeout,
                           resources={"metadata": {"path": str(folder)}}).execute()
        finally:
            if kernel.has_kernel:
                kernel.shutdown_kernel(now=True)


# A "Your turn" cell holds its solution between these lines; the exercise copies blank it out.
SOLUTION = re.compile(r"^( *)### BEGIN SOLUTION\n.*?^ *### END SOLUTION\n?", re.MULTILINE | re.DOTALL)
BLANK = '\\1raise NotImplementedError("your turn: write this part")\n'


class NotYet(AssertionError):
    """An exercise or a quiz not solved yet. In a notebook it shows as one line of words, not a
    traceback (IPython prints what `_render_traceback_` returns); the chapter still stops there."""

    def __init__(self, hint: str) -> None:
        super().__init__(f"not yet: {hint}")

    def _render_traceback_(self) -> list[str]:
        return [str(self)]


def check(passed: bool, praise: str, hint: str) -> None:
    """An exercise's verdict, in words: praise when it is right, a hint (NotYet) when not."""
    if not passed:
        raise NotYet(hint)
    print(f"well done: {praise}")


def write_exercises(project: Path) -> list[Path]:
    """Copies of the chapters in exercises/, each solution replaced by a line that asks for it and
    every output cleared: the workbook to fill in (the chapters themselves keep the solutions, so
    the tests run them)."""
    import nbformat

    folder = project / "exercises"
    folder.mkdir(exist_ok=True)
    written = []
    for path in sorted((project / "notebooks").glob("[0-9]*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.source = SOLUTION.sub(BLANK, cell.source)
                cell.outputs, cell.execution_count = [], None
        nbformat.write(notebook, folder / path.name)
        written.append(folder / path.name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.course",
                                     description="Run the course's chapters without make: "
                                                 "`python -m helpers.course run [CHAPTER ...]`.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="execute chapters into outputs/ (executed notebooks and HTML)")
    run.add_argument("chapters", nargs="*", help="name beginnings, e.g. 00 05_duplicates (default: all)")
    run.add_argument("--timeout", type=int, default=1200, help="seconds a cell may take (default: 1200)")
    commands.add_parser("exercises", help="write exercises/: the chapters with their solutions blanked")
    args = parser.parse_args(argv)
    checkout = Path(__file__).resolve().parents[3]  # src/helpers/course/chapters.py in the course folder
    project = checkout if (checkout / "notebooks").is_dir() else Path.cwd()
    try:
        if args.command == "exercises":
            copies = write_exercises(project)
            print(f"{len(copies)} chapters with blank exercises in {project / 'exercises'}")
        else:
            run_chapters(project, args.chapters, timeout=args.timeout)
    except PhotoSearchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0

