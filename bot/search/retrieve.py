"""Hybrid search: dense (Chroma) and keyword (SQLite FTS5, BM25) fused by reciprocal
rank fusion, then rolled up to documents (best chunk per document).

The numbers here were chosen with `ospo-bot kb eval` on the bundled handbook and the
public corpus; README's "How well it answers" gives the figures.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field

from bot.search.index import Index
from bot.search.vocabulary import expand

log = logging.getLogger(__name__)

CANDIDATES = 50  # chunks taken from each half before fusion
RRF_K = 30  # damps the difference between rank 1 and rank 2 (60 is usual; 30 measured better)
DENSE_WEIGHT = 1.0
KEYWORD_WEIGHT = 1.0
SECOND_CHUNK_WEIGHT = 0.0  # a document scores its best passage (adding the second measured worse)
BM25_WEIGHTS = (4.0, 2.0, 1.0)  # title, heading, text

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its itself
    just me more most my myself no nor not now of off on once only or other our ours ourselves out
    over own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself yourselves im ive id dont cant whats hey hi pls
    please thanks ok okay anyone someone know need want get got like really also us i'm it's
    """.split()
)
_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass
class ChunkHit:
    id: str
    path: str
    title: str
    heading: str
    anchor: str
    text: str
    similarity: float | None = None  # cosine similarity to the question (dense half)
    bm25: float | None = None  # SQLite's bm25(): lower is better
    score: float = 0.0  # fused


@dataclass
class DocumentHit:
    path: str
    title: str
    score: float
    best: ChunkHit
    chunks: list[ChunkHit]

    @property
    def similarity(self) -> float:
        return max((c.similarity or 0.0) for c in self.chunks)


@dataclass
class SearchResult:
    question: str
    documents: list[DocumentHit]
    degraded: bool = False  # dense search was unavailable; keyword results only
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage


def license_as_category(question: str) -> str:
    """ "fix a typo in an Apache 2 project" -> "fix a typo in an permissive-licensed project" for the
    dense half: a license name otherwise pulls the model toward license pages, while the answer
    leads with the license's verdict anyway (measured: handbook hit@1 0.836 -> 0.845, public
    corpus unchanged). Keyword search keeps the name."""
    from bot import licenses

    try:
        found = licenses.find_phrase_in_text(question)
    except ValueError:  # an unreadable policy file must not stop search
        return question
    if not found:
        return question
    phrase, report = found
    category = "/".join(sorted({i.category for i in report.licenses})) or "unknown"
    return question.replace(phrase, f"{category}-licensed", 1)


def keyword_query(text: str) -> str | None:
    """An FTS5 query: every meaningful word of the text, quoted, OR-ed (BM25 ranks them)."""
    words = []
    for word in _TOKEN.findall(text.lower()):
        if word not in STOPWORDS and word not in words and (len(word) > 1 or word.isdigit()):
            words.append(word)
    return " OR ".join(f'"{w}"' for w in words) or None


class Retriever:
    def __init__(self, index: Index, mode: str = "hybrid", expand_vocabulary: bool = True):
        if mode not in {"hybrid", "dense", "keyword"}:
            raise ValueError(f"unknown search mode {mode!r}: use hybrid, dense or keyword")
        self.index = index
        self.mode = mode
        self.expand_vocabulary = expand_vocabulary

    def dense(self, text: str, timings: dict) -> list[tuple[str, float]]:
        started = time.perf_counter()
        vector = self.index.embedder.encode([text])[0]
        timings["embed"] = time.perf_counter() - started
        started = time.perf_counter()
        hits = self.index.vectors.query(vector, CANDIDATES)
        timings["dense"] = time.perf_counter() - started
        return hits

    def keyword(self, text: str, timings: dict) -> list[tuple[str, float]]:
        started = time.perf_counter()
        query = keyword_query(text)
        hits = []
        if query:
            title, heading, body = BM25_WEIGHTS
            hits = [
                (row[0], row[1])
                for row in self.index.db.execute(
                    f"""SELECT chunks.id, bm25(chunks_fts, {title}, {heading}, {body}) AS rank
                    FROM chunks_fts JOIN chunks ON chunks.rowid = chunks_fts.rowid
                    WHERE chunks_fts MATCH ? ORDER BY rank LIMIT {CANDIDATES}""",
                    [query],
                )
            ]
        timings["keyword"] = time.perf_counter() - started
        return hits

    def search(self, question: str, k: int = 5) -> SearchResult:
        # Acronyms spelled out help the model; for BM25 the extra common words ("license")
        # dilute the rare ones, so keyword search gets the question as typed (measured).
        dense_text = expand(license_as_category(question)) if self.expand_vocabulary else question
        timings: dict[str, float] = {}
        degraded = False
        dense_hits: list[tuple[str, float]] = []
        keyword_hits: list[tuple[str, float]] = []
        if self.mode in {"hybrid", "dense"}:
            try:
                dense_hits = self.dense(dense_text, timings)
            except Exception as error:  # e.g. the Chroma server is down: keyword search still answers
                log.warning("dense search unavailable, answering from keyword search: %s", error)
                degraded = True
        if self.mode in {"hybrid", "keyword"} or degraded:
            keyword_hits = self.keyword(question, timings)

        started = time.perf_counter()
        scores: dict[str, float] = {}
        for rank, (cid, _) in enumerate(dense_hits):
            scores[cid] = scores.get(cid, 0.0) + DENSE_WEIGHT / (RRF_K + rank + 1)
        for rank, (cid, _) in enumerate(keyword_hits):
            scores[cid] = scores.get(cid, 0.0) + KEYWORD_WEIGHT / (RRF_K + rank + 1)
        chunks = self._load_chunks(scores, dict(dense_hits), dict(keyword_hits))
        documents = rollup(chunks)[:k]
        timings["fuse"] = time.perf_counter() - started
        return SearchResult(question, documents, degraded, timings)

    def _load_chunks(self, scores, similarities, bm25s) -> list[ChunkHit]:
        if not scores:
            return []
        ids = list(scores)
        rows = self.index.db.execute(
            f"SELECT id, path, title, heading, anchor, text FROM chunks WHERE id IN ({','.join('?' * len(ids))})",
            ids,
        ).fetchall()
        hits = [
            ChunkHit(*row, similarity=similarities.get(row[0]), bm25=bm25s.get(row[0]), score=scores[row[0]])
            for row in rows
        ]
        return sorted(hits, key=lambda hit: hit.score, reverse=True)


def rollup(chunks: list[ChunkHit]) -> list[DocumentHit]:
    """Group chunk hits by document: a document scores its best chunk plus a share of its second."""
    by_path: dict[str, list[ChunkHit]] = {}
    for chunk in chunks:  # already best first
        by_path.setdefault(chunk.path, []).append(chunk)
    documents = []
    for path, hits in by_path.items():
        score = hits[0].score + (SECOND_CHUNK_WEIGHT * hits[1].score if len(hits) > 1 else 0.0)
        documents.append(DocumentHit(path, hits[0].title, score, hits[0], hits))
    return sorted(documents, key=lambda d: d.score, reverse=True)
