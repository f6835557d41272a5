"""Shared fixtures: the real test photos beside the project, and a freshly built practice library."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.course import practice

PROJECT = Path(__file__).resolve().parents[1]
# ONNX exports made by the tests (and the notebooks they run) stay inside the project, not ~/.cache.
os.environ.setdefault("PHOTO_SEARCH_CACHE", str(PROJECT / "data" / "cache"))


def _testdata_dir() -> Path:
    configured = os.environ.get("PHOTO_SEARCH_TESTDATA")
    return Path(configured) if configured else PROJECT.parent / "shared" / "photos"


PhotoSearch = Callable[..., "subprocess.CompletedProcess[str]"]


def _run_photo_search(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "helpers", *args], capture_output=True, text=True, timeout=300,
                          check=False)


@pytest.fixture(scope="session")
def photo_search() -> PhotoSearch:
    """The command line as a person runs it: a new process, its exit code, stdout and stderr."""
    return _run_photo_search


@pytest.fixture(scope="session")
def photos() -> Path:
    """`../shared/photos`: real photos with ground truth. Absent in a user's fresh clone (skip);
    absent in CI is a failure, because then the quality and robustness tests would not run."""
    root = _testdata_dir()
    if not (root / "messy").is_dir():
        message = f"real test photos not found at {root} (set PHOTO_SEARCH_TESTDATA)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return root


@pytest.fixture(scope="session")
def messy(photos: Path) -> Path:
    return photos / "messy"


@pytest.fixture(scope="session")
def practice_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return practice.build(tmp_path_factory.mktemp("practice") / "library")


@pytest.fixture(scope="session")
def practice_loads(practice_library: Path) -> int:
    """How many files of the practice library are photos that load (the rest are broken on purpose)."""
    return sum(item.expected == "loads" for item in practice.manifest(practice_library))
