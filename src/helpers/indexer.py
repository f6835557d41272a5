"""Build or update an index from a photo folder: only what changed is read, decoded or embedded.

A re-run compares the folder with the index using file sizes and times alone (no file is opened),
so an unchanged library of 10,000 photos is checked in a fraction of a second. Then:
new files are embedded; changed files (size or time differ, and so does the content hash) are
re-embedded; deleted files are removed; a file that moved or was renamed (same content hash)
keeps its vector. Every batch is committed as it is done, so an interrupted run resumes where it
stopped.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from .embedding import StageTimes, embed_records
from .errors import BadInput, ModelMismatch
from .index import SCHEMA_VERSION, KnownFile, PhotoIndex, SkippedFile
from .models import Embedder, chosen_model_name, input_side, load_model
from .options import DEFAULT_OPTIONS, IndexOptions
from .places import locate
from .relevance import measure
from .scan import FileEntry, PhotoRecord, Skipped, identify, library_root, walk
from .workers import run_ahead

COPIES_MIN_BUDGET = 10.0  # seconds the copy groups may always take, however quick the embedding was


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
    started = time.perf_counter()
    root = library_root(photos_dir)
    index_path = _check_index_location(root, index_dir)
    summary = UpdateSummary()
    with PhotoIndex.open(index_path, create=True) as index, index.writer(), \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="model") as loader:
        wanted = _settle_model(index, root, embedder.id if embedder else chosen_model_name(options.model),
                               options.reembed)
        changes = _compare(root, index)
        # The model loads in the background (importing PyTorch alone takes seconds) while files are
        # hashed and decoded; started early only when some photo is certainly new, not just moved.
        loading: Embedder | Future[Embedder] | None = embedder
        if loading is None and len(changes.fresh) > len(changes.gone):
            loading = loader.submit(load_model, wanted, engine=options.engine)
        started_hashing = time.perf_counter()
        plan = _plan(root, changes, options.threads)
        summary.stages.add("hash", started_hashing)
        _apply(index, plan)
        if plan.to_embed:
            loading = loading or loader.submit(load_model, wanted, engine=options.engine)
            side = embedder.preprocess.resize_to if embedder else input_side(wanted)
            embed_started = time.perf_counter()
            for batch in embed_records(root, plan.to_embed, loading, options, decode_side=side,
                                       total=len(plan.to_embed), progress=progress, times=summary.stages):
                if summary.embedded == 0:
                    summary.engine = _adopt_model(index, loading, root)
                writing = time.perf_counter()
                index.write_batch(batch)
                summary.stages.add("write", writing)
                summary.embedded += len(batch.embedded)
                summary.added += sum(item.record.rel_path in plan.new_paths for item in batch.embedded)
            summary.updated = summary.embedded - summary.added
            summary.embed_seconds = time.perf_counter() - embed_started
        loading = None  # the network's memory is returned before the town table loads: a lower peak
        started_placing = time.perf_counter()
        _place_photos(index)
        summary.stages.add("places", started_placing)
        _refresh_cutoff(index)
        started_copies = time.perf_counter()
        _refresh_copies(index, changed=bool(plan.to_embed or plan.removed or plan.moves), progress=progress,
                        budget=max(COPIES_MIN_BUDGET, summary.embed_seconds))
        summary.stages.add("copies", started_copies)
        summary.model = index.model_id or ""
        summary.removed = len(plan.removed)
        summary.moved = len(plan.moves)
        summary.indexed = index.count("indexed")
        summary.skipped = sorted(index.skipped() + changes.walk_problems, key=lambda item: item.path)
    summary.seconds = time.perf_counter() - started
    return summary


def _place_photos(index: PhotoIndex) -> None:
    """Name the place of every GPS photo not placed yet (new ones, and all of an index made before
    places existed): offline, from GeoNames; the town table loads only when some photo needs it."""
    unplaced = index.unplaced()
    if unplaced:
        found = locate([(latitude, longitude) for _, latitude, longitude in unplaced])
        index.set_places(zip((photo_id for photo_id, _, _ in unplaced), found, strict=True))


def _refresh_copies(index: PhotoIndex, *, changed: bool, progress: bool, budget: float) -> None:
    """Keep the copy groups current (search folds copies and bursts into one result): only the
    pairs that involve new or changed photos are found and verified again (`duplicates`). The
    verification never takes longer than `budget` seconds (as long as the embedding took): in a
    library of thousands of look-alikes what is left is verified by later runs or by `dupes`."""
    if not changed and index.config().copies is not None and not index.unsigned():
        return
    from .duplicates import find_duplicates  # OpenCV loads only when something changed

    find_duplicates(index, show_progress=progress, budget=budget)


def _refresh_cutoff(index: PhotoIndex) -> None:
    """Measure the automatic search cutoff again when the set of photos changed since it was measured."""
    config = index.config()
    if config.cutoff and config.cutoff.get("generation") == config.generation:
        return
    _, vectors = index.load_vectors()
    cutoff = measure(vectors, config.generation)
    index.set_config(cutoff=cutoff.as_dict() if cutoff else None)


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


def _settle_model(index: PhotoIndex, root: Path, requested: str | None, reembed: bool) -> str | None:
    """Which model this run embeds with: the index's own, unless --reembed asks for a switch (then
    every old vector goes first, so vectors of two models never mix). None means the default."""
    current = index.model_id
    if current is not None and requested not in (None, current) and not reembed:
        raise ModelMismatch(current, requested)
    if current is not None and reembed:
        index.clear()
    elif index.photos_root not in (None, root):
        index.set_config(photos_root=str(root))  # the library moved; relative paths still hold
    return requested or current


def _adopt_model(index: PhotoIndex, model: Embedder | Future[Embedder], root: Path) -> str:
    """Record the loaded model in a new (or cleared) index, or check an existing one still matches;
    returns the engine that runs it."""
    embedder = model.result() if isinstance(model, Future) else model
    stored = index.config()
    if stored.model_id is None:
        index.set_config(**embedder.describe(), photos_root=str(root), format_version=SCHEMA_VERSION,
                         created=time.strftime("%Y-%m-%dT%H:%M:%S"))
    elif stored.fingerprint != embedder.fingerprint or stored.model_id != embedder.id:
        raise ModelMismatch(f"{stored.model_id} (weights {stored.fingerprint})",
                            f"{embedder.id} (weights {embedder.fingerprint})")
    return embedder.engine


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
