"""The shape of the project: data flows one way (the core store knows no stage, no stage knows the
command line or the app), and the checkout holds only what belongs there."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = PROJECT / "src" / "helpers"
TOP_LEVEL = {".ci", ".gitignore", "BENCHMARKS.md", "Makefile", "README.md", "benchmarks", "data", "notebooks",
             "pyproject.toml", "requirements.txt", "src", "tests"}
# What the core store may import of the package: what a photo is, errors, and nothing above it.
CORE_ALLOWED = {"errors", "images", "records", "scan"}  # images: PhotoMetadata only
ABOVE_STAGES = {"cli", "app", "course", "gallery", "pages", "viz", "search", "evaluate", "indexer"}


def _imported_modules(path: Path) -> set[str]:
    """The package modules `path` imports (first name after `helpers.`), relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    depth = len(path.relative_to(PACKAGE).parts) - 1  # 0 for helpers/x.py, 1 for helpers/stages/x.py
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            parts = path.relative_to(PACKAGE).parts[:-1][:max(0, depth - node.level + 1)]
            names = [*parts, *(node.module.split(".") if node.module else [])]
            found.add(names[0] if names else (node.names[0].name if node.names else ""))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("helpers."):
            found.add(node.module.split(".")[1])
    return found


def test_the_core_store_imports_no_stage_and_no_feature() -> None:
    imported = _imported_modules(PACKAGE / "index.py")
    assert imported <= CORE_ALLOWED, imported - CORE_ALLOWED


def test_no_stage_imports_the_command_line_the_app_or_search() -> None:
    for path in sorted((PACKAGE / "stages").glob("*.py")) + sorted((PACKAGE / "duplicates").glob("*.py")):
        assert not _imported_modules(path) & ABOVE_STAGES, path.name


def _declaration(node: ast.stmt) -> bool:
    """A docstring, an import, or a name listing (`__all__`, `__version__`): no logic."""
    if isinstance(node, ast.Expr):
        return isinstance(node.value, ast.Constant)
    if isinstance(node, ast.Assign):
        return all(isinstance(target, ast.Name) and target.id.startswith("__") for target in node.targets)
    return isinstance(node, (ast.Import, ast.ImportFrom))


def test_package_init_files_hold_no_logic() -> None:
    for init in sorted(PACKAGE.rglob("__init__.py")):
        body = ast.parse(init.read_text(encoding="utf-8")).body
        assert all(_declaration(node) for node in body), init


def test_the_checkout_holds_only_expected_top_level_entries() -> None:
    """Stray files (a command's output, a fuzzer's file name) never get committed."""
    tracked = subprocess.run(["git", "ls-files"], cwd=PROJECT, capture_output=True, text=True, check=True).stdout
    top = {line.split("/", 1)[0] for line in tracked.splitlines() if line}
    assert top <= TOP_LEVEL, sorted(top - TOP_LEVEL)
