"""Build or update an index from a photo folder: only what changed is read, decoded or embedded.

A re-run compares the folder with the index using file sizes and times alone (no file is opened),
so an unchanged library of 10,000 photos is checked in a fraction of a second. Then:
new files are embedded; changed files (size or time differ, and so does the content hash) are
re-embedded; deleted files are removed; a file that moved or was renamed (same content hash)
keeps its vector. Every batch is committed as it is done, so an interrupted run resumes where it
stopped. After embedding, the stages run (`helpers.stages`: places, copy groups, the cutoff), each
to the end.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from .embedding import StageTimes, embed_records
from .errors import BadInput, ModelMismatch
from .index import SCHEMA_VERSION, KnownFile, PhotoIndex, SkippedFile
from .models import Embedder
from .models.handle import ModelHandle, chosen_model
from .options import DEFAULT_OPTIONS, IndexOptions
from .people import set_on
from .scan import FileEntry, PhotoRecord, Skipped, identify, library_root, walk
from .stages.runner import StageContext, chosen_stages, run_stages
from .workers import run_ahead


@dataclass
class UpdateSummary:
    indexed: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    moved: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    embedded: int = 0
    embed_seconds: float = 0.0
    model: str = ""
    engine: str = ""
    stages: StageTimes = field(default_factory=StageTimes)

    @property
    def images_per_second(self) -> float:
        return round(self.embedded / self.embed_seconds, 2) if self.embed_seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The `photo-search index --json` shape."""
        return {"indexed": self.indexed, "added": self.added, "updated": self.updated, "removed": self.removed,
                "moved": self.moved, "skipped": [item.as_dict() for item in self.skipped],
                "seconds": round(self.seconds, 3), "images_per_second": self.images_per_second,
                "model": self.model, "engine": self.engine, "stages": self.stages.as_dict()}


@dataclass
class _Changes:
    """How the folder differs from the index, from stat data alone."""

    fresh: list[FileEntry] = field(default_factory=list)
    changed: list[tuple[FileEntry, KnownFile]] = field(default_factory=list)
    gone: dict[str, KnownFile] = field(default_factory=dict)
    walk_problems: list[Skipped] = field(default_factory=list)


@dataclass
class _Plan:
    """What a run has to do, worked out from stat data and (for new or changed files) hashes."""

    to_embed: list[PhotoRecord] = field(default_factory=list)
    new_paths: set[str] = field(default_factory=set)
    moves: list[tuple[int, PhotoRecord]] = field(default_factory=list)
    touches: list[tuple[int, FileEntry]] = field(default_factory=list)
    unusable: list[SkippedFile] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)


def update_index(photos_dir: str | os.PathLike[str], index_dir: str | os.PathLike[str],
                 options: IndexOptions = DEFAULT_OPTIONS, *, embedder: Embedder | None = None,
                 progress: bool = False, **settings: Any) -> UpdateSummary:
    """Bring the index at `index_dir` up to date with `photos_dir` (created if missing).

    `settings` override fields of `options` (`update_index(photos, index, model="clip")`);
    `embedder` hands over a model already loaded.
    """
    options = replace(options, **settings)
    stages = chosen_stages(options.stages)
    started = time.perf_counter()
    root = library_root(photos_dir)
    index_path = _check_index_location(root, index_dir)
    summary = UpdateSummary()
    with PhotoIndex.open(index_path, create=True) as index, index.writer():
        name = _settle_model(index, root, embedder.id if embedder else options.model, options.reembed)
        if options.faces:
            set_on(index, True)
        with ModelHandle(name, options.engine, embedder) as model:
            changes = _compare(root, index)
            if len(changes.fresh) > len(changes.gone):  # some photo is certainly new, not just moved
                model.start()
            started_hashing = time.perf_counter()
            plan = _plan(root, changes, options.threads)
            summary.stages.add("hash", started_hashing)
            _apply(index, plan)
            if plan.to_embed:
                _embed(index, root, plan, model, options, summary, progress)
                summary.engine = model.engine
            if not root.is_dir():
                raise BadInput(f"the photo folder {root} went away during indexing (unplugged?); the photos "
                               "indexed so far are kept, and the next run resumes")
            context = StageContext(model.get, progress, release_model=model.release)
            for stage, seconds in run_stages(index, context, stages).items():
                summary.stages.seconds[stage] = seconds
        summary.model = index.model_id or ""
        summary.removed = len(plan.removed)
        summary.moved = len(plan.moves)
        summary.indexed = index.count("indexed")
        summary.skipped = sorted(index.skipped() + changes.walk_problems, key=lambda item: item.path)
    summary.seconds = time.perf_counter() - started
    return summary


def _embed(index: PhotoIndex, root: Path, plan: _Plan, model: ModelHandle, options: IndexOptions,
           summary: UpdateSummary, progress: bool) -> None:
    """Decode and embed what the plan says, committing batch by batch."""
    embed_started = time.perf_counter()
    index.note_progress(f"embedding 0 of {len(plan.to_embed)} photos")
    for batch in embed_records(root, plan.to_embed, model, options, decode_side=model.side,
                               total=len(plan.to_embed), progress=progress, times=summary.stages):
        if summary.embedded == 0:
            _adopt_model(index, model.get(), root)
        writing = time.perf_counter()
        index.write_batch(batch)
        summary.stages.add("write", writing)
        summary.embedded += len(batch.embedded)
        summary.added += sum(item.record.rel_path in plan.new_paths for item in batch.embedded)
        index.note_progress(f"embedding {summary.embedded} of {len(plan.to_embed)} photos")
    summary.updated = summary.embedded - summary.added
    summary.embed_seconds = time.perf_counter() - embed_started


def _apply(index: PhotoIndex, plan: _Plan) -> None:
    """Everything that needs no model, committed together: removals, moves, touches, unusable files."""
    if plan.removed or plan.moves or plan.touches or plan.unusable:
        index.update_files(
            removed=plan.removed,
            moved=[(photo_id, record.rel_path, record.size, record.mtime_ns) for photo_id, record in plan.moves],
            touched=[(photo_id, entry.size, entry.mtime_ns) for photo_id, entry in plan.touches],
            unusable=plan.unusable)


def _check_index_location(root: Path, index_dir: str | os.PathLike[str]) -> Path:
    index_path = Path(index_dir).expanduser().resolve()
    if index_path == root or root in index_path.parents:
        raise BadInput(f"the index folder {index_path} is inside the photo folder {root}; put it elsewhere "
                       "(photo-search never writes into your photo folder)")
    return index_path


def _settle_model(index: PhotoIndex, root: Path, explicit: str | None, reembed: bool) -> str | None:
    """Which model this run embeds with (`chosen_model`): the index's own, unless --model or
    --reembed asks for a switch (then every old vector goes first, so vectors of two models never
    mix). None means the default."""
    current = index.model_id
    if current is not None and explicit not in (None, current) and not reembed:
        raise ModelMismatch(current, explicit)
    name = chosen_model(explicit, current, switching=reembed)
    if current is not None and reembed:
        index.clear()
    elif index.photos_root not in (None, root):
        index.set_config(photos_root=str(root))  # the library moved; relative paths still hold
    return name


def _adopt_model(index: PhotoIndex, embedder: Embedder, root: Path) -> None:
    """Record the loaded model in a new (or cleared) index, or check an existing one still matches."""
    stored = index.config()
    if stored.model_id is None:
        index.set_config(**embedder.describe(), photos_root=str(root), format_version=SCHEMA_VERSION,
                         created=time.strftime("%Y-%m-%dT%H:%M:%S"))
    elif stored.fingerprint != embedder.fingerprint or stored.model_id != embedder.id:
        raise ModelMismatch(f"{stored.model_id} (weights {stored.fingerprint})",
                            f"{embedder.id} (weights {embedder.fingerprint})")


def _compare(root: Path, index: PhotoIndex) -> _Changes:
    """Walk the folder and compare with the index using stat data only: nothing is opened."""
    changes = _Changes()
    known = index.known_files()
    seen: set[str] = set()
    for item in walk(root):
        if isinstance(item, Skipped):
            changes.walk_problems.append(item)
            continue
        seen.add(item.rel_path)
        before = known.get(item.rel_path)
        if before is None:
            changes.fresh.append(item)
        elif (before.size, before.mtime_ns) != (item.size, item.mtime_ns):
            changes.changed.append((item, before))
    changes.gone = {path: known[path] for path in known.keys() - seen}
    return changes


def _plan(root: Path, changes: _Changes, workers: int) -> _Plan:
    """Hash what changed (in parallel: hashing releases the GIL) and decide what each file needs."""
    plan = _Plan()
    entries = [entry for entry, _ in changes.changed] + changes.fresh
    hashed = run_ahead(partial(identify, root), entries, workers, 4 * workers)
    found = dict(zip((entry.rel_path for entry in entries), hashed, strict=True))
    for entry, before in changes.changed:
        _plan_changed(entry, before, found[entry.rel_path], plan)
    vanished_by_hash = {entry.content_hash: path for path, entry in changes.gone.items()
                        if entry.status == "indexed" and entry.content_hash}
    for entry in changes.fresh:
        _plan_new(entry, found[entry.rel_path], vanished_by_hash, changes.gone, plan)
    plan.removed = [entry.id for entry in changes.gone.values()]  # what is left after the moves
    return plan


def _plan_changed(entry: FileEntry, before: KnownFile, found: PhotoRecord | Skipped | None, plan: _Plan) -> None:
    if isinstance(found, PhotoRecord) and found.content_hash == before.content_hash and before.status == "indexed":
        plan.touches.append((before.id, entry))  # touched, not edited: keep the vector
    elif isinstance(found, PhotoRecord):
        plan.to_embed.append(found)
    elif isinstance(found, Skipped):
        plan.unusable.append(SkippedFile(entry.rel_path, entry.size, entry.mtime_ns, found.reason))


def _plan_new(entry: FileEntry, found: PhotoRecord | Skipped | None, vanished_by_hash: dict[str, str],
              gone: dict[str, KnownFile], plan: _Plan) -> None:
    """A new path is either a moved file (its content hash belongs to a vanished row) or a new photo."""
    if isinstance(found, Skipped):
        plan.unusable.append(SkippedFile(entry.rel_path, entry.size, entry.mtime_ns, found.reason))
    elif isinstance(found, PhotoRecord):
        old_path = vanished_by_hash.pop(found.content_hash, None)
        if old_path is not None:
            plan.moves.append((gone.pop(old_path).id, found))
        else:
            plan.to_embed.append(found)
            plan.new_paths.add(found.rel_path)
