"""The duplicate finder's settings and their defaults, in one light module (no OpenCV): the CLI's
help, the copies stage and the finder read them from here."""

from __future__ import annotations

from dataclasses import dataclass

from ..index import PhotoIndex

DEFAULT_THRESHOLD = 0.65  # verification score for "near"; `calibrate` measures one for a library
DEFAULT_CANDIDATE_COSINE = 0.6  # embedding similarity that makes a pair worth verifying
DEFAULT_SIGNATURE_COSINE = 0.97  # turn-free signature similarity that does the same for turned copies
SIMILAR_COSINE = 0.8  # aligned pairs (same viewpoint) this close in embedding space are "similar"
BURST_SECONDS = 600  # photos taken this close together by a camera are a burst or a re-take, not a copy
CALIBRATION = "copies.calibration"  # where `dupes --calibrate` keeps what it measured (a stage state)
CANDIDATES_VERSION = 1  # of the way candidates are found: a change makes every stored pair be found again
VERIFICATION_VERSION = 2  # of the evidence stored per pair (2: scores outside an overlay); likewise


@dataclass(frozen=True)
class CandidateSettings:
    candidate_cosine: float
    signature_cosine: float

    def stamp(self) -> dict[str, float | int]:
        return {"candidate_cosine": self.candidate_cosine, "signature_cosine": self.signature_cosine,
                "version": CANDIDATES_VERSION, "verification": VERIFICATION_VERSION}


@dataclass(frozen=True)
class Settings:
    """The thresholds a run uses; `calibrate` stores a set measured on the library in its index."""

    threshold: float = DEFAULT_THRESHOLD
    candidate_cosine: float = DEFAULT_CANDIDATE_COSINE
    signature_cosine: float = DEFAULT_SIGNATURE_COSINE

    @property
    def candidates(self) -> CandidateSettings:
        return CandidateSettings(self.candidate_cosine, self.signature_cosine)

    @classmethod
    def of_index(cls, index: PhotoIndex) -> Settings:
        """The library's own settings: calibrated when `dupes --calibrate` ran, else the defaults."""
        stored = index.stage_state(CALIBRATION) or {}
        return cls(**{key: stored[key] for key in ("threshold", "candidate_cosine", "signature_cosine")
                      if key in stored})
