"""Matching a query against the words read inside photos, forgiving what reading gets wrong.

Text read off a photo has mistakes ("Genexis" for "Genaxis", "AVOCADD"), runs words together
("JURTObHHALI") and splits others, and a person types without accents or capitals. So a query
word matches wherever the photo's text holds it with a few letters wrong, inside a longer word
too ("star" in "starMEX"): the edit distance of the word to the best-matching stretch of the
text (approximate substring matching), worked out one query letter at a time over the whole text
with numpy. A query matches a photo when the words it finds cover more than MIN_SHARE of the
query's letters; its score is that share, each found word counted by how well it matched.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

MIN_SHARE = 0.5  # a photo matches when more than this share of the query's letters is found
_MAX_TEXT = 20_000  # characters of a photo's text matched against (a dense page is longer)


@dataclass(frozen=True)
class WordMatch:
    """How well a query matched one photo's words: a score from 0 to 1 and the photo's own words
    that matched, as read."""

    score: float
    words: tuple[str, ...]


def normalise(text: str) -> str:
    """Lower case, no accents, letters and digits only, single spaces: the form every text takes
    before matching ("Théâtre du PALAIS-ROYAL" -> "theatre du palais royal")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = (char if unicodedata.category(char)[0] in "LN" else " "
            for char in decomposed if not unicodedata.combining(char))
    return " ".join("".join(kept).split())


def allowed_errors(word: str) -> int:
    """Letters a word may have wrong and still match a word of the text: none up to four letters
    ("star" must be "star", or it would match "stay", "scar" and "stab" on every receipt), one
    up to seven, two up to eleven, three beyond. A Chinese or Japanese character carries as much
    as a short word, so there a word of up to three must be exact and one of up to six may have
    one wrong."""
    if any(_is_wide(char) for char in word):
        return 0 if len(word) <= 3 else 1 if len(word) <= 6 else 2
    return 0 if len(word) <= 4 else 1 if len(word) <= 7 else 2 if len(word) <= 11 else 3


def trigrams(query: str) -> list[str]:
    """The three-character pieces of the query's words, for the full-text index to find candidates."""
    pieces = {word[i:i + 3] for word in normalise(query).split() for i in range(len(word) - 2)}
    return sorted(pieces)


class PhotoText:
    """One photo's words, ready to match many queries against: the normalised text, and for
    each of its characters which word of the text (as read) it came from."""

    def __init__(self, lines: list[str]) -> None:
        parts: list[str] = []
        owners: list[int] = []
        self.words: list[str] = [word for line in lines for word in line.split()]
        for number, word in enumerate(self.words):
            normal = normalise(word)
            if normal:
                if parts:
                    parts.append(" ")
                    owners.append(-1)
                parts.append(normal)
                owners.extend([number] * len(normal))
        self.text = "".join(parts)[:_MAX_TEXT]
        self._owner = np.asarray(owners[:_MAX_TEXT], dtype=np.int64)
        self._codes = np.frombuffer(self.text.encode("utf-32-le"), dtype=np.uint32)

    def match(self, query: str) -> WordMatch | None:
        """The query's match in this text, or None when too little of it is found."""
        words = normalise(query).split()
        total = sum(len(word) for word in words)
        if not total or not self.text:
            return None
        found = 0.0
        matched: list[str] = []
        for word in words:
            distance, end = self._best(word)
            if distance <= allowed_errors(word):
                found += len(word) - distance
                owner = int(self._owner[end])
                if self.words[owner] not in matched:
                    matched.append(self.words[owner])
        share = found / total
        return WordMatch(round(share, 4), tuple(matched)) if share > MIN_SHARE and matched else None

    def _best(self, word: str) -> tuple[int, int]:
        """How many letters `word` has wrong where it matches best, and where that match ends.

        Exactly, it may match anywhere, inside a longer word too ("star" in "starmex"). With
        mistakes, only whole words of the text ("genexis" for "genaxis", not "jubila" of
        "jubilant" for "jubilee"): Sellers' dynamic programme, started only at word starts and
        read only at word ends, one row per letter of the query word, each row vectorised (the
        cost of ending at each text position is the best of a match or a substitution, a letter
        the text lacks, and a letter the word lacks; that last chain is a running minimum of
        cost minus position, so a row is a handful of numpy operations)."""
        at = self.text.find(word)
        if at >= 0:
            return 0, at + len(word) - 1
        codes = self._codes
        spaces = np.concatenate(([True], codes == ord(" "), [True]))
        positions = np.arange(len(codes) + 1, dtype=np.int64)
        far = len(word) + 1
        row = np.where(spaces[:-1], 0, far).astype(np.int64)  # row[j]: a match may start before text[j]
        for char in np.frombuffer(word.encode("utf-32-le"), dtype=np.uint32):
            step = np.empty_like(row)
            step[0] = row[0] + 1
            step[1:] = np.minimum(row[:-1] + (codes != char), row[1:] + 1)
            row = np.minimum.accumulate(step - positions) + positions
        ends = np.flatnonzero(spaces[2:] & ~spaces[1:-1])  # text[j] ends a word
        if not len(ends):
            return far, 0
        best = int(ends[np.argmin(row[ends + 1])])
        return int(row[best + 1]), best


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")
