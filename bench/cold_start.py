"""Cold start of `ospo-bot ask` (process start to answer) and its peak RSS, and where the time goes.

.venv/bin/python bench/cold_start.py     (uses the bundled handbook, synced first)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

QUESTION = "can I fix a typo in an Apache 2 project on company time?"
BIN = Path(sys.executable).parent

PHASES = rf"""
import time, json
t0 = time.perf_counter(); marks = {{}}
def mark(name):
    global t0
    now = time.perf_counter(); marks[name] = now - t0; t0 = now
import bot.cli; mark("import cli, config, rich, click")
import chromadb; mark("import chromadb")
import sentence_transformers; mark("import torch + sentence-transformers")
from bot.config import load_settings; from bot.search.knowledge_base import KnowledgeBase
kb = KnowledgeBase(load_settings()); mark("open SQLite")
kb.ensure_fresh(); mark("staleness check (hashes)")
kb.index.vectors.count(); mark("open Chroma")
kb.index.embedder.load(); mark("load model")
kb.ask({QUESTION!r}); mark("first answer")
kb.ask({QUESTION!r}); mark("second answer")
print(json.dumps(marks))
"""


RUN_ASK = f"""
import resource, subprocess
subprocess.run([{str(BIN / "ospo-bot")!r}, "ask", {QUESTION!r}], check=True, capture_output=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "OSPO_DATA_DIR": tmp}
        subprocess.run([str(BIN / "ospo-bot"), "kb", "sync"], env=env, check=True, capture_output=True)
        walls, peaks = [], []
        for _ in range(3):
            started = time.perf_counter()
            # A fresh parent per run, so its children's peak RSS is this `ask` alone.
            out = subprocess.run(
                [str(BIN / "python"), "-c", RUN_ASK], env=env, check=True, capture_output=True, text=True
            )
            walls.append(time.perf_counter() - started)
            peaks.append(int(out.stdout.strip().splitlines()[-1]) / 1024)
        peak_mb = max(peaks)
        out = subprocess.run([str(BIN / "python"), "-c", PHASES], env=env, check=True, capture_output=True, text=True)
        import json

        phases = json.loads(out.stdout.strip().splitlines()[-1])
    console = Console()
    console.print(
        f"`ospo-bot ask` cold, process start to answer: best {min(walls):.2f}s, "
        f"worst {max(walls):.2f}s of 3; peak RSS {peak_mb:.0f} MB"
    )
    table = Table(title="where the time goes (one process)")
    table.add_column("phase")
    table.add_column("seconds", justify="right")
    table.add_column("share", justify="right")
    total = sum(phases.values())
    for name, seconds in phases.items():
        table.add_row(name, f"{seconds:.3f}", f"{seconds / total:.0%}")
    console.print(table)


if __name__ == "__main__":
    main()
