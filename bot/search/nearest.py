"""The nearest vectors to a question, from a copy of a Chroma collection held in memory.

Chroma answers a query in ~1.5 ms of CPU on 2 cores, nearly all of it its own fixed cost (checking
the request, its SQLite metadata, converting the result), and queries from several threads do not
overlap: with phrasings learned from 👍 a question made two, ~20% of the server's CPU per answer
under bench/load.py. One matrix product over the handbook's 2,019 vectors takes ~0.07 ms and is
exact, where Chroma's HNSW index is approximate.

Chroma stays where the vectors live. The copy is taken again whenever the version the caller reads
from the database changes: every change of the vectors is followed by a new version, written in
the transaction that records the change (the index's change marks; `learned_generation` for the
phrasings learned from use), so a change made by another process or host is seen by the next
question. A collection larger than MAX_VECTORS is not copied: Chroma answers, as before.
"""

from __future__ import annotations

import threading

import numpy as np

MAX_VECTORS = 100_000  # ~150 MB of float32 at 384 dimensions; a larger collection is searched by Chroma


class InMemory:
    """One collection's vectors, as unit rows of a matrix, with the version they were copied at."""

    def __init__(self):
        self._lock = threading.Lock()  # one copy taken at a time
        self._copy: tuple[object, list[str], np.ndarray | None] | None = None  # (version, ids, rows)

    def forget(self) -> None:
        """Drop the copy (the collection was deleted and made anew)."""
        with self._lock:
            self._copy = None

    def query(self, collection, embedding, n: int, version) -> list[tuple[str, float]] | None:
        """The n nearest (id, cosine similarity), best first; None when the collection is too large
        to copy (then ask Chroma). `version` must change whenever the collection does."""
        copy = self._copy
        if copy is None or copy[0] != version:
            with self._lock:
                if self._copy is None or self._copy[0] != version:
                    self._copy = (version, *take(collection))
                copy = self._copy
        _, ids, rows = copy
        if rows is None:
            return None
        if not ids or n <= 0:
            return []
        question = np.asarray(embedding, dtype=np.float32)
        # einsum, not `rows @ question`: that is BLAS, whose threads, called from many listener
        # threads at once, spun through ~12 ms of CPU per answer (bench/slack_latency.py).
        similarities = np.einsum("ij,j->i", rows, question / (np.linalg.norm(question) or 1.0))
        if n < len(ids):
            nearest = np.argpartition(-similarities, n - 1)[:n]
            nearest = nearest[np.argsort(-similarities[nearest], kind="stable")]
        else:
            nearest = np.argsort(-similarities, kind="stable")
        return [(ids[i], float(similarities[i])) for i in nearest]


def take(collection) -> tuple[list[str], np.ndarray | None]:
    """(ids, unit rows) of a Chroma collection; rows None when it holds more than MAX_VECTORS."""
    if collection.count() > MAX_VECTORS:
        return [], None
    got = collection.get(include=["embeddings"])
    ids = list(got["ids"])
    if not ids:
        return [], np.zeros((0, 0), dtype=np.float32)
    rows = np.asarray(got["embeddings"], dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return ids, rows / np.where(norms == 0, 1.0, norms)
