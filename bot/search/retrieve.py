"""Hybrid search: dense (Chroma) and keyword (SQLite FTS5's BM25, or PostgreSQL's full-text search:
the database's `dialect.keyword_search`), each ranking *sections* by their
best chunk (a piece of the section's text, or one of its "asked as" phrasings), fused by
reciprocal rank fusion, then rolled up to documents (best section per document).

The numbers here were chosen with `bench/retrieval.py` on the tuning halves of the question sets
(tests/data/questions/*-tune.jsonl); README's "How well it answers" gives the figures, tuning and
held-out side by side.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field

from bot.batching import Busy
from bot.search.documents import ASKED, TEXT
from bot.search.index import Index, Lookups
from bot.search.learning import Learning
from bot.search.vocabulary import expand

log = logging.getLogger(__name__)

CANDIDATES = 100  # chunks taken from each half before fusion (pieces and phrasings)
RRF_K = 30  # damps the difference between rank 1 and rank 2 (60 is usual; 30 measured better)
DENSE_WEIGHT = 1.0
KEYWORD_WEIGHT = 1.0
SECOND_SECTION_WEIGHT = 0.0  # a document scores its best section (adding the second measured worse)
ASKED_WEIGHT = 1.0  # a phrasing's cosine counts this much of a piece's, ranking sections in the dense half
LEARNED_WEIGHT = 1.0  # a phrasing learned from use counts as a written one, but only re-ranks
QUOTE_KEYWORD_WEIGHT = 0.3  # within a document: a section's keyword score (share of the best) against its cosine
BM25_WEIGHTS = (4.0, 2.0, 1.0)  # title, heading, text
LEARNED = "learned:"  # prefix of learned sections among the dense hits
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
class SectionHit:
    id: str  # path#anchor
    path: str
    title: str
    heading: str
    anchor: str
    score: float = 0.0  # fused
    text_similarity: float | None = None  # best cosine similarity of its text pieces to the question
    asked_similarity: float | None = None  # best cosine similarity of its "asked as" phrasings
    learned_similarity: float | None = None  # best cosine similarity of phrasings learned from use
    bm25: float | None = None  # best keyword score of its chunks (SQLite's bm25() or its twin): lower is better
    dense_rank: int | None = None  # its rank among sections in each half, 1 = best
    keyword_rank: int | None = None
    matched: list[tuple[int, int]] = field(default_factory=list)  # spans of its pieces that matched, best first

    @property
    def similarity(self) -> float:
        return max(self.text_similarity or 0.0, self.asked_similarity or 0.0)


@dataclass
class DocumentHit:
    path: str
    title: str
    score: float
    best: SectionHit
    sections: list[SectionHit]

    @property
    def similarity(self) -> float:
        return max(s.similarity for s in self.sections)


@dataclass
class SearchResult:
    question: str
    documents: list[DocumentHit]
    degraded: bool = False  # dense search was unavailable; keyword results only
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    words: dict[str, float] = field(default_factory=dict)  # the top section's word evidence (word_evidence)


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


_ADDRESS = re.compile(r"(?:https?://|www\.)(?P<host>[^/\s()<>|]+)(?P<path>/[^\s?#()<>|]*)?[^\s()<>|]*", re.IGNORECASE)


def without_addresses(question: str) -> str:
    """Web addresses as the words they carry: "https://github.com/grafana/loki" -> "grafana loki" (a
    project's name helps; "https", "github", "com" are no words of the question, and as words the
    knowledge base never uses they lower confidence). An address without a path is its site's name."""

    def words(m: re.Match) -> str:
        path = " ".join(p for p in (m["path"] or "").split("/") if p)
        return f" {path or m['host'].removeprefix('www.').rsplit('.', 1)[0]} "

    return " ".join(_ADDRESS.sub(words, question).split())


def content_words(text: str) -> list[str]:
    """The meaningful words of a question, in order, once each."""
    words = []
    for word in _TOKEN.findall(text.lower()):
        if word not in STOPWORDS and word not in words and (len(word) > 1 or word.isdigit()):
            words.append(word)
    return words


def keyword_query(text: str) -> str | None:
    """An FTS5 query: every meaningful word of the text, quoted, OR-ed (BM25 ranks them)."""
    from bot.storage.sqlite import fts_query

    return fts_query(content_words(text)) or None


class Retriever:
    def __init__(
        self, index: Index, mode: str = "hybrid", expand_vocabulary: bool = True, learning: Learning | None = None
    ):
        if mode not in {"hybrid", "dense", "keyword"}:
            raise ValueError(f"unknown search mode {mode!r}: use hybrid, dense or keyword")
        self.index = index
        self.mode = mode
        self.expand_vocabulary = expand_vocabulary
        self.learning = learning  # phrasings learned from use (None: the knowledge base alone)

    def dense(self, text: str, timings: dict, version=None) -> list[tuple[str, float]]:
        """version: the index's change marks, which version its vectors (searched in memory until they
        change); None: ask Chroma."""
        started = time.perf_counter()
        vector = self.index.embedder.encode_question(text)
        timings["embed"] = time.perf_counter() - started
        started = time.perf_counter()
        hits = self.index.vectors.query(vector, CANDIDATES, version)
        if self.learning is not None:
            hits += [(LEARNED + section, similarity) for section, similarity in self.learning.query(vector).items()]
        timings["dense"] = time.perf_counter() - started
        return hits

    def keyword(self, text: str, timings: dict) -> list[tuple[str, float]]:
        started = time.perf_counter()
        words = content_words(text)
        db = self.index.db
        hits = db.dialect.keyword_search(db, words, BM25_WEIGHTS, CANDIDATES) if words else []
        timings["keyword"] = time.perf_counter() - started
        return hits

    def search(self, question: str, k: int = 5) -> SearchResult:
        asked, question = question, without_addresses(question)
        # Acronyms spelled out help the model; for BM25 the extra common words ("license")
        # dilute the rare ones, so keyword search gets the question as typed (measured).
        dense_text = expand(license_as_category(question)) if self.expand_vocabulary else question
        timings: dict[str, float] = {}
        degraded = False
        dense_hits: list[tuple[str, float]] = []
        keyword_hits: list[tuple[str, float]] = []
        lookups = self.index.lookups()
        if self.mode in {"hybrid", "dense"}:
            try:
                dense_hits = self.dense(dense_text, timings, lookups.marks)
            except Busy:  # overload: the asker is told to try again, not given a weaker answer
                raise
            except Exception as error:  # e.g. the Chroma server is down: keyword search still answers
                log.warning("dense search unavailable, answering from keyword search: %s", error)
                degraded = True
        if self.mode in {"hybrid", "keyword"} or degraded:
            keyword_hits = self.keyword(question, timings)

        started = time.perf_counter()
        sections = self._sections(dense_hits, keyword_hits, lookups)
        documents = rollup(sections)[:k]
        timings["fuse"] = time.perf_counter() - started
        started = time.perf_counter()
        words = self.word_evidence(question, documents[0].best, lookups) if documents else {}
        timings["words"] = time.perf_counter() - started
        return SearchResult(asked, documents, degraded, timings, words)

    def word_evidence(self, question: str, section: SectionHit, lookups: Lookups) -> dict[str, float]:
        """How much of the question the section's own words cover (its text, heading and phrasings,
        stemmed as the keyword index stems), and how much of it the whole knowledge base never uses:
        a question about something the handbook lacks ("copilot") often still lands near a section."""
        words = content_words(question)
        if not words:
            return {"covered": 0.0, "unknown": 0.0}
        covered = unknown = 0
        db = self.index.db
        for word in words:
            if not lookups.has_word(db, word):
                unknown += 1
                continue
            covered += lookups.has_word(db, word, section.path, section.anchor)
        return {"covered": covered / len(words), "unknown": unknown / len(words)}

    def _sections(self, dense_hits, keyword_hits, lookups: Lookups) -> list[SectionHit]:
        """Chunk hits -> sections, each ranked in each half by its best chunk, then fused."""
        learned = [(cid.removeprefix(LEARNED), sim) for cid, sim in dense_hits if cid.startswith(LEARNED)]
        dense_hits = [(cid, sim) for cid, sim in dense_hits if not cid.startswith(LEARNED)]
        ids = list(dict.fromkeys([cid for cid, _ in dense_hits] + [cid for cid, _ in keyword_hits]))
        if not ids:
            return []
        rows = lookups.chunk_rows(self.index.db, ids)
        sections: dict[str, SectionHit] = {}
        pieces: dict[str, dict[tuple[int, int], float]] = {}  # section -> its matched pieces' fused scores

        def section_of(cid: str) -> tuple[SectionHit, tuple] | None:
            row = rows.get(cid)
            if row is None:  # in Chroma but not (yet) in SQLite: a sync under way
                return None
            _, path, title, heading, anchor = row[:5]
            key = f"{path}#{anchor}"
            if key not in sections:
                sections[key], pieces[key] = SectionHit(key, path, title, heading, anchor), {}
            return sections[key], row

        def piece_matched(hit: SectionHit, row: tuple, weight: float, rank: int) -> None:
            if row[5] == TEXT:
                span = (row[6], row[7])
                pieces[hit.id][span] = pieces[hit.id].get(span, 0.0) + weight / (RRF_K + rank + 1)

        dense_scores: dict[str, float] = {}
        for rank, (cid, similarity) in enumerate(dense_hits):
            found = section_of(cid)
            if not found:
                continue
            hit, row = found
            if row[5] == ASKED:
                hit.asked_similarity = max(hit.asked_similarity or -1.0, similarity)
                score = ASKED_WEIGHT * similarity
            else:
                hit.text_similarity = max(hit.text_similarity or -1.0, similarity)
                score = similarity
            piece_matched(hit, row, DENSE_WEIGHT, rank)
            dense_scores[hit.id] = max(dense_scores.get(hit.id, -1.0), score)
        keyword_scores: dict[str, float] = {}
        for rank, (cid, bm25) in enumerate(keyword_hits):
            found = section_of(cid)
            if not found:
                continue
            hit, row = found
            hit.bm25 = bm25 if hit.bm25 is None else min(hit.bm25, bm25)
            piece_matched(hit, row, KEYWORD_WEIGHT, rank)
            keyword_scores[hit.id] = max(keyword_scores.get(hit.id, float("-inf")), -bm25)
        for key, similarity in learned:
            if key in sections:  # only a section the knowledge base itself brought up (the guard)
                sections[key].learned_similarity = similarity
                dense_scores[key] = max(dense_scores.get(key, -1.0), LEARNED_WEIGHT * similarity)

        for weight, scores, attribute in (
            (DENSE_WEIGHT, dense_scores, "dense_rank"),
            (KEYWORD_WEIGHT, keyword_scores, "keyword_rank"),
        ):
            for rank, key in enumerate(sorted(scores, key=scores.get, reverse=True), start=1):
                setattr(sections[key], attribute, rank)
                sections[key].score += weight / (RRF_K + rank)
        for key, hit in sections.items():
            hit.matched = sorted(pieces[key], key=pieces[key].get, reverse=True)
        return sorted(sections.values(), key=lambda h: h.score, reverse=True)


def rollup(sections: list[SectionHit]) -> list[DocumentHit]:
    """Group section hits by document: a document scores its best section (plus a share of its second),
    and quotes the section `to_quote` picks."""
    by_path: dict[str, list[SectionHit]] = {}
    for section in sections:  # already best first
        by_path.setdefault(section.path, []).append(section)
    documents = []
    for path, hits in by_path.items():
        score = hits[0].score + (SECOND_SECTION_WEIGHT * hits[1].score if len(hits) > 1 else 0.0)
        documents.append(DocumentHit(path, hits[0].title, score, to_quote(hits), hits))
    return sorted(documents, key=lambda d: d.score, reverse=True)


def to_quote(hits: list[SectionHit]) -> SectionHit:
    """The section of one document that answers: its best cosine similarity plus a share of its keyword
    score relative to the document's strongest. Rank fusion picks documents well, but between sections
    of one document a small rank difference in either half decides it, even where keyword scores are all
    but tied (measured on section labels of the tuning questions: README, "Which section is quoted")."""
    strongest = max((-h.bm25 for h in hits if h.bm25 is not None), default=0.0)

    def score(hit: SectionHit) -> float:
        dense = max(hit.similarity, LEARNED_WEIGHT * (hit.learned_similarity or 0.0))
        keyword = -hit.bm25 / strongest if hit.bm25 is not None and strongest > 0 else 0.0
        return dense + QUOTE_KEYWORD_WEIGHT * keyword

    return max(hits, key=score)
