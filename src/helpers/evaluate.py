"""How good is search on *these* photos? Ranking metrics against a ground truth of groups.

Ground truth is a CSV with `path,group` (extra columns ignored): photos of the same group are
relevant to each other. Every photo that has at least one relevant partner is used as a query
(itself excluded from its results); photos alone in their group still count as distractors.
"""

from __future__ import annotations

import csv
import json
import os
import re
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import numpy as np

from .errors import BadInput, NoTextEncoder, PhotoSearchError, quoted
from .index import PhotoIndex
from .indexer import update_index
from .search import Library, Term


@dataclass(frozen=True)
class QueryScore:
    path: str
    group: str
    average_precision: float
    precision: float
    recall: float
    relevant: int
    hits: tuple[bool, ...] = field(default=(), repr=False)  # relevance of each result, best first


@dataclass
class EvalReport:
    k: int
    queries: list[QueryScore] = field(default_factory=list)
    missing: int = 0  # ground-truth paths that are not in the index

    def _mean(self, name: str) -> float:
        return float(np.mean([getattr(q, name) for q in self.queries])) if self.queries else 0.0

    @property
    def map_at_k(self) -> float:
        return self._mean("average_precision")

    @property
    def precision_at_k(self) -> float:
        return self._mean("precision")

    @property
    def recall_at_k(self) -> float:
        return self._mean("recall")

    def as_dict(self) -> dict[str, Any]:
        """The `photo-search eval --json` shape."""
        return {"queries": len(self.queries), "map_at_k": round(self.map_at_k, 4),
                "precision_at_k": round(self.precision_at_k, 4), "recall_at_k": round(self.recall_at_k, 4),
                "k": self.k}


def read_groups(csv_path: str | os.PathLike[str]) -> dict[str, str]:
    """`path -> group` from a ground-truth CSV (paths relative to the photo folder)."""
    columns, rows = _read_csv(csv_path, "ground-truth")
    if not {"path", "group"} <= columns:
        raise BadInput(f"{csv_path} needs the columns path,group (found: {sorted(columns)})")
    return {_relative(row["path"]): row["group"].strip() for row in rows}


def _read_csv(csv_path: str | os.PathLike[str], what: str) -> tuple[set[str], list[dict[str, str]]]:
    """(column names, rows) of a small CSV file; a missing file is bad input, said in one line."""
    try:
        with open(csv_path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            return set(reader.fieldnames or ()), list(reader)
    except FileNotFoundError:
        raise BadInput(f"{what} file not found: {quoted(csv_path)}") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise BadInput(f"{quoted(csv_path)} is not a CSV text file ({str(error)[:80]}); "
                       "give a path,group CSV") from None


def _relative(path: str) -> str:
    """A ground-truth path as the index stores it: relative, forward slashes."""
    return path.strip().replace("\\", "/")


def average_precision_at_k(relevant_flags: list[bool], total_relevant: int, k: int) -> float:
    """AP@K: the mean of precision@i over the ranks i <= K that hold a relevant photo, divided by
    the most relevant photos K results could hold (min(R, K)), so 1.0 means a perfect top-K."""
    hits, total = 0, 0.0
    for rank, relevant in enumerate(relevant_flags[:k], start=1):
        if relevant:
            hits += 1
            total += hits / rank
    return total / min(total_relevant, k) if total_relevant else 0.0


def evaluate_image_queries(library: Library, groups: dict[str, str], *, k: int = 10,
                           **search_options: Any) -> EvalReport:
    """Search with every grouped photo as the query and score the top-K against its group. Copies
    are not folded into one result here (`collapse=False` unless told): every relevant photo counts,
    except the query's byte-identical copies, which search never shows."""
    search_options.setdefault("collapse", False)
    position_of = {row.path: position for position, row in enumerate(library.rows)}
    members: dict[str, set[str]] = defaultdict(set)
    report = EvalReport(k=k)
    for path, group in groups.items():
        if path in position_of:
            members[group].add(path)
        else:
            report.missing += 1
    for path, group in groups.items():
        if path not in position_of:
            continue
        query = library.rows[position_of[path]]
        # Search leaves out the query's byte-identical copies, so they are not answers to expect.
        relevant = {other for other in members[group] - {path}
                    if not query.content_hash or library.rows[position_of[other]].content_hash != query.content_hash}
        if not relevant:
            continue
        outcome = library.search(Term("photo", query.id), k=k, **search_options)
        flags = [result.photo.path in relevant for result in outcome.results]
        report.queries.append(QueryScore(
            path=path, group=group, average_precision=average_precision_at_k(flags, len(relevant), k),
            precision=sum(flags) / k, recall=sum(flags) / len(relevant), relevant=len(relevant),
            hits=tuple(flags)))
    return report



def groups_from_folders(library: Library) -> dict[str, str]:
    """Weak labels for a library without ground truth: photos in the same folder count as
    relevant to each other. Rough (a folder is an event, not a subject), but it is free, and
    enough to compare models or settings on *your* photos."""
    return {row.path: row.folder or "(top folder)" for row in library.rows}


# --- text queries ----------------------------------------------------------------------------

TEXT_KS = (1, 5, 10)


@dataclass(frozen=True)
class TextQueryScore:
    text: str
    targets: int  # photos that answer it
    rank: int | None  # where the first of them came, 1-based; None: not in the top max(TEXT_KS)
    note: str = ""  # why the model could not read the text, when it could not


@dataclass
class TextReport:
    queries: list[TextQueryScore] = field(default_factory=list)
    missing: int = 0

    def recall_at(self, k: int) -> float:
        return float(np.mean([q.rank is not None and q.rank <= k for q in self.queries])) if self.queries else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"text_queries": len(self.queries), "unreadable": sum(bool(q.note) for q in self.queries),
                **{f"recall_at_{k}": round(self.recall_at(k), 4) for k in TEXT_KS}}


def read_text_queries(csv_path: str | os.PathLike[str]) -> dict[str, set[str]]:
    """text -> the photos that answer it, from a CSV with `path` and either `caption` (one
    description per row) or `labels`/`categories` (several, separated by ';', each a query)."""
    columns, rows = _read_csv(csv_path, "text ground-truth")
    text_column = next((c for c in ("caption", "labels", "categories") if c in columns), None)
    if "path" not in columns or text_column is None:
        raise BadInput(f"{csv_path} needs the columns path and caption (or labels); found {sorted(columns)}")
    queries: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        texts = [row[text_column]] if text_column == "caption" else row[text_column].split(";")
        for text in filter(None, (t.strip() for t in texts)):
            queries[text].add(_relative(row["path"]))
    return dict(queries)


def evaluate_text_queries(library: Library, queries: dict[str, set[str]]) -> TextReport:
    """Recall@1/5/10 of text search: a hit when a photo that answers the text ranks within K."""
    position_of = {row.path: position for position, row in enumerate(library.rows)}
    report = TextReport()
    depth = max(TEXT_KS)
    for text, paths in queries.items():
        targets = {position_of[p] for p in paths if p in position_of}
        report.missing += len(paths) - len(targets)
        if not targets:
            continue
        try:
            query = library.embedder.embed_texts([text])[0]
        except NoTextEncoder as error:
            report.queries.append(TextQueryScore(text, len(targets), None, str(error)))
            continue
        positions, _ = library.vectors.top(query, depth)
        rank = next((number for number, p in enumerate(positions.tolist(), start=1) if p in targets), None)
        report.queries.append(TextQueryScore(text, len(targets), rank))
    return report


# --- pictures of quality ---------------------------------------------------------------------

@dataclass(frozen=True)
class CutoffReport:
    """How the automatic cutoff meets people: queries of subjects the library lacks should find
    nothing; queries of subjects it holds should keep the relevant photos that showing everything
    would have shown in the top k."""

    absent_queries: int
    absent_empty: float  # share of absent-subject queries answered with nothing
    present_queries: int
    relevant_shown: int  # relevant photos in the top k with no cutoff
    relevant_kept: float  # share of those still shown with the automatic cutoff


def evaluate_cutoff(library: Library, groups: dict[str, str], present: dict[Path, str], absent: list[Path], *,
                    k: int = 10) -> CutoffReport:
    """Photo queries from outside the library, with the automatic cutoff and without. `groups` gives
    the subject of library photos (by path), `present` the subject of each present-subject query."""
    empty = sum(not library.search(Term("path", str(path)), k=k, min_score="auto", collapse=False).results
                for path in absent)
    shown = kept = 0
    for path, subject in present.items():
        everything = library.search(Term("path", str(path)), k=k, min_score=0, collapse=False).results
        automatic = {r.photo.path for r in library.search(Term("path", str(path)), k=k, min_score="auto",
                                                          collapse=False).results}
        relevant = [r.photo.path for r in everything if groups.get(r.photo.path) == subject]
        shown += len(relevant)
        kept += sum(found in automatic for found in relevant)
    return CutoffReport(len(absent), empty / max(1, len(absent)), len(present), shown, kept / max(1, shown))


def pair_similarities(library: Library, groups: dict[str, str], limit: int = 20000,
                      seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Cosine similarities of relevant pairs (same group) and of irrelevant pairs (a random
    sample of the others): their two histograms show how well a model separates them."""
    position_of = {row.path: position for position, row in enumerate(library.rows)}
    paths = [path for path in groups if path in position_of]
    vectors = library.vectors.rows(np.array([position_of[p] for p in paths]))
    scores = vectors @ vectors.T
    labels = np.array([groups[p] for p in paths])
    same = labels[:, None] == labels[None, :]
    upper = np.triu(np.ones_like(same), k=1)
    relevant, irrelevant = scores[same & upper], scores[~same & upper]
    rng = np.random.default_rng(seed)
    if len(irrelevant) > limit:
        irrelevant = rng.choice(irrelevant, limit, replace=False)
    return relevant, irrelevant


def grouping_scores(labels: Sequence[int], truth: Sequence[str]) -> tuple[float, float]:
    """Pairwise precision and recall of a grouping (people from faces) against the true identities:
    of the pairs put together, the share that are one identity; of the pairs of one identity, the
    share put together."""
    labels_array, truth_array = np.asarray(labels), np.asarray(truth)
    upper = np.triu(np.ones((len(labels), len(labels)), dtype=bool), 1)
    together = (labels_array[:, None] == labels_array[None, :]) & upper
    same = (truth_array[:, None] == truth_array[None, :]) & upper
    both = int((together & same).sum())
    return (both / int(together.sum()) if together.any() else 1.0, both / int(same.sum()) if same.any() else 1.0)


def precision_recall_by_k(report: EvalReport) -> list[tuple[float, float, float]]:
    """(K, precision@K, recall@K) for every K up to the report's: the ranking's precision-recall
    curve, from one evaluation run (the results of a top-K search are the top-k for every k < K)."""
    curve = []
    for k in range(1, report.k + 1):
        precision = [sum(q.hits[:k]) / k for q in report.queries]
        recall = [sum(q.hits[:k]) / q.relevant for q in report.queries]
        curve.append((float(k), float(np.mean(precision)), float(np.mean(recall))))
    return curve


# --- models side by side ---------------------------------------------------------------------

class ComparisonRow(TypedDict, total=False):
    """One model in `eval --compare`: its scores and costs, or `error` when it could not run here."""

    model: str
    error: str
    map_at_k: float
    map_at_k_plain: float
    precision_at_k: float
    queries: int
    index_seconds: float
    photos_per_second: float
    query_ms: float
    vectors_mb: float


def compare_models(photos_dir: str | os.PathLike[str], models: list[str], work_dir: str | os.PathLike[str], *,
                   groups: dict[str, str] | None = None, k: int = 10, progress: bool = False) -> list[ComparisonRow]:
    """Index the same folder with each model (one index per model under `work_dir`, reused when
    up to date, holding vectors only: no stage runs, so the timings are the model's) and measure
    each: mAP@K with and without re-ranking, indexing speed, query time, memory of the vectors. A
    model that cannot load (no weights offline) gets its reason instead."""
    work = Path(work_dir)
    timings_file = work / "index-timings.json"
    timings = json.loads(timings_file.read_text()) if timings_file.exists() else {}
    rows: list[ComparisonRow] = []
    for name in models:
        index_dir = work / re.sub(r"[^A-Za-z0-9._-]+", "_", name)
        try:
            summary = update_index(photos_dir, index_dir, model=name, progress=progress, stages=())
        except PhotoSearchError as error:
            rows.append({"model": name, "error": str(error).splitlines()[0]})
            continue
        if summary.added and summary.added == summary.indexed:  # a fresh build: its time is the model's
            timings[name] = {"seconds": summary.seconds, "photos_per_second": summary.images_per_second}
            work.mkdir(parents=True, exist_ok=True)
            timings_file.write_text(json.dumps(timings, indent=2))
        with PhotoIndex.open(index_dir) as index:
            library = Library(index)
            truth = groups or groups_from_folders(library)
            started = time.perf_counter()
            ranked = evaluate_image_queries(library, truth, k=k)
            query_ms = (time.perf_counter() - started) * 1000 / max(1, len(ranked.queries))
            plain = evaluate_image_queries(library, truth, k=k, rerank=False)
            rows.append({"model": name, "map_at_k": round(ranked.map_at_k, 4),
                         "map_at_k_plain": round(plain.map_at_k, 4),
                         "precision_at_k": round(ranked.precision_at_k, 4), "queries": len(ranked.queries),
                         "index_seconds": round(timings.get(name, {}).get("seconds", float("nan")), 2),
                         "photos_per_second": round(timings.get(name, {}).get("photos_per_second", float("nan")), 2),
                         "query_ms": round(query_ms, 2), "vectors_mb": round(library.vectors.nbytes / 2**20, 2)})
    return rows
