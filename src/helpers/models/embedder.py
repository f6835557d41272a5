"""What a loaded model is, whichever engine runs it: pixels in, unit vectors out (and text, where it
can). Also the two baselines with no network, and text for a classifier through its labels."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..errors import NoTextEncoder, quoted
from .engines import Tower
from .preprocess import Preprocess

TextKind = Literal["clip-bpe", "hf", "labels", "none"]


@dataclass(frozen=True)
class ModelInfo:
    """Everything about a model except its networks: what an index records, and what an ONNX
    export carries so a query can run without PyTorch."""

    id: str
    fingerprint: str
    dimension: int
    preprocess: Preprocess
    text: TextKind = "none"
    context_length: int = 0
    tokenizer: str = ""  # the Hugging Face tokenizer name, for text == "hf"

    def describe(self) -> dict[str, Any]:
        """What an index records, so it can refuse vectors from any other model."""
        return {"model_id": self.id, "fingerprint": self.fingerprint, "dimension": self.dimension,
                "preprocess": self.preprocess.describe()}

    def to_dict(self) -> dict[str, Any]:
        return {**self.describe(), "text": self.text, "context_length": self.context_length,
                "tokenizer": self.tokenizer}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> ModelInfo:
        return cls(values["model_id"], values["fingerprint"], int(values["dimension"]),
                   Preprocess.from_dict(values["preprocess"]), values["text"], int(values["context_length"]),
                   values["tokenizer"])


TextEncoder = Callable[[list[str]], np.ndarray]


class Embedder:
    """A loaded model: pixels in, unit vectors out (and text, where it can). Which engine runs
    the networks is invisible from here."""

    def __init__(self, info: ModelInfo, image: Tower, text: TextEncoder | None = None, *,
                 labels: LabelText | None = None, engine: str = "numpy") -> None:
        self.info = info
        self._image = image
        self._text = text
        self.labels = labels
        self.engine = engine

    id = property(lambda self: self.info.id)
    fingerprint = property(lambda self: self.info.fingerprint)
    dimension = property(lambda self: self.info.dimension)
    preprocess = property(lambda self: self.info.preprocess)

    @property
    def has_text(self) -> bool:
        return self._text is not None

    @property
    def text_note(self) -> str:
        """How text queries work with this model, shown with results ("" for real text search)."""
        return f"{self.id} has no text encoder: text is matched to its ImageNet labels" if self.labels else ""

    def embed_pixels(self, batch: np.ndarray) -> np.ndarray:
        """(N, 3, S, S) float32 -> (N, D) L2-normalised float32."""
        return normalise(self._image(batch))

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        if self._text is not None:
            return normalise(self._text(texts))
        if self.labels is not None:
            return self.labels.embed(texts)
        raise NoTextEncoder(f"the model {self.id} has no text encoder; search with an example photo instead")

    def describe_text(self, text: str) -> str | None:
        return self.labels.describe(text) if self.labels else None

    def describe(self) -> dict[str, Any]:
        return self.info.describe()


class LabelText:
    """Text for an image classifier: the query must name some of its labels, and the classifier's
    weight rows for them act as the text vector ("a photo of a sailboat" -> "sailboat")."""

    def __init__(self, weights: np.ndarray, labels: list[list[str]]) -> None:
        self.weights = np.asarray(weights, dtype=np.float32)
        self.labels = labels

    def matching(self, text: str) -> list[int]:
        """Classes named like the query: an exact label name first, else labels containing the words."""
        words = [word for word in re.findall(r"[a-z0-9']+", text.lower()) if word not in _FILLER_WORDS]
        query = " ".join(words)
        if not query:
            return []
        exact = [i for i, names in enumerate(self.labels) if query in names]
        if exact:
            return exact
        pattern = re.compile(rf"\b{re.escape(query)}s?\b")
        return [i for i, names in enumerate(self.labels) if any(pattern.search(name) for name in names)]

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = []
        for text in texts:
            classes = self.matching(text)
            if not classes:
                raise NoTextEncoder(
                    f"no ImageNet label matches {quoted(text)}: this model understands only its 1000 label "
                    "names (e.g. 'pizza', 'schooner', 'tabby cat'); use the clip model for free text")
            vectors.append(normalise(self.weights[classes]).mean(axis=0))
        return normalise(np.stack(vectors))

    def describe(self, text: str) -> str:
        names = [self.labels[i][0] for i in self.matching(text)]
        return f"ImageNet labels: {', '.join(names[:8])}" + (" ..." if len(names) > 8 else "")


_FILLER_WORDS = frozenset("a an the of photo photos picture pictures image images with some my".split())


class _Baseline(Embedder):
    """A model with no network: plain numpy on the preprocessed pixels."""

    INFO: ModelInfo

    def __init__(self) -> None:
        super().__init__(self.INFO, self._vectors)

    @staticmethod
    def _vectors(batch: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class PixelBaseline(_Baseline):
    """A baseline with nothing learned: the photo shrunk to 16 x 16 pixels, as a vector. It shows,
    measured, what a learned embedding adds: this one only knows where light and colour sit."""

    INFO = ModelInfo("baseline-pixels", "pixels-16-v1", 16 * 16 * 3,
                     Preprocess(size=16, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)))

    @staticmethod
    def _vectors(batch: np.ndarray) -> np.ndarray:
        flat = batch.reshape(len(batch), -1)
        return flat - flat.mean(axis=1, keepdims=True)


class HistogramBaseline(_Baseline):
    """A baseline that only knows colours: a 8 x 8 x 8 colour histogram (square-rooted, so one
    dominant colour does not swamp the rest). Finds "mostly blue" photos, not "boats"."""

    INFO = ModelInfo("baseline-histogram", "rgb-histogram-8-v1", 8 * 8 * 8,
                     Preprocess(size=64, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0)))

    @staticmethod
    def _vectors(batch: np.ndarray) -> np.ndarray:
        levels = np.clip((batch * 8).astype(np.int64), 0, 7)  # (N, 3, S, S), values were 0..1
        codes = (levels[:, 0] * 64 + levels[:, 1] * 8 + levels[:, 2]).reshape(len(batch), -1)
        counts = np.stack([np.bincount(row, minlength=8 * 8 * 8) for row in codes]).astype(np.float32)
        return np.sqrt(counts)




def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
