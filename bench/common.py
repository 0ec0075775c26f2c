"""Small helpers the benchmarks share."""

from __future__ import annotations

import json
import os
import shutil
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


def proc_status(pid: int, field: str) -> int | None:
    """A number from /proc/<pid>/status (memory fields in kB), or None when the field is missing."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used, all its threads, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    """A process's memory from /proc/<pid>/status: VmRSS (now) or VmHWM (peak), in MB."""
    kb = proc_status(pid, field)
    return float("nan") if kb is None else kb / 1024


@dataclass
class RunningBot:
    process: object  # subprocess.Popen of `ospo-bot serve`
    events_url: str  # where Slack's side posts: .../slack/events
    log_path: Path
    ready_seconds: float  # process start to /healthz answering


def indexed_data(knowledge: Path) -> Path:
    """A data dir with `knowledge` already indexed, made once per content of the folder (and of the
    code that indexes it) and kept in the temp dir: each run starts from a copy, so start-up is the
    server's own and not indexing, which takes ~15 s for the handbook on a quiet machine and minutes on
    one shared with test runs (bench/ingest.py measures indexing)."""
    import hashlib
    import subprocess

    digest = hashlib.sha256(str(knowledge.resolve()).encode())  # the index records where files are
    for path in sorted(p for p in knowledge.rglob("*") if p.is_file()) + sorted((ROOT / "bot/search").glob("*.py")):
        digest.update(str(path.relative_to(path.parents[1])).encode() + path.read_bytes())
    kept = Path(tempfile.gettempdir()) / f"ospo-bot-bench-index-{digest.hexdigest()[:16]}"
    if not kept.is_dir():
        making = Path(tempfile.mkdtemp(prefix=kept.name + "-"))
        env = {**os.environ, "OSPO_KNOWLEDGE_DIR": str(knowledge), "OSPO_DATA_DIR": str(making / "data")}
        # its report to stderr: stdout may be a --json result
        subprocess.run(
            [str(Path(sys.executable).parent / "ospo-bot"), "kb", "sync"], env=env, check=True, stdout=sys.stderr
        )
        try:
            (making / "data").rename(kept)  # whole or not at all, even with two runs at once
        except OSError:
            shutil.rmtree(making / "data")  # the other run's copy is there now
        shutil.rmtree(making, ignore_errors=True)
    return kept


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
        shutil.copytree(indexed_data(Path(full_env["OSPO_KNOWLEDGE_DIR"])), full_env["OSPO_DATA_DIR"])
        started = time.monotonic()
        process, base, log_path = start_bot(full_env, Path(tmp), ready_within=900)
        try:
            yield RunningBot(process, base + "/slack/events", log_path, time.monotonic() - started)
        finally:
            stop_bot(process)
