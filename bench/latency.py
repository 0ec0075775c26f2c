"""Warm query latency by stage (embed, dense, keyword, fuse), over a knowledge base and over
the same knowledge base replicated to about --chunks chunks (vectors copied, not re-embedded).

    OSPO_KNOWLEDGE_DIR=../shared/corpora/ospo-public OSPO_DATA_DIR=/tmp/ospo-public \
        .venv/bin/python bench/latency.py --chunks 10000
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import summary_ms  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.search.evaluate import read_questions  # noqa: E402
from bot.search.knowledge_base import KnowledgeBase  # noqa: E402

STAGES = ("embed", "dense", "keyword", "fuse", "words", "total")


def measure(kb: KnowledgeBase, questions: list[str], rounds: int) -> dict[str, list[float]]:
    for question in questions[:10]:  # warm-up
        kb.search(question)
    timings: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for _ in range(rounds):
        for question in questions:
            started = time.perf_counter()
            result = kb.search(question)
            timings["total"].append(time.perf_counter() - started)
            for stage, seconds in result.timings.items():
                timings[stage].append(seconds)
    return timings


def replicate(kb: KnowledgeBase, target: int, data_dir: Path) -> KnowledgeBase:
    """A copy of kb's index grown to about `target` chunks by repeating every chunk under new paths."""
    shutil.copytree(kb.settings.data_dir, data_dir, dirs_exist_ok=True)
    copy = KnowledgeBase(load_settings(OSPO_KNOWLEDGE_DIR=kb.settings.knowledge_dir, OSPO_DATA_DIR=data_dir))
    stored = copy.index.vectors.collection.get(include=["embeddings", "metadatas"])
    rows = {r["id"]: r for r in copy.db["chunks"].rows}
    copies = max(1, -(-target // max(len(rows), 1)))  # enough copies to reach the target
    for n in range(1, copies):
        ids = [f"copy{n}/{i}" for i in stored["ids"]]
        copy.index.vectors.upsert(
            ids,
            [list(e) for e in stored["embeddings"]],
            [f"copy{n}/{m['path']}" for m in stored["metadatas"]],
        )
        with copy.db.conn:
            copy.db["documents"].insert_all({**d, "path": f"copy{n}/{d['path']}"} for d in kb.db["documents"].rows)
            copy.db["chunks"].insert_all(
                {**rows[i], "id": f"copy{n}/{i}", "path": f"copy{n}/{rows[i]['path']}"} for i in stored["ids"]
            )
    return copy


def report(title: str, timings: dict[str, list[float]], chunks: int) -> None:
    table = Table(title=f"{title}: {chunks} chunks, {len(timings['total'])} queries (ms)")
    for column in ("stage", "p50", "p95", "p99", "mean"):
        table.add_column(column, justify="right")
    for stage in STAGES:
        if timings[stage]:
            figures = summary_ms(timings[stage])
            table.add_row(stage, *(f"{figures[k]:.1f}" for k in ("p50", "p95", "p99", "mean")))
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", default="tests/data/questions/public-heldout.jsonl")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--chunks", type=int, default=10_000, help="replicate to about this many (0: skip)")
    args = parser.parse_args()
    kb = KnowledgeBase(load_settings())
    kb.ensure_fresh()
    kb.warm_up()
    questions = [q.question for q in read_questions(Path(args.questions), need_expected=False)]
    report(str(kb.settings.knowledge_dir), measure(kb, questions, args.rounds), kb.db["chunks"].count)
    if args.chunks:
        with tempfile.TemporaryDirectory() as tmp:
            big = replicate(kb, args.chunks, Path(tmp))
            big.warm_up()
            report("replicated", measure(big, questions, args.rounds), big.db["chunks"].count)


if __name__ == "__main__":
    main()
