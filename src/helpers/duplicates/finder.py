"""The duplicate finder's run: candidates, verification, groups without chaining (see the
package docstring), kept in the copies stage's tables (`store`)."""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Self, TypedDict

from ..errors import PhotoSkipped
from ..images import LoadOptions, load_photo
from ..images.metadata import subsecond_taken
from ..index import PhotoIndex, PhotoRow
from ..progress import progress_counter
from ..scan import full_hash
from .candidates import find_candidates
from .fine_detail import DetailPrint, detail_print, fine_detail, is_unsure
from .settings import BURST_SECONDS, SIMILAR_COSINE, Settings
from .store import CopyStore
from .verify import NO_MATCH, Fingerprint, Verdict, content_scale, fingerprint, verify_both

WORKERS = min(4, os.cpu_count() or 1)
DETAIL_MIN_SIDE = 768  # originals for the second look are decoded to this shorter side (4:3 -> 1024 long)
HOLDS_LESS = 0.9  # a keeper showing a copy's pixels at under this area holds less detail than the copy
KEPT_ORIGINALS = 32  # decoded originals kept during a run: a keeper is compared with all its members
KEPT_PRINTS = 2048  # thumbnail fingerprints kept during a run (about 200 KB each)
# Formats a camera or phone writes; a copy in another format is more likely a transcode.
CAMERA_FORMATS = ("JPEG", "HEIF", "MPO", "TIFF")


CopyKind = Literal["exact", "near", "similar"]  # same bytes; the same photo edited; another shot


class MemberRow(TypedDict):
    path: str
    score: float
    kind: CopyKind


class GroupRow(TypedDict):
    """One group in `photo-search dupes --json`."""

    keep: str
    reason: str
    members: list[MemberRow]


@dataclass(frozen=True)
class Member:
    path: str
    score: float  # 1.0 for exact copies; the verification score for near (outside an overlay); cosine for similar
    kind: CopyKind


@dataclass
class Group:
    """A keeper and the photos that were each verified against it."""

    keep: str
    reason: str
    members: list[Member] = field(default_factory=list)

    def as_dict(self) -> GroupRow:
        return {"keep": self.keep, "reason": self.reason,
                "members": [{"path": m.path, "score": m.score, "kind": m.kind} for m in self.members]}


@dataclass
class DupesReport:
    threshold: float
    groups: list[Group]
    similar: list[Group]
    candidates: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "groups": [g.as_dict() for g in self.groups],
                "similar": [g.as_dict() for g in self.similar], "candidates": self.candidates,
                "seconds": round(self.seconds, 3)}


# --- stage 3: keepers and groups ------------------------------------------------------------

def keeper_rank(row: PhotoRow, partners: int = 0) -> tuple[Any, ...]:
    """Sort key, best first: highest resolution, then a camera format over a transcode, then the
    earliest date taken, then the photo with the most candidate partners (the source of many
    copies is proposed with all of them, turned ones included; a copy with a caption or a strong
    crop is not), then the larger file (less compressed), then the shorter file name (copying a
    file adds " copy", " (1)" or "-1" to its name), then the path."""
    pixels = (row.width or 0) * (row.height or 0)
    camera_format = (row.format or "").upper() in CAMERA_FORMATS
    name = row.path.rsplit("/", 1)[-1]
    return (-pixels, not camera_format, row.date_taken or "9999", -partners, -(row.size or 0), len(name), row.path)


def keeper_reason(keeper: PhotoRow, others: list[PhotoRow], *, most_detail: bool = False,
                  most_matched: bool = False) -> str:
    """Why `keeper` ranks first, in words, naming the first rule that separates it."""
    pixels = (keeper.width or 0) * (keeper.height or 0)
    if most_detail:
        return "most detail: the copies with more pixels show this photo smaller (a screenshot, a border)"
    if all((o.width or 0) * (o.height or 0) < pixels for o in others):
        return f"highest resolution ({keeper.width}x{keeper.height})"
    if keeper.format in CAMERA_FORMATS and any(o.format not in CAMERA_FORMATS for o in others):
        return f"same resolution; original format {keeper.format} over a transcode"
    if keeper.date_taken and all((o.date_taken or "9999") > keeper.date_taken for o in others):
        return f"same resolution and format; taken first ({keeper.date_taken})"
    if most_matched:
        return "same resolution, format and date; matched by the most copies, so likely their source"
    if keeper.size and all((o.size or 0) < keeper.size for o in others):
        return f"same resolution, format and date; largest file ({keeper.size:,} bytes, least compressed)"
    if all(len(o.path.rsplit("/", 1)[-1]) > len(keeper.path.rsplit("/", 1)[-1]) for o in others):
        return "same resolution, format, date and size; the shortest name (copies get ' copy' or ' (1)' added)"
    return "same resolution, format, date and size; first by name"


Links = Callable[[int, list[int]], dict[int, Member]]
Rekey = Callable[[int, dict[int, Member]], int | None]


def star_groups(rows: list[PhotoRow], partners: dict[int, set[int]], links: Links,
                more_detail: Rekey | None = None) -> list[Group]:
    """Groups without chaining. Photos, best keeper first, take as members those of their
    not-yet-grouped candidate partners that `links(keeper, partners)` confirms against the keeper
    itself. A member is always a verified copy of its keeper; only keeper-member pairs are ever
    checked, so a cluster of n copies costs n - 1 verifications, not n squared.
    `more_detail(keeper, members)` names a member that holds the photo with more detail than the
    keeper (a screenshot or a framed post has more pixels than the photo inside it); that member
    then keeps the group, and the others are verified against it in turn (those that fail are
    left for later keepers)."""
    grouped: set[int] = set()
    groups = []
    for first in sorted(partners, key=lambda p: keeper_rank(rows[p], len(partners[p]))):
        if first in grouped:
            continue
        keeper, members = first, links(first, sorted(other for other in partners[first] if other not in grouped))
        better = more_detail(keeper, members) if more_detail and members else None
        if better is not None:  # the group, and the new keeper's own candidates, verified against it
            others = ({first, *members} | {p for p in partners.get(better, ()) if p not in grouped}) - {better}
            keeper, members = better, links(better, sorted(others))
        if not members:
            continue
        grouped.update(members, {keeper})
        ordered = sorted(members, key=lambda other: (-members[other].score, rows[other].path))
        most_matched = all(len(partners[o]) < len(partners.get(keeper, ())) for o in ordered)
        reason = keeper_reason(rows[keeper], [rows[o] for o in ordered], most_detail=better is not None,
                               most_matched=most_matched)
        groups.append(Group(rows[keeper].path, reason, [members[o] for o in ordered]))
    return groups


def _adjacency(pairs: Iterable[tuple[int, int]]) -> dict[int, set[int]]:
    partners: dict[int, set[int]] = defaultdict(set)
    for a, b in pairs:
        partners[a].add(b)
        partners[b].add(a)
    return partners


def _key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


# --- the whole run --------------------------------------------------------------------------

def find_duplicates(index: PhotoIndex, threshold: float | None = None, *, show_progress: bool = False,
                    confirm_exact: bool = True) -> DupesReport:
    """Exact, near and similar groups for every indexed photo (see the package docstring). Candidate
    pairs and their evidence are kept in the index, so a run after a few photos were added only
    verifies what involves them. At the library's own threshold what is learnt is stored (evidence
    as it is made, so a killed run resumes; the groups at the end, for search to fold); another
    `threshold` is a look only: it reads the stored evidence and stores nothing."""
    started = time.perf_counter()
    own = Settings.of_index(index)
    settings = own if threshold is None else replace(own, threshold=threshold)
    keep = settings.threshold == own.threshold
    store = CopyStore(index)
    store.ready()
    find_candidates(store, settings.candidates)
    with index.snapshot():
        rows = index.photo_rows()
        _, vectors = index.load_vectors()
        stored = store.pairs()
        generation = index.config().generation
    position = {row.id: p for p, row in enumerate(rows)}  # rows and pairs are in id order: a < b stays
    candidates = {(position[a], position[b]): cosine for a, b, cosine, _ in stored}
    known = {(position[a], position[b]): verdict for a, b, _, text in stored
             if text and (verdict := Verdict.from_json(text)).answers(settings.threshold)}
    root = index.photos_root
    reachable = root if confirm_exact and root is not None and root.is_dir() else None  # else trust the quick hash
    exact = exact_pairs(rows, reachable)
    partners = _adjacency([*candidates, *exact])
    similar: dict[tuple[int, int], float] = {}  # pair -> cosine
    shown_at: dict[tuple[int, int], float] = {}  # (keeper, member) -> content scale (`content_scale`)
    bar = progress_counter(len(partners), desc="checking candidates", enabled=show_progress)

    def confirm(keeper: int, others: list[int]) -> dict[int, Member]:
        members = {o: Member(rows[o].path, 1.0, "exact") for o in others if _key(keeper, o) in exact}
        unknown = [o for o in others if o not in members and not other_shots(rows[keeper], rows[o])]
        for other, verdict in zip(unknown, verifier.verdicts(keeper, unknown), strict=True):
            cosine = candidates.get(_key(keeper, other)) or float(vectors[keeper] @ vectors[other])  # re-keyed
            kind = pair_kind(rows[keeper], rows[other], verdict, cosine, settings.threshold, root)
            if kind == "near":
                members[other] = Member(rows[other].path, round(verdict.best, 4), "near")
                shown_at[(keeper, other)] = content_scale(verdict, _long_side(rows[keeper]), _long_side(rows[other]))
            elif kind == "similar":
                similar[_key(keeper, other)] = round(cosine, 4)
        bar.update(1)
        return members

    def more_detail(keeper: int, members: dict[int, Member]) -> int | None:
        """When the keeper shows some members with fewer pixels than they have, the best-ranked of
        the members it shows smallest (all but crops of one photo are shown at one scale)."""
        scales = {m: shown_at.get((keeper, m), 1.0) for m in members}
        smallest = min(scales.values())
        if smallest >= HOLDS_LESS:
            return None
        return min((m for m, scale in scales.items() if scale <= smallest * 1.1),
                   key=lambda m: keeper_rank(rows[m], len(partners.get(m, ()))))

    def save(found: dict[tuple[int, int], Verdict]) -> None:
        store.store_verdicts((rows[a].id, rows[b].id, verdict.as_json()) for (a, b), verdict in found.items()
                             if (a, b) in candidates)

    with PairVerifier(index, rows, settings.threshold, known, save if keep else None) as verifier:
        groups = star_groups(rows, partners, confirm, more_detail)
    bar.close()
    similar_groups = star_groups(rows, _adjacency(similar), lambda keeper, others: {
        o: Member(rows[o].path, similar[_key(keeper, o)], "similar") for o in others})
    report = DupesReport(settings.threshold, groups, similar_groups, len(candidates), time.perf_counter() - started)
    if keep:
        store.set_groups(folding(report, {row.path: row.id for row in rows}), generation)
    return report


def folding(report: DupesReport, ids: dict[str, int]) -> list[tuple[int, int, str]]:
    """(photo id, root photo id, kind) for every photo in a group: search shows one result per root.
    Copies fold into their keeper, and keepers into the keeper of their burst or re-take group."""
    parent: dict[str, str] = {}

    def root(path: str) -> str:
        while parent.get(path, path) != path:
            path = parent[path]
        return path

    kinds: dict[str, str] = {}
    for group in report.groups + report.similar:
        for member in group.members:
            parent[root(member.path)] = root(group.keep)
            if kinds.get(member.path, "keep") == "keep":  # a copies' keeper inside a burst: similar
                kinds[member.path] = member.kind
        kinds.setdefault(group.keep, "keep")
    return [(ids[path], ids[root(path)], kind) for path, kind in kinds.items()]


def _long_side(row: PhotoRow) -> int:
    return max(row.width or 0, row.height or 0)


def exact_pairs(rows: list[PhotoRow], photos_root: Path | None) -> set[tuple[int, int]]:
    """Pairs of byte-identical files. The index's quick hash (size + first and last MiB) finds
    them; where the photos are reachable the whole files are hashed to confirm."""
    by_hash: dict[str, list[int]] = defaultdict(list)
    for position, row in enumerate(rows):
        if row.content_hash:
            by_hash[row.content_hash].append(position)
    pairs: set[tuple[int, int]] = set()
    for positions in by_hash.values():
        if len(positions) < 2:
            continue
        if photos_root is not None:
            positions = _same_full_hash(rows, positions, photos_root)
        pairs.update(itertools.combinations(positions, 2))
    return pairs


def _same_full_hash(rows: list[PhotoRow], positions: list[int], root: Path) -> list[int]:
    """The largest subset of `positions` whose files hash the same (unreadable files drop out)."""
    hashes: dict[str, list[int]] = defaultdict(list)
    for position in positions:
        try:
            hashes[full_hash(root / rows[position].path)].append(position)
        except OSError:
            continue
    return max(hashes.values(), key=len, default=[])


SAVE_EVERY = 256  # verdicts made before they are committed (a killed run loses at most these)


class PairVerifier:
    """Verdicts for a photo against its candidates, from the cached thumbnails, on worker threads.
    Fingerprints are made once per photo and kept for the run. `save` receives what was verified,
    a few hundred pairs at a time and the rest on leaving."""

    def __init__(self, index: PhotoIndex, rows: list[PhotoRow], threshold: float,
                 known: dict[tuple[int, int], Verdict] | None = None,
                 save: Callable[[dict[tuple[int, int], Verdict]], None] | None = None) -> None:
        self.index, self.rows, self.threshold, self.save = index, rows, threshold, save
        self.root = index.photos_root  # read here: SQLite stays on this thread
        self.prints: OrderedDict[int, Fingerprint | None] = OrderedDict()  # the most recently used few
        self.known: dict[tuple[int, int], Verdict] = dict(known or {})  # (a, b) -> verdict of b onto a
        self.found: dict[tuple[int, int], Verdict] = {}  # verified in this run and not saved yet, a < b
        self.details: dict[int, DetailPrint | None] = {}  # originals prepared for the second look, a few kept
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="verify")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.pool.shutdown()
        self._save()

    def _save(self) -> None:
        if self.save is not None and self.found:
            self.save(self.found)
        self.found = {}

    def verdicts(self, photo: int, others: list[int]) -> list[Verdict]:
        """Verdicts of `others` against `photo`, each pair verified once per run (either way round)."""
        new = [other for other in others if (photo, other) not in self.known and (other, photo) not in self.known]
        missing = [p for p in ({photo, *new} if new else ()) if p not in self.prints]
        thumbnails = [self.index.thumbnail(self.rows[p].id) for p in missing]  # SQLite stays on this thread
        self.prints.update(zip(missing, self.pool.map(lambda t: fingerprint(t) if t else None, thumbnails)))
        for other, verdict in zip(new, self.pool.map(lambda other: self._verdict(photo, other), new), strict=True):
            self.known[(photo, other)] = verdict
            self.found[_key(photo, other)] = verdict if photo < other else verdict.reversed()
        for used in (photo, *new) if new else ():  # keep the most recently used; a run never holds them all
            self.prints.move_to_end(used)
        while len(self.prints) > KEPT_PRINTS:
            self.prints.popitem(last=False)
        if len(self.found) >= SAVE_EVERY:
            self._save()
        return [self._known(photo, other) for other in others]

    def _known(self, photo: int, other: int) -> Verdict:
        if (photo, other) in self.known:
            return self.known[(photo, other)]
        return self.known[(other, photo)].reversed() if (other, photo) in self.known else NO_MATCH

    def _verdict(self, photo: int, other: int) -> Verdict:
        first, second = self.prints[photo], self.prints[other]
        verdict = verify_both(first, second, at_least=self.threshold) if first and second else NO_MATCH
        return replace(self._second_look(photo, other, verdict), checked_from=self.threshold)

    def _second_look(self, photo: int, other: int, verdict: Verdict) -> Verdict:
        """A match the thumbnails are unsure of is looked at again on the originals (`fine_detail`),
        unless both cameras recorded when they shot: then the times tell a re-take from an edit. A
        match only outside an overlay, or only in its keypoints (`Verdict.could_pass`), always is: a
        caption and a passer-by who moved both leave one rectangle that disagrees, and only the
        originals tell them apart."""
        if not verdict.could_pass(self.threshold):
            return verdict
        if verdict.score >= self.threshold:
            if not is_unsure(verdict.score, verdict.inliers):
                return verdict
            if self.rows[photo].date_source == self.rows[other].date_source == "DateTimeOriginal":
                return verdict
        first, second = self._detail_print(photo), self._detail_print(other)
        detail = fine_detail(first, second, verdict.mirrored) if first is not None and second is not None else None
        return verdict if detail is None else replace(verdict, detail=round(detail.agreement, 4),
                                                      another_shot=not detail.one_photo)

    def _detail_print(self, position: int) -> DetailPrint | None:
        """An original at the second look's size; None when it cannot be read (moved, offline)."""
        with self.lock:
            if position in self.details:
                return self.details[position]
        detail = None
        if self.root is not None:
            try:
                original = load_photo(self.root / self.rows[position].path, LoadOptions(min_side=DETAIL_MIN_SIDE))
                detail = detail_print(original.image)
            except (PhotoSkipped, OSError):
                detail = None
        with self.lock:
            if len(self.details) >= KEPT_ORIGINALS:
                self.details.pop(next(iter(self.details)))
            self.details[position] = detail
        return detail


def pair_kind(a: PhotoRow, b: PhotoRow, verdict: Verdict, cosine: float, threshold: float,
              photos_root: Path | None = None) -> CopyKind | None:
    """near: verified copy; similar: the same scene but not the same shot; None: unrelated.
    Two photos whose cameras recorded different capture times, or whose originals differ in their
    fine detail, are different shots, however alike their thumbnails (a burst, an HDR pair, a
    re-take a step away): similar at most, never duplicates. A pair that agrees only outside an
    overlay, or only in its keypoints, is near when the second look on the originals found it one
    photograph."""
    passes = verdict.score >= threshold or (verdict.could_pass(threshold) and verdict.detail is not None)
    if passes and not _shot_apart(a, b, photos_root) and not verdict.another_shot:
        return "near"
    if verdict.aligned and cosine >= SIMILAR_COSINE:
        return "similar"
    return None


def other_shots(a: PhotoRow, b: PhotoRow) -> bool:
    """Two shots of one camera, told apart by the time it recorded for each, more than a burst
    apart: neither a copy of the other nor a burst, whatever their pixels say, so the pair needs no
    keypoints. (An edited copy keeps its original's capture time; a messenger or screenshot drops
    it; a photo of a print is taken by another camera.) In a camera library this decides almost
    every candidate pair for nothing."""
    if a.date_source != "DateTimeOriginal" or b.date_source != "DateTimeOriginal" or not a.camera \
            or a.camera != b.camera:
        return False
    apart = _seconds_apart(a, b)
    return apart is not None and apart > BURST_SECONDS


def _seconds_apart(a: PhotoRow, b: PhotoRow) -> float | None:
    try:
        first, second = datetime.fromisoformat(a.date_taken or ""), datetime.fromisoformat(b.date_taken or "")
    except ValueError:
        return None
    if (first.tzinfo is None) != (second.tzinfo is None):
        first, second = first.replace(tzinfo=None), second.replace(tzinfo=None)
    return abs((first - second).total_seconds())


def _shot_apart(a: PhotoRow, b: PhotoRow, photos_root: Path | None) -> bool:
    """Both cameras recorded when they took the photo, and the times differ by a little: a
    burst or a re-take (to the fraction of a second where both files record it). An edited copy
    keeps the original's time; one re-dated by years was re-saved, not shot again."""
    if a.date_source != "DateTimeOriginal" or b.date_source != "DateTimeOriginal":
        return False
    apart = _seconds_apart(a, b)
    if apart is None:
        return False
    if apart >= 1:
        return apart <= BURST_SECONDS
    if photos_root is None:
        return False
    fractions = subsecond_taken(photos_root / a.path), subsecond_taken(photos_root / b.path)
    return None not in fractions and fractions[0] != fractions[1]
