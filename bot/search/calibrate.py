"""Choose the confidence threshold from data, not by hand.

The bot is confident when the best passage's cosine similarity to the question reaches
OSPO_CONFIDENCE_THRESHOLD. Given answerable questions (with their expected documents) and
questions the knowledge base cannot answer, the suggested threshold is the one that keeps
every unanswerable question below it while quoting the right document as often as
possible and the wrong one as rarely as possible.
"""

from __future__ import annotations

MARGIN = 0.02  # stay this far above the most similar off-topic question


def calibration_report(kb, answerable, unanswerable) -> dict:
    right, wrong = [], []  # similarity of the top document when it is / is not expected
    for item in answerable:
        docs = kb.search(item.question, k=1).documents
        if docs:
            (right if docs[0].path in item.expected else wrong).append(docs[0].similarity)
    offtopic = [d[0].similarity if (d := kb.search(q.question, k=1).documents) else 0.0 for q in unanswerable]
    threshold = kb.settings.confidence_threshold
    floor = max(offtopic, default=0.0) + MARGIN
    candidates = sorted({round(s, 2) for s in right + wrong if s >= floor} | {round(floor, 2)})
    suggested = max(
        candidates,
        key=lambda t: (sum(s >= t for s in right) - sum(s >= t for s in wrong), -t),
    )
    answerable_count = max(len(right) + len(wrong), 1)
    confident_right = sum(s >= threshold for s in right)
    confident_all = confident_right + sum(s >= threshold for s in wrong)
    return {
        "threshold": threshold,
        "answerable_confident": (confident_all) / answerable_count,
        "confident_precision": confident_right / confident_all if confident_all else 0.0,
        "offtopic_confident": sum(s >= threshold for s in offtopic) / max(len(offtopic), 1),
        "offtopic_max_similarity": round(max(offtopic, default=0.0), 4),
        "suggested": suggested,
    }
