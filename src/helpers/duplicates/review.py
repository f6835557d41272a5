"""What a person does with found duplicates: a review list to read, and (only when asked) moving
the copies out of the photo folder into a review folder, with a manifest that undoes it.

Nothing is ever deleted. The manifest is rewritten atomically after every single move, so
even an interrupted move can be undone file by file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import BadInput
from .finder import DupesReport

MANIFEST = "photo-search-moves.json"


def review_rows(report: DupesReport) -> list[dict[str, Any]]:
    """One row per suggested copy: what to keep, why, and how sure (duplicates, then similar)."""
    rows = []
    for section, groups in (("duplicate", report.groups), ("similar", report.similar)):
        for number, group in enumerate(groups, start=1):
            rows += [{"section": section, "group": number, "keep": group.keep, "reason": group.reason,
                      "path": member.path, "kind": member.kind, "score": member.score} for member in group.members]
    return rows


def write_review_list(report: DupesReport, out: str | os.PathLike[str]) -> Path:
    """The review list as CSV (by the .csv suffix) or JSON (anything else)."""
    out = Path(out)
    if out.suffix.lower() == ".csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["section", "group", "keep", "reason", "path", "kind", "score"])
        writer.writeheader()
        writer.writerows(review_rows(report))
        _write_atomically(out, buffer.getvalue())
    else:
        _write_atomically(out, json.dumps(report.as_dict(), indent=2))
    return out


@dataclass(frozen=True)
class MoveSummary:
    moved: int
    manifest: Path
    review_dir: Path

    def as_dict(self) -> dict[str, Any]:
        return {"moved": self.moved, "manifest": str(self.manifest), "review_dir": str(self.review_dir)}


def move_copies(report: DupesReport, photos_root: Path, review_dir: str | os.PathLike[str]) -> MoveSummary:
    """Move every suggested copy (exact and near members, never a keeper, never a similar photo)
    from the photo folder into `review_dir`, keeping relative paths; record each move."""
    photos_root, review_dir = photos_root.resolve(), Path(review_dir).resolve()
    if review_dir == photos_root or photos_root in review_dir.parents:
        raise BadInput("the review folder must be outside the photo folder (it would be indexed again)")
    review_dir.mkdir(parents=True, exist_ok=True)
    manifest = review_dir / MANIFEST
    moves: list[dict[str, str]] = _read_manifest(manifest)["moves"] if manifest.exists() else []
    started = len(moves)
    for group in report.groups:
        for member in group.members:
            source, target = photos_root / member.path, review_dir / member.path
            if not source.is_file() or target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            moves.append({"from": str(source), "to": str(target), "keep": str(photos_root / group.keep)})
            _save_manifest(manifest, moves)  # written before the move: an interruption can still be undone
            shutil.move(source, target)
    return MoveSummary(len(moves) - started, manifest, review_dir)


def undo_moves(manifest: str | os.PathLike[str]) -> dict[str, Any]:
    """Put every moved file back where it was. A file whose old place is taken again stays in
    the review folder and is reported; nothing is overwritten."""
    manifest = Path(manifest)
    if manifest.is_dir():
        manifest = manifest / MANIFEST
    moves = _read_manifest(manifest)["moves"]
    restored, left = 0, []
    remaining = []
    for move in moves:
        source, target = Path(move["to"]), Path(move["from"])
        if not source.exists():
            continue  # never moved (interrupted just before) or already restored
        if target.exists():
            left.append(str(source))
            remaining.append(move)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, target)
        restored += 1
    _save_manifest(manifest, remaining)
    return {"restored": restored, "left_in_review": left, "manifest": str(manifest)}


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise BadInput(f"no move manifest at {path}") from None
    except ValueError as error:
        raise BadInput(f"{path} is not a photo-search move manifest ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("moves"), list):
        raise BadInput(f"{path} is not a photo-search move manifest (no list of moves)")
    return data


def _save_manifest(path: Path, moves: list[dict[str, str]]) -> None:
    _write_atomically(path, json.dumps({"written": datetime.now(UTC).isoformat(timespec="seconds"),
                                        "moves": moves}, indent=2))


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
