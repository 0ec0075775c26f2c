"""Retrieval quality side by side: each design on the tuning half, the held-out half and the blind set.

    OSPO_DATA_DIR=/tmp/ospo-hb .venv/bin/python bench/retrieval.py handbook
    OSPO_KNOWLEDGE_DIR=../shared/corpora/ospo-public OSPO_DATA_DIR=/tmp/ospo-public \\
        .venv/bin/python bench/retrieval.py public

Prints hit@1 / hit@3 / MRR@10 per design and question set over one synced index (syncs first if
needed). The sets are tests/data/questions/<corpus>-{tune,tune-blind,heldout,blind}.jsonl: choose a
design on the tuning sets only, and report the others beside them.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bot.config import load_settings
from bot.search import retrieve
from bot.search.documents import ASKED
from bot.search.evaluate import evaluate, read_questions
from bot.search.knowledge_base import KnowledgeBase

SETS = Path(__file__).resolve().parents[1] / "tests/data/questions"


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


@contextmanager
def without_phrasings(kb):
    """Search as if the knowledge base had no "asked as" phrasings."""
    asked = {r[0] for r in kb.db.execute("SELECT id FROM chunks WHERE kind = ?", [ASKED])}
    dense, keyword = kb.retriever.dense, kb.retriever.keyword
    kb.retriever.dense = lambda text, t, version=None: [h for h in dense(text, t, version) if h[0] not in asked]
    kb.retriever.keyword = lambda text, t: [h for h in keyword(text, t) if h[0] not in asked]
    try:
        yield
    finally:
        kb.retriever.dense, kb.retriever.keyword = dense, keyword


DESIGNS = [
    ("keyword only (FTS5 BM25)", "keyword", {}, False),
    ("dense only (MiniLM + Chroma)", "dense", {}, False),
    ("hybrid, as shipped", "hybrid", {}, False),
    ("hybrid, without 'asked as' phrasings", "hybrid", {}, True),
    ("hybrid, no vocabulary expansion", "hybrid", {"expand": False}, False),
    ("hybrid, RRF k=60 (the usual)", "hybrid", {"RRF_K": 60}, False),
    ("hybrid, keyword weight 0.7", "hybrid", {"KEYWORD_WEIGHT": 0.7}, False),
    ("hybrid, + 0.3 x second section", "hybrid", {"SECOND_SECTION_WEIGHT": 0.3}, False),
    ("hybrid, BM25 title/heading not boosted", "hybrid", {"BM25_WEIGHTS": (1.0, 1.0, 1.0)}, False),
]


def main(corpus: str) -> None:
    settings = load_settings()
    kb = KnowledgeBase(settings, learned=False)
    kb.ensure_fresh()
    sets = {
        part: read_questions(SETS / f"{corpus}-{part}.jsonl")
        for part in ("tune", "tune-blind", "heldout", "blind")
        if (SETS / f"{corpus}-{part}.jsonl").exists()
    }
    has_phrasings = kb.db["chunks"].count_where("kind = ?", [ASKED]) > 0
    table = Table(title=f"{corpus}: hit@1 / hit@3 / MRR@10 over {settings.knowledge_dir}")
    table.add_column("design")
    for name, questions in sets.items():
        table.add_column(f"{name} ({len(questions)})", justify="right")
    for name, mode, values, no_phrasings in DESIGNS:
        if no_phrasings and not has_phrasings:
            continue
        kb.retriever.mode = mode
        kb.retriever.expand_vocabulary = values.get("expand", True)
        cells = []
        with knobs(**{k: v for k, v in values.items() if k != "expand"}):
            with without_phrasings(kb) if no_phrasings else _nothing():
                for questions in sets.values():
                    r = evaluate(questions, lambda q: kb.search(q, k=10).documents)
                    cells.append(f"{r.hit_at_1:.3f} {r.hit_at_3:.3f} {r.mrr:.3f}")
        table.add_row(name, *cells)
    Console(width=200).print(table)


@contextmanager
def _nothing():
    yield


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "handbook")
