"""The course without make: `python -m helpers.course run` executes chapters into outputs/ (Windows path)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def test_a_chapter_runs_with_python_alone() -> None:
    page = PROJECT / "outputs" / "00_setup.html"
    page.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-m", "helpers.course", "run", "00"], check=False, cwd=PROJECT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert page.exists() and "Chapter 0" in page.read_text(encoding="utf-8")
    assert (PROJECT / "outputs" / "00_setup.ipynb").exists()


def test_an_unknown_chapter_is_one_line() -> None:
    done = subprocess.run([sys.executable, "-m", "helpers.course", "run", "99"], check=False, cwd=PROJECT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "00_setup" in done.stderr
