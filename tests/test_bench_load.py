"""bench/load.py cannot rot: a 3-second run at 2 questions/s against a real `ospo-bot serve` and the
fake Slack gives the figures the lead reads, with every request answered and no errors. (A small
knowledge base, so that start-up is seconds rather than the handbook's indexing.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import SMALL_KB, write_docs

LOAD = Path(__file__).resolve().parents[1] / "bench" / "load.py"


def test_a_short_load_run_reports_every_figure_and_no_errors(tmp_path):
    knowledge = write_docs(tmp_path / "knowledge", SMALL_KB)
    run = subprocess.run(
        [sys.executable, str(LOAD), "--seconds", "3", "--rate", "2", "--json", "--knowledge", str(knowledge)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout)

    assert {"questions", "kinds", "errors", "rss", "targets", "generator_lag_ms"} <= result.keys()
    assert result["errors"]["total"] == 0, (result["errors"], result["unexpected_replies"], result["server_log_errors"])
    assert result["questions"]["sent"] == 6
    assert result["questions"]["answered"] == 6
    assert result["questions"]["answer_ms"]["p95"] > 0
    assert set(result["kinds"]) == {"dm", "ask", "status", "help", "feedback_up", "feedback_down", "escalate", "retry"}
    assert result["kinds"]["dm"]["reply_ms"]["p50"] > 0
    assert result["rss"]["samples"] and result["rss"]["peak_mb"] > 0
    assert len(result["rss"]["threads"]) == len(result["rss"]["samples"]) and min(result["rss"]["threads"]) > 1
    assert set(result["targets"]) == {
        "questions_per_second",
        "answer_p95_ms",
        "lost_or_duplicated",
        "errors",
        "rss_growth_after_warmup_mb",
    }
    assert result["targets"]["errors"]["pass"] is True
    assert result["targets"]["questions_per_second"]["pass"] is False  # 2/s is not the 20/s target


def test_the_deps_bench_times_every_format():
    """bench/deps.py cannot rot: real SBOMs and small synthetic files in every format, each read,
    checked and run through the command."""
    bench = Path(__file__).resolve().parents[1] / "bench" / "deps.py"
    run = subprocess.run(
        [sys.executable, str(bench), "--components", "50", "--json"], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-3000:]
    rows = json.loads(run.stdout)
    assert [r["format"] for r in rows] == [
        "CycloneDX 1.2 JSON", "CycloneDX 1.2 XML", "CycloneDX 1.5 JSON", "CycloneDX 1.5 XML", "SPDX 2.3 JSON",
        "npm package-lock v3",
    ]  # fmt: skip
    assert [r["components"] for r in rows[2:]] == [50] * 4
    assert all(r["read_s"] > 0 and r["command_s"] > 0 for r in rows)


def test_the_replicas_bench_runs_one_and_two_replicas_on_one_chroma_server(tmp_path):
    """bench/replicas.py cannot rot: one replica, then two sharing a data dir and a Chroma server,
    each question answered once (its ask_all checks that) and every figure printed."""
    knowledge = write_docs(tmp_path / "knowledge", SMALL_KB)
    bench = Path(__file__).resolve().parents[1] / "bench" / "replicas.py"
    run = subprocess.run(
        [sys.executable, str(bench), "--answers", "40", "--knowledge", str(knowledge), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout)
    assert set(result["replicas"]) == {"1", "2"}
    for figures in result["replicas"].values():
        assert figures["rate"] > 0 and figures["crowd"]["p95"] > 0 and figures["alone"]["p95"] > 0
        assert figures["server_ms"] > 0 and figures["cores"] > 0 and figures["rss"] > 0
    assert result["replicas"]["2"]["rss"] > result["replicas"]["1"]["rss"]  # two processes, each with the model
