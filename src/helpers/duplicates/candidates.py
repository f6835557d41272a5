"""Stage 1 of the duplicate finder: which pairs are worth verifying, found once per photo and kept.

A pair is a candidate when its embeddings are close, or when its turn-free signatures are
(embeddings change a lot when a photo is turned 90 degrees). Each photo keeps its `NEIGHBOURS`
closest partners, so a folder of 500 look-alike product shots does not explode the work.

The pairs live in the index (`copy_pairs`): a photo's candidates are looked for once, when it is
new or its content changed, against the whole library. Adding 1,000 photos to 100,000 costs
1,000 x 100,000 similarities, not 100,000 squared; a removed photo takes its pairs with it.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .settings import CandidateSettings
from .store import CopyStore
from .verify import SIGNATURE_LENGTH, turn_free_signature

NEIGHBOURS = 50  # candidates kept per photo: bounds the verification work in large look-alike sets
BLOCK = 2048  # rows per block of the all-pairs computation (16 MB of float32 per block)
NEW_BLOCK = 256  # new photos compared with the whole library at a time (256 x 100,000 floats: 100 MB)


def pairs_above(vectors: np.ndarray, threshold: float, block: int = BLOCK) -> Iterator[tuple[np.ndarray, ...]]:
    """(i, j, similarity) arrays, i < j, of every pair with similarity >= threshold, one block of
    rows at a time: memory stays at block x block whatever the library size."""
    vectors = np.asarray(vectors, dtype=np.float32)  # once: float16 products are slow on CPUs
    count = len(vectors)
    for start in range(0, count, block):
        rows = vectors[start:start + block]
        for column_start in range(start, count, block):
            scores = rows @ vectors[column_start:column_start + block].T
            if column_start == start:
                scores = np.triu(scores, k=1) + np.tril(np.full_like(scores, -2.0))
            i, j = np.nonzero(scores >= threshold)
            if len(i):
                yield i + start, j + column_start, scores[i, j]


def find_candidates(store: CopyStore, settings: CandidateSettings, neighbours: int = NEIGHBOURS) -> int:
    """Find and store the candidate pairs of every photo that has none looked for yet (new or
    changed photos; all of them after the settings changed). Returns how many photos were new."""
    if store.settings_stamp() != settings.stamp():
        store.reset(settings.stamp())
    new_ids = store.unsigned()
    if not new_ids:
        return 0
    index = store.index
    with index.snapshot():
        ids, stored = index.load_vectors()
        known = store.signatures()
    vectors = np.asarray(stored, dtype=np.float32)
    position = {int(photo_id): p for p, photo_id in enumerate(ids)}
    new = np.array([position[photo_id] for photo_id in new_ids if photo_id in position], dtype=np.int64)
    computed = {int(ids[p]): _signature(index.thumbnail(int(ids[p]))) for p in new}
    signatures = np.stack([computed[int(i)] if int(i) in computed else
                           np.frombuffer(known[int(i)], dtype=np.float32) for i in ids]) \
        if len(ids) else np.zeros((0, SIGNATURE_LENGTH), np.float32)
    pairs: dict[tuple[int, int], float] = {}
    for start in range(0, len(new), NEW_BLOCK):
        block = new[start:start + NEW_BLOCK]
        cosines = vectors[block] @ vectors.T
        near = (cosines >= settings.candidate_cosine) | (signatures[block] @ signatures.T >= settings.signature_cosine)
        for row, photo in enumerate(block.tolist()):
            near[row, photo] = False
            partners = np.flatnonzero(near[row])
            closest = partners[np.argsort(-cosines[row, partners], kind="stable")[:neighbours]]
            for other in closest.tolist():
                pairs[(min(photo, other), max(photo, other))] = round(float(cosines[row, other]), 5)
    store.add_candidates([(photo_id, signature.astype(np.float32).tobytes())
                               for photo_id, signature in computed.items()],
                              [(int(ids[a]), int(ids[b]), cosine) for (a, b), cosine in pairs.items()])
    return len(new)


def _signature(thumbnail: bytes | None) -> np.ndarray:
    """A photo without a cached thumbnail gets a zero signature: it matches nothing."""
    return turn_free_signature(thumbnail) if thumbnail else np.zeros(SIGNATURE_LENGTH, np.float32)
