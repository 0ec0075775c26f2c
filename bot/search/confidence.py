"""Whether an answer is confident, from more than one signal, and why.

The signals of the top section (`signals`): how close the question is to the section's text and
to its "asked as" phrasings (cosine), its keyword score, whether both halves of the search put it
first, and its margin over the runner-up document. A logistic model weighs them into one
probability that the quoted section answers the question; the answer is confident when that
reaches OSPO_CONFIDENCE_THRESHOLD. The weights were fitted on the tuning half of the handbook's
questions only (bench/confidence.py, cross-validated), and `why` shows each signal and its share.

When dense search is down (degraded), only keyword evidence is left and the bar is the keyword
score alone (OSPO_KEYWORD_CONFIDENCE_THRESHOLD), as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.search.retrieve import SearchResult

# Fitted by bench/confidence.py on the handbook's tuning questions only (tests/data/questions/
# handbook-tune*.jsonl and handbook-offtopic-tune*.jsonl; README, "Confidence"), to whether the quoted
# *section* answers the question (their "sections" labels), not only whether its document is an expected
# one. Signals are on their natural scales: cosines 0-1, shares 0-1, flags 0 or 1.
WEIGHTS: dict[str, float] = {
    "similarity": 5.567,
    "text_similarity": 0.392,
    "asked_similarity": 0.167,
    "dense_top": 0.608,
    "keyword_top": 0.988,
    "margin": 2.528,
    "words_covered": 2.677,
    "words_unknown": -0.97,
}
BIAS = -6.379


@dataclass(frozen=True)
class Verdict:
    confident: bool
    why: dict


def signals(result: SearchResult) -> dict[str, float]:
    """The top section's evidence, each a number (0 when there is no top section)."""
    if not result.documents:
        return dict.fromkeys([*WEIGHTS, "keyword"], 0.0)
    top = result.documents[0]
    best = top.best
    runner_up = result.documents[1].score if len(result.documents) > 1 else 0.0
    return {
        "similarity": round(best.similarity, 4),
        "text_similarity": round(best.text_similarity or 0.0, 4),
        "asked_similarity": round(best.asked_similarity or 0.0, 4),
        "dense_top": float(best.dense_rank == 1),  # the dense half ranks this section first
        "keyword_top": float(best.keyword_rank == 1),  # and the keyword half
        "margin": round((top.score - runner_up) / top.score, 4) if top.score else 0.0,
        "words_covered": round(result.words.get("covered", 0.0), 4),  # share of the question's words in the section
        "words_unknown": round(result.words.get("unknown", 0.0), 4),  # share the knowledge base never uses
        # BM25 depends on the corpus, so it is shown but not weighed (except in degraded mode).
        "keyword": round(-best.bm25, 3) if best.bm25 is not None else 0.0,
    }


def probability(values: dict[str, float], weights: dict[str, float] = WEIGHTS, bias: float = BIAS) -> float:
    z = bias + sum(weights[name] * values.get(name, 0.0) for name in weights)
    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


class Confidence:
    def __init__(self, threshold: float, keyword_threshold: float):
        self.threshold = threshold
        self.keyword_threshold = keyword_threshold

    def judge(self, result: SearchResult) -> Verdict:
        values = signals(result)
        if not result.documents:
            return Verdict(False, {"signals": values, "reason": "nothing in the knowledge base matched"})
        if result.degraded:
            # Without embeddings only keyword evidence is left (SQLite's bm25(): lower is stronger).
            confident = values["keyword"] >= self.keyword_threshold
            return Verdict(
                confident,
                {"signals": values, "keyword_threshold": self.keyword_threshold, "degraded": True},
            )
        p = probability(values)
        return Verdict(
            p >= self.threshold,
            {
                "probability": round(p, 4),
                "threshold": self.threshold,
                "signals": values,
                "contributions": {name: round(WEIGHTS[name] * values[name], 3) for name in WEIGHTS},
            },
        )
