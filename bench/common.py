"""Small helpers the benchmarks share."""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) by nearest rank; values need not be sorted."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary_ms(values: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean of durations given in seconds, in milliseconds."""
    return {
        "p50": 1000 * percentile(values, 50),
        "p95": 1000 * percentile(values, 95),
        "p99": 1000 * percentile(values, 99),
        "mean": 1000 * statistics.fmean(values) if values else float("nan"),
    }


def handbook_questions() -> list[str]:
    """The informal questions about the bundled handbook (both halves, tests/data/questions/)."""
    files = ("handbook-tune.jsonl", "handbook-heldout.jsonl")
    lines = [line for f in files for line in (ROOT / "tests/data/questions" / f).read_text().splitlines()]
    return [json.loads(line)["question"] for line in lines if line.strip()]


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    """A process's memory from /proc/<pid>/status: VmRSS (now) or VmHWM (peak), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class RunningBot:
    process: object  # subprocess.Popen of `ospo-bot serve`
    events_url: str  # where Slack's side posts: .../slack/events
    log_path: Path
    ready_seconds: float  # process start to /healthz answering


@contextmanager
def serve_bot(fake, env: dict | None = None) -> Iterator[RunningBot]:
    """`ospo-bot serve` in HTTP mode as its own process, with a fresh temp data dir and the given fake
    Slack (tests/fakeslack.py), on the bundled handbook unless env names OSPO_KNOWLEDGE_DIR; stopped on exit."""
    import time

    sys.path.insert(0, str(ROOT))
    from bot.config import REPO_KNOWLEDGE_DIR
    from tests.conftest import start_bot, stop_bot

    with tempfile.TemporaryDirectory() as tmp:
        full_env = {
            "OSPO_KNOWLEDGE_DIR": REPO_KNOWLEDGE_DIR,
            "OSPO_DATA_DIR": Path(tmp) / "data",
            "SLACK_API_URL": fake.base_url,
            "OSPO_TRIAGE_CHANNEL": "C0TRIAGE",
            **(env or {}),
        }
        started = time.monotonic()
        process, base, log_path = start_bot(full_env, Path(tmp))
        try:
            yield RunningBot(process, base + "/slack/events", log_path, time.monotonic() - started)
        finally:
            stop_bot(process)
