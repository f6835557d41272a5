"""How good is search on *these* photos? Ranking metrics against a ground truth of groups.

Ground truth is a CSV with `path,group` (extra columns ignored): photos of the same group are
relevant to each other. Every photo that has at least one relevant partner is used as a query
(itself excluded from its results); photos alone in their group still count as distractors.
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import BadInput
from .search import Library, Term


@dataclass(frozen=True)
class QueryScore:
    path: str
    group: str
    average_precision: float
    precision: float
    recall: float
    relevant: int


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
    try:
        with open(csv_path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"path", "group"} <= set(reader.fieldnames):
                raise BadInput(f"{csv_path} needs the columns path,group (found: {reader.fieldnames})")
            return {row["path"].strip().replace("\\", "/"): row["group"].strip() for row in reader}
    except FileNotFoundError:
        raise BadInput(f"ground-truth file not found: {csv_path}") from None


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
    """Search with every grouped photo as the query and score the top-K against its group."""
    position_of = {row.path: position for position, row in enumerate(library.rows)}
    members: dict[str, set[str]] = defaultdict(set)
    report = EvalReport(k=k)
    for path, group in groups.items():
        if path in position_of:
            members[group].add(path)
        else:
            report.missing += 1
    for path, group in groups.items():
        relevant = members[group] - {path}
        if path not in position_of or not relevant:
            continue
        outcome = library.search(Term("photo", library.rows[position_of[path]].id), k=k, **search_options)
        flags = [result.photo.path in relevant for result in outcome.results]
        report.queries.append(QueryScore(
            path=path, group=group, average_precision=average_precision_at_k(flags, len(relevant), k),
            precision=sum(flags) / k, recall=sum(flags) / len(relevant), relevant=len(relevant)))
    return report

