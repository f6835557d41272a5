"""Run the stages of an index, in order, after the photos are embedded; time each one."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..errors import BadInput
from ..index import PhotoIndex
from ..models import Embedder
from .copies import CopiesStage
from .cutoff import CutoffStage
from .faces import FacesStage
from .keywords import KeywordsStage
from .places import PlacesStage
from .words import WordsStage


@dataclass(frozen=True)
class StageContext:
    """What a stage may use besides the index: the index's model (loaded on first use, only by
    a stage that needs it; `release_model` lets it go) and whether to draw progress bars."""

    model: Callable[[], Embedder]
    progress: bool = False
    release_model: Callable[[], None] = lambda: None


class Stage(Protocol):
    """One stage. `tables[n]` (SQL) takes its own tables from schema n to n + 1; `version` is the
    version of what it computes: photos processed at another version are processed again;
    `uses_model`: whether it may ask for the model (after the last such stage the model goes)."""

    name: str
    version: int
    tables: dict[int, str]
    uses_model: bool

    def run(self, index: PhotoIndex, context: StageContext) -> None: ...


STAGES: tuple[Stage, ...] = (CutoffStage(), PlacesStage(), KeywordsStage(), WordsStage(), FacesStage(),
                             CopiesStage())


def chosen_stages(names: Sequence[str] | None) -> tuple[Stage, ...]:
    """The stages named (all of them for None), in their running order; an unknown name is refused."""
    if names is None:
        return STAGES
    unknown = set(names) - {stage.name for stage in STAGES}
    if unknown:
        raise BadInput(f"no stage called {', '.join(sorted(unknown))}; the stages are "
                       f"{', '.join(stage.name for stage in STAGES)}")
    return tuple(stage for stage in STAGES if stage.name in names)


def run_stages(index: PhotoIndex, context: StageContext, stages: Sequence[Stage] = STAGES) -> dict[str, float]:
    """Every stage to the end, in order; seconds each took. The model is let go as soon as no stage
    left needs it: the town table and the copy finder's fingerprints then take its memory."""
    seconds = {}
    last_user = max((n for n, stage in enumerate(stages) if stage.uses_model), default=-1)
    for number, stage in enumerate(stages):
        if number == last_user + 1:
            context.release_model()
        started = time.perf_counter()
        index.note_progress(f"embedding done; {stage.name} stage")
        index.ensure_tables(stage.name, stage.tables)
        stage.run(index, context)
        seconds[stage.name] = time.perf_counter() - started
        if context.progress:
            print(f"{stage.name}: done in {seconds[stage.name]:.1f} s", file=sys.stderr)
    return seconds
