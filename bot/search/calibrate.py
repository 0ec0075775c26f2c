"""Choose the confidence thresholds from data, not by hand.

The bot is confident when the best passage's cosine similarity to the question reaches
OSPO_CONFIDENCE_THRESHOLD; when dense search is down (degraded mode) only keyword evidence is
left, and the bar is the best passage's keyword score (-bm25) reaching
OSPO_KEYWORD_CONFIDENCE_THRESHOLD. Given answerable questions (with their expected documents)
and questions the knowledge base cannot answer, the suggested threshold is the lowest one that
keeps every unanswerable question below it while quoting the right document as often as
possible and the wrong one as rarely as possible. `kb eval --offtopic` reports the first,
`kb eval --mode keyword --offtopic` the second.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.search.retrieve import DocumentHit


@dataclass(frozen=True)
class Scale:
    setting: str  # the environment variable the suggestion is for
    margin: float  # stay this far above the highest-scoring off-topic question
    places: int  # candidate thresholds are rounded to this many decimals


COSINE = Scale("OSPO_CONFIDENCE_THRESHOLD", margin=0.02, places=2)
# BM25 scores of off-topic questions spread over ~6-12 on the handbook (cosine over ~0.2-0.46):
# 0.5 is about the same share of the top off-topic score as 0.02 is of cosine's.
KEYWORD = Scale("OSPO_KEYWORD_CONFIDENCE_THRESHOLD", margin=0.5, places=1)


def keyword_score(hit: DocumentHit) -> float:
    """The best passage's keyword score, higher is better (SQLite's bm25() is negative, lower is better)."""
    return -hit.best.bm25 if hit.best.bm25 is not None else 0.0


def calibration_report(kb, answerable, unanswerable) -> dict:
    """Confidence figures at the current threshold, and the suggested one, for kb's search mode:
    cosine similarity for hybrid and dense search, the keyword score for keyword search."""
    keyword = kb.retriever.mode == "keyword"
    scale = KEYWORD if keyword else COSINE
    threshold = kb.settings.keyword_confidence_threshold if keyword else kb.settings.confidence_threshold

    def top_score(question: str) -> tuple[float, str | None]:
        docs = kb.search(question, k=1).documents
        if not docs:
            return 0.0, None
        return (keyword_score(docs[0]) if keyword else docs[0].similarity), docs[0].path

    right, wrong = [], []  # score of the top document when it is / is not expected
    for item in answerable:
        score, path = top_score(item.question)
        if path:
            (right if path in item.expected else wrong).append(score)
    offtopic = [top_score(q.question)[0] for q in unanswerable]
    floor = max(offtopic, default=0.0) + scale.margin
    candidates = sorted({round(s, scale.places) for s in right + wrong if s >= floor} | {round(floor, scale.places)})
    suggested = max(
        candidates,
        key=lambda t: (sum(s >= t for s in right) - sum(s >= t for s in wrong), -t),
    )
    answerable_count = max(len(right) + len(wrong), 1)
    confident_right = sum(s >= threshold for s in right)
    confident_all = confident_right + sum(s >= threshold for s in wrong)
    return {
        "setting": scale.setting,
        "threshold": threshold,
        "answerable_confident": confident_all / answerable_count,
        "confident_precision": confident_right / confident_all if confident_all else 0.0,
        "offtopic_confident": sum(s >= threshold for s in offtopic) / max(len(offtopic), 1),
        "offtopic_confident_count": sum(s >= threshold for s in offtopic),
        "offtopic_max_score": round(max(offtopic, default=0.0), 4),
        "suggested": suggested,
    }
