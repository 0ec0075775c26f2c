"""The nearest vectors to a question, from a copy of a Chroma collection held in memory.

Chroma answers a query in ~1.5 ms of CPU on 2 cores, nearly all of it its own fixed cost (checking
the request, its SQLite metadata, converting the result), and queries from several threads do not
overlap: with phrasings learned from 👍 a question made two, ~20% of the server's CPU per answer
under bench/load.py. One product over the handbook's 2,019 vectors takes ~0.13 ms and is
exact, where Chroma's HNSW index is approximate.

Chroma stays where the vectors live. The copy is taken again whenever the version the caller reads
from the database changes: every change of the vectors is followed by a new version, written in
the transaction that records the change (the index's change marks; `learned_generation` for the
phrasings learned from use), so a change made by another process or host is seen by the next
question. A collection larger than MAX_VECTORS is not copied: Chroma answers, as before. So does
Chroma when the copy cannot be taken: embedded Chroma will not give a process its vectors again once
another process (a `kb sync` on the command line) wrote them ("Error finding id"), though it still
answers that process's queries; copying is tried again every RETRY_SECONDS.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np

log = logging.getLogger(__name__)

MAX_VECTORS = 100_000  # ~150 MB of float32 at 384 dimensions; a larger collection is searched by Chroma
PAGE = 5_000  # vectors fetched at a time while copying: Chroma's answer is lists of Python floats
RETRY_SECONDS = 60.0  # after a copy failed, Chroma answers; copying is tried again after this long
KEEP_OLDER = 16  # versions replaced: a question that read one before the change uses the newer copy


class InMemory:
    """One collection's vectors, as unit rows of a matrix, with the version they were copied at."""

    def __init__(self):
        self._lock = threading.Lock()  # one copy taken at a time
        self._copy: tuple[object, list[str], np.ndarray | None] | None = None  # (version, ids, rows)
        self._older: list[object] = []  # versions the copy replaced, newest last
        self._retry_at = 0.0  # when rows is None because copying failed: when to try again

    def forget(self) -> None:
        """Drop the copy (the collection was deleted and made anew)."""
        with self._lock:
            self._copy, self._older = None, []

    def query(self, collection, embedding, n: int, version) -> list[tuple[str, float]] | None:
        """The n nearest (id, cosine similarity), best first; None when Chroma is to answer (the
        collection is too large to copy, or copying it failed). `version` must change whenever the
        collection does."""
        copy = self._copy
        if self._stale(copy, version):
            with self._lock:
                if self._stale(self._copy, version):
                    self._take(collection, version)
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

    def _stale(self, copy, version) -> bool:
        if copy is None:
            return True
        if copy[0] == version:
            return copy[2] is None and time.monotonic() >= self._retry_at  # a failed copy, due again
        return version not in self._older  # an older version: the copy is newer than what it asks

    def _take(self, collection, version) -> None:
        try:
            ids, rows = take(collection)
        except Exception as error:  # e.g. embedded Chroma, after another process wrote to it
            if self._copy is None or self._copy[0] != version:
                log.warning("dense search asks Chroma, which cannot give its vectors to copy: %s", error)
            ids, rows = [], None
            self._retry_at = time.monotonic() + RETRY_SECONDS
        else:
            self._retry_at = float("inf")  # a copy, or too large to copy: nothing to retry
        if self._copy is not None and self._copy[0] != version:
            self._older = [*self._older, self._copy[0]][-KEEP_OLDER:]
        self._copy = (version, ids, rows)


def take(collection) -> tuple[list[str], np.ndarray | None]:
    """(ids, unit rows) of a Chroma collection; rows None when it holds more than MAX_VECTORS."""
    total = collection.count()
    if total > MAX_VECTORS:
        return [], None
    ids: list[str] = []
    pages = []
    for offset in range(0, total, PAGE):
        got = collection.get(include=["embeddings"], limit=PAGE, offset=offset)
        ids += got["ids"]
        pages.append(np.asarray(got["embeddings"], dtype=np.float32))
    if not ids:
        return [], np.zeros((0, 0), dtype=np.float32)
    rows = np.concatenate(pages)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return ids, rows / np.where(norms == 0, 1.0, norms)
