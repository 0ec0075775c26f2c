"""Choose the confidence thresholds from data, not by hand.

The bot is confident when the probability that its quoted section answers the question
(bot/search/confidence.py) reaches OSPO_CONFIDENCE_THRESHOLD; when dense search is down (degraded
mode) only keyword evidence is left, and the bar is the best passage's keyword score (-bm25)
reaching OSPO_KEYWORD_CONFIDENCE_THRESHOLD. Given answerable questions (with their expected
documents) and questions the knowledge base cannot answer, `calibration_report` gives the
precision (confident answers that quote a section that answers the question, or without section
labels an expected document) and coverage (answerable questions
answered confidently) at a range of thresholds, how many unanswerable questions pass each, and a
suggestion: for the probability, the lowest threshold at which no unanswerable question is
confident and precision reaches 95%; for the keyword score, the lowest that keeps every
unanswerable question below it while quoting the right document as often as possible.
`kb eval --offtopic` reports the first, `kb eval --mode keyword --offtopic` the second.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.search.confidence import probability, signals
from bot.search.retrieve import DocumentHit

PROBABILITIES = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
TARGET_PRECISION = 0.95


@dataclass(frozen=True)
class Scale:
    setting: str  # the environment variable the suggestion is for
    margin: float  # stay this far above the highest-scoring off-topic question
    places: int  # candidate thresholds are rounded to this many decimals


PROBABILITY = Scale("OSPO_CONFIDENCE_THRESHOLD", margin=0.0, places=2)
# BM25 scores of off-topic questions spread over ~6-12 on the handbook (cosine over ~0.2-0.46):
# 0.5 is about the same share of the top off-topic score as 0.02 is of cosine's.
KEYWORD = Scale("OSPO_KEYWORD_CONFIDENCE_THRESHOLD", margin=0.5, places=1)
# PostgreSQL's keyword scores (idf x ts_rank) are about 15 times smaller (off-topic at most ~0.8 on the
# handbook): the same share of the top off-topic score.
KEYWORD_POSTGRES = Scale("OSPO_KEYWORD_CONFIDENCE_THRESHOLD", margin=0.03, places=2)


def keyword_score(hit: DocumentHit) -> float:
    """The best passage's keyword score, higher is better (SQLite's bm25() is negative, lower is better)."""
    return -hit.best.bm25 if hit.best.bm25 is not None else 0.0


def calibration_report(kb, answerable, unanswerable) -> dict:
    """Confidence figures at the current threshold, a precision/coverage table and the suggested
    threshold, for kb's search mode: the probability for hybrid and dense search, the keyword score
    for keyword search."""
    keyword = kb.retriever.mode == "keyword"
    scale = (KEYWORD_POSTGRES if kb.db.dialect.NAME == "postgresql" else KEYWORD) if keyword else PROBABILITY
    threshold = kb.settings.keyword_confidence_threshold if keyword else kb.settings.confidence_threshold

    def top_score(question: str) -> tuple[float, DocumentHit | None]:
        result = kb.search(question, k=3)
        if not result.documents:
            return 0.0, None
        score = keyword_score(result.documents[0]) if keyword else probability(signals(result))
        return score, result.documents[0]

    right, wrong = [], []  # score of the top answer when it is / is not right (Question.answered_by)
    for item in answerable:
        score, top = top_score(item.question)
        if top:
            (right if item.answered_by(top) else wrong).append(score)
    offtopic = [top_score(q.question)[0] for q in unanswerable]
    answerable_count = max(len(answerable), 1)

    def row(t: float) -> dict:
        confident_right = sum(s >= t for s in right)
        confident_all = confident_right + sum(s >= t for s in wrong)
        return {
            "threshold": t,
            "precision": round(confident_right / confident_all, 4) if confident_all else 0.0,
            "coverage": round(confident_all / answerable_count, 4),
            "offtopic_confident": sum(s >= t for s in offtopic),
        }

    if keyword:
        floor = max(offtopic, default=0.0) + scale.margin
        candidates = sorted(
            {round(s, scale.places) for s in right + wrong if s >= floor} | {round(floor, scale.places)}
        )
        suggested = max(candidates, key=lambda t: (sum(s >= t for s in right) - sum(s >= t for s in wrong), -t))
        steps = (-4, -2, -1, 0, 1, 2, 4)  # in twice the margin: 1 for BM25
        grid = sorted({round(suggested + 2 * scale.margin * step, scale.places) for step in steps} | {threshold})
    else:
        grid = sorted(set(PROBABILITIES) | {threshold})
        safe = [r for r in map(row, grid) if r["offtopic_confident"] == 0]
        good = [r for r in safe if r["precision"] >= TARGET_PRECISION]
        suggested = (good or safe or [row(grid[-1])])[0]["threshold"]
    current = row(threshold)
    return {
        "setting": scale.setting,
        "threshold": threshold,
        "answerable_confident": current["coverage"],
        "confident_precision": current["precision"],
        "offtopic_confident": current["offtopic_confident"] / max(len(offtopic), 1),
        "offtopic_confident_count": current["offtopic_confident"],
        "offtopic_max_score": round(max(offtopic, default=0.0), 4),
        "suggested": suggested,
        "table": [row(t) for t in grid],
    }
