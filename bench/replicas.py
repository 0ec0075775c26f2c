"""Replicas on this one host, set up as README's "Running more than one replica" says (one data dir,
one Chroma server), with 20 askers sent round-robin to them, as a load balancer would: answers/s,
latency and where the cores went, for one replica and for `--replicas`.

One process runs the Python of every answer under one GIL: bench/slack_latency.py shows the cores
partly idle at ~100 answers/s. A second process is what turns them into answers.

    .venv/bin/python bench/replicas.py [--replicas 2] [--answers 1500] [--knowledge DIR] [--json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import cpu_seconds, handbook_questions, indexed_data, memory_mb, summary_ms  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from slack_latency import ask_all  # noqa: E402

from bot.config import REPO_KNOWLEDGE_DIR  # noqa: E402
from tests.conftest import free_port, start_bot, start_chroma, stop_bot, stop_process  # noqa: E402
from tests.fakeslack import FakeSlack  # noqa: E402
from tests.slackkit import SlackSide  # noqa: E402


class RoundRobin:
    """Slack's side of the conversation, each event to the next replica."""

    def __init__(self, urls: list[str]):
        self._sides = itertools.cycle([SlackSide(url) for url in urls])

    def send_event(self, body: dict):
        return next(self._sides).send_event(body)


def measure(count: int, env: dict, tmp: Path, fake: FakeSlack, texts: list[str], answers: int) -> dict:
    bots = [start_bot(env, tmp, ready_within=900) for _ in range(count)]
    try:
        slack = RoundRobin([base + "/slack/events" for _, base, _ in bots])
        ask_all(slack, fake, texts[: min(40, answers)], 4, f"W{count}")  # warm-up
        alone, _ = ask_all(slack, fake, texts[: min(100, answers)], 1, f"A{count}")
        pids = [process.pid for process, _, _ in bots]
        before = [cpu_seconds(pid) for pid in pids], cpu_seconds(os.getpid()), time.monotonic()
        crowd, rate = ask_all(slack, fake, (texts * 10)[:answers], 20, f"B{count}")
        after = [cpu_seconds(pid) for pid in pids], cpu_seconds(os.getpid()), time.monotonic()
        servers = sum(after[0]) - sum(before[0])
        here = after[1] - before[1]
        return {
            "alone": summary_ms(alone),
            "crowd": summary_ms(crowd),
            "rate": rate,
            "server_ms": 1000 * servers / answers,
            "askers_ms": 1000 * here / answers,
            "cores": (servers + here) / (after[2] - before[2]),
            "rss": sum(memory_mb(pid) for pid in pids),
        }
    finally:
        for process, _, _ in bots:
            stop_bot(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replicas", type=int, default=2, help="replicas to compare with one")
    parser.add_argument("--answers", type=int, default=1500, help="questions in each 20-asker run")
    parser.add_argument("--knowledge", type=Path, default=REPO_KNOWLEDGE_DIR, help="knowledge folder (the handbook)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    texts = handbook_questions()
    fake = FakeSlack().start()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        shutil.copytree(indexed_data(args.knowledge), tmp / "data")
        (tmp / "chroma").mkdir()
        (tmp / "data/chroma").rename(tmp / "chroma/data")  # the index's vectors, now the server's
        port = free_port()
        chroma = start_chroma(tmp / "chroma", port)
        env = {
            "OSPO_KNOWLEDGE_DIR": args.knowledge,
            "OSPO_DATA_DIR": tmp / "data",
            "CHROMA_HOST": "127.0.0.1",
            "CHROMA_PORT": port,
            "SLACK_API_URL": fake.base_url,
            "OSPO_TRIAGE_CHANNEL": "C0TRIAGE",
        }
        try:
            results = {count: measure(count, env, tmp, fake, texts, args.answers) for count in (1, args.replicas)}
        finally:
            stop_process(chroma)
            fake.stop()
    if args.json:
        print(json.dumps({"answers": args.answers, "replicas": {str(count): r for count, r in results.items()}}))
        return
    table = Table(title=f"20 askers, {args.answers} questions, round-robin over replicas sharing a Chroma server")
    for column in (
        "replicas",
        "answers/s",
        "p50 / p95 / p99 ms",
        "1 asker p95 ms",
        "CPU/answer: servers",
        "askers + fake Slack",
        "cores busy",
        "RSS MB",
    ):
        table.add_column(column, justify="right")
    for count, r in results.items():
        crowd = r["crowd"]
        table.add_row(
            str(count),
            f"{r['rate']:.0f}",
            f"{crowd['p50']:.0f} / {crowd['p95']:.0f} / {crowd['p99']:.0f}",
            f"{r['alone']['p95']:.0f}",
            f"{r['server_ms']:.1f} ms",
            f"{r['askers_ms']:.1f} ms",
            f"{r['cores']:.2f} of {os.cpu_count()}",
            f"{r['rss']:.0f}",
        )
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
