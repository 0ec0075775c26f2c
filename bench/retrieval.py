"""Retrieval quality side by side: dense only, keyword only, hybrid, and the knobs of hybrid.

    OSPO_KNOWLEDGE_DIR=../shared/corpora/ospo-public OSPO_DATA_DIR=/tmp/ospo-public \
        .venv/bin/python bench/retrieval.py bench/ospo_public_questions.jsonl

Prints hit@1/3/5 and MRR@10 per design over one synced index (syncs first if needed).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bot.config import load_settings
from bot.search import retrieve
from bot.search.evaluate import evaluate, read_questions
from bot.search.knowledge_base import KnowledgeBase


@contextmanager
def knobs(**values):
    old = {name: getattr(retrieve, name) for name in values}
    for name, value in values.items():
        setattr(retrieve, name, value)
    try:
        yield
    finally:
        for name, value in old.items():
            setattr(retrieve, name, value)


DESIGNS = [
    ("keyword only (FTS5 BM25)", "keyword", True, {}),
    ("dense only (MiniLM + Chroma)", "dense", True, {}),
    ("hybrid, as shipped", "hybrid", True, {}),
    ("hybrid, no vocabulary expansion", "hybrid", False, {}),
    ("hybrid, RRF k=60 (the usual)", "hybrid", True, {"RRF_K": 60}),
    ("hybrid, RRF k=10", "hybrid", True, {"RRF_K": 10}),
    ("hybrid, + 0.3 x second chunk", "hybrid", True, {"SECOND_CHUNK_WEIGHT": 0.3}),
    ("hybrid, keyword weight 0.5", "hybrid", True, {"KEYWORD_WEIGHT": 0.5}),
    ("hybrid, keyword weight 1.5", "hybrid", True, {"KEYWORD_WEIGHT": 1.5}),
    ("hybrid, BM25 title/heading not boosted", "hybrid", True, {"BM25_WEIGHTS": (1.0, 1.0, 1.0)}),
]


def main(path: str) -> None:
    settings = load_settings()
    questions = read_questions(Path(path))
    kb = KnowledgeBase(settings)
    kb.ensure_fresh()
    table = Table(title=f"{Path(path).name}: {len(questions)} questions over {settings.knowledge_dir}")
    for column in ("design", "hit@1", "hit@3", "hit@5", "MRR@10"):
        table.add_column(column, justify="left" if column == "design" else "right")
    for name, mode, expand, values in DESIGNS:
        kb.retriever.mode, kb.retriever.expand_vocabulary = mode, expand
        with knobs(**values):
            report = evaluate(questions, lambda q: [d.path for d in kb.search(q, k=10).documents])
        table.add_row(name, *(f"{v:.3f}" for v in (report.hit_at_1, report.hit_at_3, report.hit_at_5, report.mrr)))
    Console().print(table)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/ospo_public_questions.jsonl")
