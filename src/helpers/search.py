"""Answer queries against an index: by example photo, uploaded bytes, text, or a weighted mix
("beach" + photo.jpg - "people"), with filters, top-K, re-ranking and optional diversity.

Ranking is cosine similarity: every vector is unit length, so a dot product is the cosine.
Filters are applied before ranking, so "top 10 from 2019" really is the best ten from 2019.
"""

from __future__ import annotations

import os
import re
import shlex
import time
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict

import numpy as np

from .cleaning import row_flags
from .duplicates.store import CopyStore
from .embedding import embed_images
from .errors import BadInput, ModelMismatch, NoTextEncoder, PhotoSkipped, quoted
from .images import LoadOptions, load_photo, load_photo_bytes
from .index import PhotoIndex, PhotoRow
from .models import Embedder, load_model
from .people import ChosenFace, nearest_photos, person_named, photos_of
from .places import Place, query_patterns
from .relevance import Cutoff, TextCutoff, measure_text
from .scan import exists, hash_bytes, hash_file
from .stages.cutoff import probes_of, stored_cutoffs
from .stages.places import places_of
from .stages.words import photos_with_words, word_matches
from .tags import album_named, tag_counts, tagged_hashes, tags_by_hash
from .vectors import APPROXIMATE_FROM, VectorSearch
from .words import WordMatch

# Re-ranking, measured on ../shared/photos/retrieval with efficientnet-lite0 (BENCHMARKS.md):
# mAP@10 0.767 plain, 0.816 re-ranked; on by default because it wins.
RERANK_POOL = 100  # candidates re-ranked per query
NEIGHBOURS = 5  # each candidate is blended with its nearest neighbours among the candidates ...
EXPAND_TOP = 3  # ... and the query with the best candidates
POWER = 3.0  # blend weights are similarity**POWER: close neighbours count, loose ones hardly do
# Text queries also match the words read inside photos; the two rankings are fused by weighted
# reciprocal ranks (BENCHMARKS.md, "Words inside photos": chosen on the text kit).
FUSION_K = 60
WORDS_WEIGHT = 2.0


@dataclass(frozen=True)
class Filters:
    """Which photos may appear. `folder` matches that folder and everything below it."""

    folder: str | None = None
    since: date | None = None
    until: date | None = None
    camera: str | None = None  # case-insensitive part of "make model"
    place: str | None = None  # a town, region or country; case and accents ignored
    hide_flagged: bool = False  # leave out likely-blurry, tiny photos and screenshots (`cleaning`)
    has_text: bool | None = None  # only photos with (True) or without (False) words read in them
    tags: tuple[str, ...] = ()  # only photos carrying every one of these tags
    not_tags: tuple[str, ...] = ()  # and none of these
    album: str | None = None  # only photos in this album (named, or a top-level folder)
    people: tuple[str, ...] = ()  # only photos holding every one of these people (names or ids)
    face: ChosenFace | None = None  # only photos of the person with this face (`people.chosen_face`)

    @property
    def active(self) -> bool:
        return bool(self.tags or self.not_tags or self.people) or any(
            value is not None for value in (self.folder, self.since, self.until, self.camera, self.place,
                                            self.has_text, self.album, self.face))


@dataclass(frozen=True)
class Term:
    """One part of a query: text, an image (path, bytes or pixels), or a photo already indexed."""

    kind: str  # "text" | "words" (only the words inside photos) | "path" | "bytes" | "image" | "photo"
    value: Any
    weight: float = 1.0


class AlsoRow(TypedDict):
    """A copy or a burst shot folded into a result: "exact", "near" or "similar"."""

    path: str
    kind: str


class ResultRow(TypedDict):
    """One result in `photo-search search --json`."""

    path: str
    score: float
    date: str | None
    folder: str
    place: str | None
    also: list[AlsoRow]
    words: NotRequired[list[str]]
    tags: NotRequired[list[str]]


@dataclass(frozen=True)
class Result:
    photo: PhotoRow
    score: float
    also: tuple[AlsoRow, ...] = ()  # the copies and burst shots this result stands for
    place: Place | None = None  # where it was taken, when its GPS is near a town
    words: tuple[str, ...] = ()  # the words read in the photo that matched the query, as read
    tags: tuple[str, ...] = ()  # the photo's tags

    def as_dict(self) -> ResultRow:
        row: ResultRow = {"path": self.photo.path, "score": round(self.score, 4), "date": self.photo.date_taken,
                          "folder": self.photo.folder, "place": self.place_name, "also": list(self.also)}
        if self.words:
            row["words"] = list(self.words)
        if self.tags:
            row["tags"] = list(self.tags)
        return row

    @property
    def place_name(self) -> str | None:
        """"Lund, Skåne, Sweden", or None for a photo without GPS or far from any town."""
        return str(self.place) if self.place else None


@dataclass
class SearchOutcome:
    results: list[Result]
    took_ms: float
    notes: list[str] = field(default_factory=list)
    min_score: float | None = None  # the similarity below which results were dropped (automatic, or yours)

    def as_dict(self) -> dict[str, Any]:
        """The `photo-search search --json` shape."""
        min_score = None if self.min_score is None else round(self.min_score, 4)
        return {"results": [r.as_dict() for r in self.results], "min_score": min_score,
                "note": "; ".join(self.notes) or None, "took_ms": round(self.took_ms, 2)}


class Library:
    """An index loaded for searching: vectors in memory, the model loaded only when needed."""

    def __init__(self, index: PhotoIndex, embedder: Embedder | None = None, *, engine: str | None = None) -> None:
        self.index = index
        self.engine = engine
        config = index.config()
        if not config.model_id:
            raise BadInput(f"the index at {index.folder} is empty: run `photo-search index` first")
        self.model_id: str = config.model_id
        self.fingerprint: str | None = config.fingerprint
        if embedder is not None:
            self._check_model(embedder)
        self._embedder = embedder
        with index.snapshot():  # vectors and rows from one consistent state, even mid-update
            self.ids, stored = index.load_vectors()
            self.rows = index.photo_rows()
            self.places = places_of(index)
            self.tags = tags_by_hash(index)
            groups = CopyStore(index).groups()
            self._cutoff, stored_text, current = stored_cutoffs(index)
            self._stored_text = stored_text if current else None
        self.vectors = VectorSearch(stored, cache=index.ann_cache() if len(stored) >= APPROXIMATE_FROM else None)
        self._position = {int(photo_id): position for position, photo_id in enumerate(self.ids)}
        # Fixed-width string arrays: filters become vectorised comparisons, not Python loops.
        self._folders = np.array([row.folder for row in self.rows], dtype=str)
        self._dates = np.array([(row.date_taken or "")[:10] for row in self.rows], dtype=str)
        self._cameras = np.array([row.camera.lower() for row in self.rows], dtype=str)
        self._hashes = np.array([row.content_hash or "" for row in self.rows], dtype=str)
        self._folds = Folds(groups, self._position)
        self.indexing = index.indexing_status()  # a run updating this index right now, and how far it got
        self._flags: dict[int, list[str]] = {}

    def flags(self, position: int) -> list[str]:
        """A photo's cleaning flags (blurry, tiny, screenshot), worked out once and kept."""
        if position not in self._flags:
            row = self.rows[position]
            self._flags[position] = row_flags(row, self.index.thumbnail(row.id))
        return self._flags[position]

    @cached_property
    def _has_words(self) -> np.ndarray:
        """Whether words were read in each photo (built on the first --has-text or --no-text)."""
        ids = photos_with_words(self.index)
        return np.fromiter((row.id in ids for row in self.rows), dtype=bool, count=len(self.rows))

    def word_matches(self, query: str) -> dict[int, WordMatch]:
        """Position -> how `query` matched the words read in that photo, for the photos it matches."""
        return {self._position[photo_id]: match for photo_id, match in word_matches(self.index, query).items()
                if photo_id in self._position}

    @cached_property
    def _places(self) -> np.ndarray:
        """Each photo's place names, normalised for matching: built on the first --place search only
        (a third of a second per 100,000 GPS photos that no other query should pay)."""
        return np.array([place.search_key() if (place := self.places.get(row.id)) else "" for row in self.rows],
                        dtype=str)

    @classmethod
    def open(cls, index_dir: str | os.PathLike[str], embedder: Embedder | None = None, *,
             engine: str | None = None) -> Library:
        return cls(PhotoIndex.open(index_dir), embedder, engine=engine)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            embedder = load_model(self.model_id, engine=self.engine)
            self._check_model(embedder)
            self._embedder = embedder
        return self._embedder

    def _check_model(self, embedder: Embedder) -> None:
        if embedder.id != self.model_id:
            raise ModelMismatch(self.model_id, embedder.id)
        if self.fingerprint and embedder.fingerprint != self.fingerprint:
            raise ModelMismatch(f"{self.model_id} (weights {self.fingerprint})",
                                f"{embedder.id} (weights {embedder.fingerprint})")

    # --- queries -> vectors -------------------------------------------------------------

    def query_vector(self, terms: list[Term]) -> tuple[np.ndarray, set[int], list[str]]:
        """The combined query vector, the photo positions to leave out (the query photos and their
        exact copies), and notes to show with the results."""
        total = np.zeros(self.vectors.dimension, dtype=np.float32)
        exclude: set[int] = set()
        notes: list[str] = []
        for term in terms:
            vector, content_hash = self._term_vector(term, notes)
            total += term.weight * vector
            if term.weight > 0 and content_hash:
                exclude.update(np.flatnonzero(self._hashes == content_hash).tolist())
        norm = float(np.linalg.norm(total))
        if norm < 1e-9:
            raise BadInput("the query terms cancel each other out; change the weights")
        return total / norm, exclude, notes

    def _term_vector(self, term: Term, notes: list[str]) -> tuple[np.ndarray, str | None]:
        if term.kind == "text":
            text = str(term.value).strip()
            if not text:
                raise BadInput("empty text query")
            embedder = self.embedder
            vector = embedder.embed_texts([text])[0]
            if embedder.text_note:
                describe = getattr(embedder, "describe_text", None)
                notes.append(embedder.text_note + (f" ({describe(text)})" if describe else ""))
            return vector, None
        if term.kind == "photo":
            position = self._position.get(int(term.value))
            if position is None:
                raise BadInput(f"photo {term.value} is not in this index")
            return self.vectors.row(position), self.rows[position].content_hash
        if term.kind == "path":
            return self._path_vector(Path(term.value))
        if term.kind == "bytes":
            photo = _decode(lambda: load_photo_bytes(term.value, self._load_options))
            return embed_images([photo.image], self.embedder)[0], hash_bytes(term.value)
        if term.kind == "image":
            return embed_images([term.value.convert("RGB")], self.embedder)[0], None
        raise BadInput(f"unknown query term kind {term.kind!r}")

    def _path_vector(self, path: Path) -> tuple[np.ndarray, str | None]:
        path = path.expanduser()
        if not exists(path, as_file=True):
            raise BadInput(f"query image not found: {quoted(path)}")
        content_hash = hash_file(path)
        copies = np.flatnonzero(self._hashes == content_hash)
        if len(copies):  # already in the index: no decoding, no model needed
            return self.vectors.row(int(copies[0])), content_hash
        photo = _decode(lambda: load_photo(path, self._load_options))
        return embed_images([photo.image], self.embedder)[0], content_hash

    @property
    def _load_options(self) -> LoadOptions:
        return LoadOptions(min_side=self.embedder.preprocess.resize_to)

    # --- ranking ------------------------------------------------------------------------

    def allowed(self, filters: Filters) -> np.ndarray | None:
        """Boolean mask of the photos the filters let through (None: all of them)."""
        if not filters.active:
            return None
        mask = np.ones(len(self.ids), dtype=bool)
        folder = (filters.folder or "").strip("/")
        if folder:
            mask &= (self._folders == folder) | np.char.startswith(self._folders, folder + "/")
        if filters.since is not None:
            mask &= self._dates >= filters.since.isoformat()
        if filters.until is not None:
            mask &= (self._dates <= filters.until.isoformat()) & (self._dates != "")
        if filters.camera is not None:
            mask &= np.char.find(self._cameras, filters.camera.lower()) >= 0
        if filters.place is not None:
            named = np.zeros(len(self.ids), dtype=bool)
            for pattern in query_patterns(filters.place):
                named |= np.char.find(self._places, pattern) >= 0
            mask &= named
        if filters.has_text is not None:
            mask &= self._has_words if filters.has_text else ~self._has_words
        for tag in filters.tags:
            mask &= np.isin(self._hashes, sorted(self._tagged(tag)))
        for tag in filters.not_tags:
            mask &= ~np.isin(self._hashes, sorted(tagged_hashes(self.index, tag)))
        if filters.album is not None:
            folders = set(self._folders.tolist())
            album = album_named(self.index, filters.album, folders)
            mask &= np.isin(self._folders, sorted(folder for folder in folders if album.holds(folder)))
        for person in filters.people:
            mask &= np.isin(self.ids, sorted(photos_of(self.index, person_named(self.index, person))))
        if filters.face is not None:
            mask &= np.isin(self.ids, sorted(self._face_closeness(filters.face)))
        return mask

    def _face_closeness(self, face: ChosenFace) -> dict[int, float]:
        return nearest_photos(self.index, face.descriptor, face.person_id)

    def _tagged(self, tag: str) -> set[str]:
        """The contents tagged `tag`; a tag no photo carries is a one-line error naming the tags there are."""
        hashes = tagged_hashes(self.index, tag)
        if not hashes:
            known = ", ".join(tag_counts(self.index)) or "none yet"
            raise BadInput(f"no photo is tagged {quoted(tag)} (tags: {known}); add one with "
                           "`photo-search tag add TAG PHOTO...`")
        return hashes

    def browse(self, *, k: int = 10, filters: Filters = Filters(), collapse: bool = True) -> SearchOutcome:
        """No query, only filters ("everything tagged receipts", "the album Vacation 2024"): the
        photos they let through, newest first; with a chosen face, the closest faces first."""
        started = time.perf_counter()
        mask = self.allowed(filters)
        positions = np.flatnonzero(np.ones(len(self.ids), dtype=bool) if mask is None else mask)
        if filters.face is not None:  # "photos of this person": the closest faces first
            closeness = self._face_closeness(filters.face)
            scores = np.asarray([closeness[int(self.ids[p])] for p in positions], dtype=np.float32)
            order = np.argsort(-scores, kind="stable")
            positions, scores = positions[order], scores[order]
        else:
            positions = np.asarray(sorted(positions.tolist(), key=lambda p: (self._dates[p] != "", self._dates[p]),
                                          reverse=True), dtype=np.int64)  # the undated last
            scores = np.ones(len(positions), dtype=np.float32)
        results = self._results(positions, scores, k, set(), collapse, {})
        notes = [filters.face.note] if filters.face is not None and filters.face.note else []
        if not results:
            notes.append("no photo passes these filters")
        return SearchOutcome(results, (time.perf_counter() - started) * 1000, notes, None)

    def search(self, query: list[Term] | Term | str, *, k: int = 10, filters: Filters = Filters(),
               min_score: float | Literal["auto"] | None = None, rerank: bool = True,
               diversity: float = 0.0, collapse: bool = True) -> SearchOutcome:
        """Top-k photos for `query` (text, Term or Terms), best first.

        `rerank` refines the order of the best candidates (see `rerank`); `diversity` (0 to 1)
        trades relevance for variety; `min_score` drops results below that similarity, and
        "auto" applies this library's measured cutoff (`relevance`): nothing at all when no photo
        is close, which is the honest answer to a photo of something the library does not hold.
        `collapse` gives the copies and burst shots of one photo one result: the best-scoring one,
        with the others in its `also`. A text term also matches the words read inside photos
        (the two rankings fused); "words" terms match only those words: alone they are the whole
        query, beside other terms they keep only the photos whose words match.
        """
        started = time.perf_counter()
        terms = [Term("text", query)] if isinstance(query, str) else [query] if isinstance(query, Term) else query
        if k < 1:
            raise BadInput("k must be at least 1")
        said = _words_of(terms, "text")
        required = _words_of(terms, "words")
        if required and len(required) == len(terms):
            return self._search_words(" ".join(required), k, filters, collapse, started)
        try:
            vector, exclude, notes = self.query_vector([term for term in terms if term.kind != "words"])
        except NoTextEncoder as error:
            if not said or any(term.kind not in ("text", "words") for term in terms):
                raise
            return self._words_instead(said, required, k, filters, collapse, started, error)
        if self.indexing:
            notes.insert(0, f"indexing is in progress ({self.indexing}): these results cover the photos indexed "
                            "so far")
        mask = self.allowed(filters)
        if exclude or required:
            mask = np.ones(len(self.ids), dtype=bool) if mask is None else mask.copy()
            mask[list(exclude)] = False
        if required:
            mask &= self._matched_mask(self.word_matches(" ".join(required)))
        pool = max(k, RERANK_POOL if rerank else 0, 4 * k if diversity or collapse else 0)
        positions, scores = self.vectors.top(vector, pool, mask)
        if filters.hide_flagged:  # judged on the candidates only: flags need each photo's thumbnail
            kept = np.array([not self.flags(int(p)) for p in positions], dtype=bool)
            positions, scores = positions[kept], scores[kept]
        best = (self.rows[int(positions[0])], float(scores[0])) if len(positions) else None
        candidates = self.vectors.rows(positions)
        if rerank and len(positions) > 1:
            candidates, scores = rerank_candidates(vector, candidates)
            order = np.argsort(-scores, kind="stable")
            positions, candidates, scores = positions[order], candidates[order], scores[order]
        if diversity:
            chosen = maximal_marginal_relevance(candidates, scores, k, diversity)
            positions, scores = positions[chosen], scores[chosen]
        matches = self._allowed_matches(self.word_matches(" ".join(said)), mask, filters) if said else {}
        if matches:
            positions, scores = self._fuse(positions, scores, matches, vector)
        results = self._results(positions, scores, k, exclude, collapse, matches)
        floor, results = self._apply_floor(results, vector, best, min_score, bool(said), notes)
        return SearchOutcome(results, (time.perf_counter() - started) * 1000, notes, floor)

    def _search_words(self, query: str, k: int, filters: Filters, collapse: bool, started: float,
                      within: set[int] | None = None) -> SearchOutcome:
        """Only the words inside photos: the photos whose words match, best match first (among
        the positions `within`, when given)."""
        matches = self._allowed_matches(self.word_matches(query), self.allowed(filters), filters)
        if within is not None:
            matches = {position: match for position, match in matches.items() if position in within}
        order = sorted(matches, key=lambda position: (-matches[position].score, position))
        positions = np.asarray(order, dtype=np.int64)
        scores = np.asarray([matches[position].score for position in order], dtype=np.float32)
        results = self._results(positions, scores, k, set(), collapse, matches)
        notes = [] if results else [f"no photo's words match {quoted(query)}"]
        return SearchOutcome(results, (time.perf_counter() - started) * 1000, notes, None)

    def _words_instead(self, said: list[str], required: list[str], k: int, filters: Filters, collapse: bool,
                       started: float, error: NoTextEncoder) -> SearchOutcome:
        """A text query this model cannot read (an offline model knows only its labels): the
        words inside photos answer it alone, or the model's error stands when none match."""
        within = set(self.word_matches(" ".join(required))) if required else None
        outcome = self._search_words(" ".join(said), k, filters, collapse, started, within)
        if not outcome.results:
            raise NoTextEncoder(f"{error}; and no photo's words match it") from None
        outcome.notes = [f"{self.model_id} cannot read this text, so only the words inside photos were searched"]
        return outcome

    def _allowed_matches(self, matches: dict[int, WordMatch], mask: np.ndarray | None,
                         filters: Filters) -> dict[int, WordMatch]:
        kept = {position: match for position, match in matches.items() if mask is None or mask[position]}
        if filters.hide_flagged:
            kept = {position: match for position, match in kept.items() if not self.flags(position)}
        return kept

    def _matched_mask(self, matches: dict[int, WordMatch]) -> np.ndarray:
        mask = np.zeros(len(self.ids), dtype=bool)
        mask[list(matches)] = True
        return mask

    def _fuse(self, positions: np.ndarray, scores: np.ndarray, matches: dict[int, WordMatch],
              vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One ranking from the image model's and the words': weighted reciprocal ranks, so a photo
        whose words say the query ranks high even when it does not look like it. Scores stay the
        image similarity (the words' share is in each result's `words`)."""
        by_words = sorted(matches, key=lambda position: (-matches[position].score, position))
        fused: dict[int, float] = {}
        similarity = dict(zip(positions.tolist(), scores.tolist(), strict=True))
        for rank, position in enumerate(positions.tolist()):
            fused[position] = 1 / (FUSION_K + rank + 1)
        for rank, position in enumerate(by_words):
            fused[position] = fused.get(position, 0.0) + WORDS_WEIGHT / (FUSION_K + rank + 1)
        missing = [position for position in by_words if position not in similarity]
        if missing:
            cosines = self.vectors.rows(np.asarray(missing, dtype=np.int64)) @ vector
            similarity.update(zip(missing, cosines.tolist(), strict=True))
        order = sorted(fused, key=lambda position: -fused[position])
        return (np.asarray(order, dtype=np.int64),
                np.asarray([similarity[position] for position in order], dtype=np.float32))

    def _results(self, positions: np.ndarray, scores: np.ndarray, k: int, exclude: set[int], collapse: bool,
                 matches: dict[int, WordMatch]) -> list[Result]:
        if collapse:
            results = self._folds.results(self.rows, positions, scores, k, exclude)
        else:
            results = [Result(self.rows[p], float(s)) for p, s in zip(positions[:k], scores[:k], strict=True)]
        return [replace(result, place=self.places.get(result.photo.id),
                        words=matches[self._position[result.photo.id]].words
                        if self._position[result.photo.id] in matches else (),
                        tags=tuple(self.tags.get(result.photo.content_hash or "", ()))) for result in results]

    def _apply_floor(self, results: list[Result], vector: np.ndarray, best: tuple[PhotoRow, float] | None,
                     min_score: float | Literal["auto"] | None, text: bool,
                     notes: list[str]) -> tuple[float | None, list[Result]]:
        """The cutoff (automatic or yours) on the results; photos whose words matched always stay."""
        cutoff = self.cutoff if min_score == "auto" and not text else None
        text_cutoff = self.text_cutoff if min_score == "auto" and text else None
        if cutoff is not None:
            return cutoff.floor, self._cut(results, vector, best, cutoff, notes)
        if text_cutoff is not None:
            if best is None or best[1] < text_cutoff.hit:
                results = [result for result in results if result.words]
                if not results:
                    notes.append(_no_close_matches("these words match this library less well than nine in ten "
                                                   "everyday words do, and no photo's words match them",
                                                   text_cutoff.hit, best))
                else:
                    notes.append("these results are found by the words inside them")
            return text_cutoff.hit, results
        if min_score not in (None, "auto"):
            floor = float(min_score)
            results = [result for result in results if result.score >= floor or result.words]
            if not results:
                notes.append(f"no photos score at least {floor:g}: nothing close enough")
            return floor, results
        return None, results

    @property
    def cutoff(self) -> Cutoff | None:
        """This library's automatic cutoff, as measured when it was last indexed."""
        return self._cutoff

    @cached_property
    def text_cutoff(self) -> TextCutoff | None:
        """This library's cutoff for text queries, as the last index run measured it; for an index
        that changed since (or was made by an older version), measured here on the first text
        query (the generic words' vectors, kept per model in the cache folder) and not stored: a
        search never writes to the index."""
        if self._stored_text is not None:
            return self._stored_text
        config = self.index.config()
        probes = probes_of(config.fingerprint, lambda: self.embedder)
        return measure_text(self.vectors.rows(np.arange(len(self))), probes, config.generation)

    def _cut(self, results: list[Result], vector: np.ndarray, best: tuple[PhotoRow, float] | None,
             cutoff: Cutoff, notes: list[str]) -> list[Result]:
        """The automatic cutoff, on plain cosine (re-ranked scores live on another scale): nothing
        when even the best match is not close; else the results above the floor."""
        if best is None or best[1] < cutoff.hit:
            notes.append(_no_close_matches("nothing here is as similar as this library's photos are to each other",
                                           cutoff.hit, best))
            return []
        cosines = self.vectors.rows(np.asarray([self._position[r.photo.id] for r in results], dtype=np.int64)) @ vector
        return [result for result, cosine in zip(results, cosines, strict=True) if cosine >= cutoff.floor]


def _words_of(terms: list[Term], kind: str) -> list[str]:
    """The texts of the query's `kind` terms ("text" or "words") asking for something (weight above 0)."""
    return [str(term.value).strip() for term in terms if term.kind == kind and term.weight > 0
            and str(term.value).strip()]


def _no_close_matches(why: str, hit: float, best: tuple[PhotoRow, float] | None) -> str:
    """The note of a query the automatic cutoff answers with nothing: why, and the closest photo."""
    closest = f"; the closest photo is {best[0].path} (similarity {best[1]:.2f})" if best else ""
    return f"no close matches: {why} ({hit:.2f}){closest}. --min-score 0 shows everything"


def folded_label(also: list[AlsoRow] | tuple[AlsoRow, ...]) -> str:
    """'+3 copies', '+4 similar', '+1 copy, +2 similar': what else a result stands for ('' if nothing)."""
    copies = sum(item["kind"] != "similar" for item in also)
    similar = len(also) - copies
    parts = [f"+{copies} cop{'y' if copies == 1 else 'ies'}"] * bool(copies) + [f"+{similar} similar"] * bool(similar)
    return ", ".join(parts)


class Folds:
    """Which photos fold into one result: the copy groups the duplicate finder keeps in the index
    (copies into their keeper, keepers into their burst's keeper), by position in the library."""

    def __init__(self, groups: list[tuple[int, int, str]], position: dict[int, int]) -> None:
        self.root: dict[int, int] = {}
        self.kind: dict[int, str] = {}
        self.members: dict[int, list[int]] = {}
        for photo_id, root_id, kind in groups:
            if photo_id in position and root_id in position:
                photo, root = position[photo_id], position[root_id]
                self.root[photo], self.kind[photo] = root, kind
                self.members.setdefault(root, []).append(photo)

    def results(self, rows: list[PhotoRow], positions: np.ndarray, scores: np.ndarray, k: int,
                exclude: set[int]) -> list[Result]:
        """The best k results with one slot per group: its best-scoring member stands for the rest."""
        results: list[Result] = []
        seen: set[int] = set()
        for position, score in zip(positions.tolist(), scores.tolist(), strict=True):
            root = self.root.get(position, position)
            if root in seen:
                continue
            seen.add(root)
            others = [m for m in self.members.get(root, ()) if m != position and m not in exclude]
            also = tuple(AlsoRow(path=rows[m].path, kind=self._kind(m, position)) for m in sorted(others))
            results.append(Result(rows[position], float(score), also))
            if len(results) == k:
                break
        return results

    def _kind(self, member: int, shown: int) -> str:
        """How a folded photo relates to the one shown: its own kind, or for the group's keeper, the shown one's."""
        kind = self.kind.get(member, "keep")
        return kind if kind != "keep" else self.kind.get(shown, "near")


def rerank_candidates(query: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Re-score the best candidates of a query; returns their refined vectors and new scores.

    Two classic retrieval tricks, kept local to the candidates so they cost about a millisecond:
    each candidate is blended with its closest fellow candidates (database-side augmentation),
    which pulls photos of one subject together; then the query is blended with its best
    candidates (query expansion), which points it more precisely at what it shows. Blend weights
    are similarity**POWER, so a loose match barely moves anything (and a filter that leaves only
    poor matches cannot drag the query away).
    """
    similarity = candidates @ candidates.T
    nearest = np.argsort(-similarity, axis=1)[:, :NEIGHBOURS]  # includes the candidate itself
    weights = np.clip(np.take_along_axis(similarity, nearest, axis=1), 0, None) ** POWER
    refined = _unit((weights[:, :, None] * candidates[nearest]).sum(axis=1))
    scores = refined @ query
    best = np.argsort(-scores)[:EXPAND_TOP]
    expanded = _unit(query + (np.clip(scores[best], 0, None)[:, None] ** POWER * refined[best]).sum(axis=0))
    return refined, refined @ expanded


def maximal_marginal_relevance(candidates: np.ndarray, scores: np.ndarray, k: int, diversity: float) -> np.ndarray:
    """Indices of k candidates picked one by one, each trading relevance against resemblance to
    the picks before it, so ten frames of one burst do not fill the first page."""
    chosen: list[int] = []
    closest = np.zeros(len(candidates), dtype=np.float32)
    for _ in range(min(k, len(candidates))):
        value = (1 - diversity) * scores - diversity * closest
        value[chosen] = -np.inf
        pick = int(np.argmax(value))
        chosen.append(pick)
        closest = np.maximum(closest, candidates @ candidates[pick])
    return np.asarray(chosen, dtype=np.int64)


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def _decode(load) -> Any:
    try:
        return load()
    except PhotoSkipped as error:
        raise BadInput(f"cannot use the query image: {error}") from None


_TERM = re.compile(r"^(?:(?P<weight>\d+(?:\.\d+)?)\s*\*\s*)?(?P<body>.+)$", re.DOTALL)


def parse_query(expression: str, *, base: Path | None = None) -> list[Term]:
    """Parse rclip-style combinations: `"beach" + photo.jpg - "people"`, `2*"sunset" + ref.jpg`.

    A part that names an existing file is an image; anything else is text.
    """
    lexer = shlex.shlex(expression, posix=True, punctuation_chars="+-")
    lexer.whitespace_split = True
    terms: list[Term] = []
    sign, words = 1.0, list[str]()

    def flush() -> None:
        if words:
            terms.append(_make_term(" ".join(words), sign, base))

    try:
        for token in lexer:
            if token in ("+", "-"):
                flush()
                words.clear()
                sign = 1.0 if token == "+" else -1.0
            else:
                words.append(token)
    except ValueError as error:
        raise BadInput(f"cannot read the query {quoted(expression)}: {error}") from None
    flush()
    if not terms:
        raise BadInput("empty query")
    return terms


def _make_term(text: str, sign: float, base: Path | None) -> Term:
    match = _TERM.match(text.strip())
    weight = float(match["weight"]) if match and match["weight"] else 1.0
    body = match["body"].strip() if match else text.strip()
    candidate = Path(body).expanduser()
    if base is not None and not candidate.is_absolute():
        candidate = base / candidate
    kind = "path" if exists(candidate, as_file=True) else "text"
    return Term(kind, str(candidate) if kind == "path" else body, sign * weight)


def parse_day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{option} wants a date like 2024-07-31, not {quoted(text)}") from None

