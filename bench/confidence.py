"""Fit the confidence model (bot/search/confidence.py) on the tuning half, and show how it holds on
the held-out half and the blind set.

    OSPO_DATA_DIR=/tmp/ospo-hb .venv/bin/python bench/confidence.py

For every question: the signals of the top section and whether the answer is right
(Question.answered_by: its quoted section answers the question; off-topic questions: never).
A logistic regression is fitted on the tuning half only; the
regularisation is chosen by 5-fold cross-validation on that half. Prints the weights to put in
bot/search/confidence.py and a precision / coverage table per threshold, for each question set.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from bot.config import load_settings
from bot.search import confidence
from bot.search.evaluate import read_questions
from bot.search.knowledge_base import KnowledgeBase

ROOT = Path(__file__).resolve().parents[1]
SETS = ROOT / "tests/data/questions"
FEATURES = list(confidence.WEIGHTS)


def collect(kb, answerable, offtopic):
    rows, labels, kinds = [], [], []
    for item in answerable:
        result = kb.search(item.question, k=3)
        rows.append([confidence.signals(result)[f] for f in FEATURES])
        labels.append(int(bool(result.documents) and item.answered_by(result.documents[0])))
        kinds.append("answerable")
    for item in offtopic:
        result = kb.search(item.question, k=3)
        rows.append([confidence.signals(result)[f] for f in FEATURES])
        labels.append(0)
        kinds.append("offtopic")
    return np.array(rows), np.array(labels), np.array(kinds)


def table_of(probabilities, labels, kinds, thresholds) -> list[tuple]:
    answerable = kinds == "answerable"
    rows = []
    for t in thresholds:
        confident = probabilities >= t
        shown = confident & answerable
        right = shown & (labels == 1)
        rows.append(
            (
                t,
                right.sum() / max(shown.sum(), 1),  # precision
                shown.sum() / max(answerable.sum(), 1),  # coverage
                int((confident & ~answerable).sum()),  # off-topic confident
            )
        )
    return rows


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    corpus = sys.argv[1] if len(sys.argv) > 1 else "handbook"
    kb = KnowledgeBase(load_settings())
    kb.ensure_fresh()
    sets = {}
    for part in ("tune", "heldout", "blind"):
        # tune: the tuning half and the blind-written tuning set (-tune-blind); never the others.
        answerable = [q for f in sorted(SETS.glob(f"{corpus}-{part}*.jsonl")) for q in read_questions(f)]
        offtopic = [
            q
            for f in sorted(SETS.glob(f"{corpus}-offtopic-{part}*.jsonl"))
            for q in read_questions(f, need_expected=False)
        ]
        if answerable:
            sets[part] = collect(kb, answerable, offtopic)
    x, y, _ = sets["tune"]
    best = None
    for c in (0.01, 0.1, 1.0, 10.0, 100.0):
        folds = StratifiedKFold(5, shuffle=True, random_state=7)
        losses = []
        for train, test in folds.split(x, y):
            model = LogisticRegression(C=c, max_iter=5000).fit(x[train], y[train])
            p = np.clip(model.predict_proba(x[test])[:, 1], 1e-6, 1 - 1e-6)
            losses.append(-np.mean(y[test] * np.log(p) + (1 - y[test]) * np.log(1 - p)))
        loss = float(np.mean(losses))
        print(f"C={c:g}: cross-validated log loss {loss:.4f}")
        if best is None or loss < best[0]:
            best = (loss, c)
    model = LogisticRegression(C=best[1], max_iter=5000).fit(x, y)
    weights = dict(zip(FEATURES, (round(float(w), 3) for w in model.coef_[0]), strict=True))
    bias = round(float(model.intercept_[0]), 3)
    print(f"\nC={best[1]:g}\nWEIGHTS = {weights}\nBIAS = {bias}\n")
    console = Console()
    thresholds = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95]
    for part, (xs, ys, kinds) in sets.items():
        probabilities = np.array(
            [confidence.probability(dict(zip(FEATURES, r, strict=True)), weights, bias) for r in xs]
        )
        table = Table(
            title=f"{corpus} {part}: {int((kinds == 'answerable').sum())} answerable, "
            f"{int((kinds == 'offtopic').sum())} off-topic"
        )
        for column in ("threshold", "precision", "coverage", "off-topic confident"):
            table.add_column(column, justify="right")
        for t, precision, coverage, off in table_of(probabilities, ys, kinds, thresholds):
            table.add_row(f"{t:.2f}", f"{precision:.3f}", f"{coverage:.3f}", str(off))
        console.print(table)


if __name__ == "__main__":
    main()
