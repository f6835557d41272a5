"""Run the stages of an index, in order, after the photos are embedded; time each one."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..index import PhotoIndex
from ..models import Embedder
from .copies import CopiesStage
from .cutoff import CutoffStage
from .places import PlacesStage


@dataclass(frozen=True)
class StageContext:
    """What a stage may use besides the index: the index's model (loaded on first use, only by
    a stage that needs it) and whether to draw progress bars."""

    model: Callable[[], Embedder]
    progress: bool = False


class Stage(Protocol):
    """One stage. `tables[n]` (SQL) takes its own tables from schema n to n + 1; `version` is the
    version of what it computes: photos processed at another version are processed again."""

    name: str
    version: int
    tables: dict[int, str]

    def run(self, index: PhotoIndex, context: StageContext) -> None: ...


STAGES: tuple[Stage, ...] = (PlacesStage(), CopiesStage(), CutoffStage())


def run_stages(index: PhotoIndex, context: StageContext, stages: Sequence[Stage] = STAGES) -> dict[str, float]:
    """Every stage to the end, in order; seconds each took."""
    seconds = {}
    for stage in stages:
        started = time.perf_counter()
        index.ensure_tables(stage.name, stage.tables)
        stage.run(index, context)
        seconds[stage.name] = time.perf_counter() - started
    return seconds
