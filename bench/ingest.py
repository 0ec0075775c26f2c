"""Ingest figures: a full sync (chunks/s), a re-sync of an unchanged knowledge base (in the
process and as the `ospo-bot kb sync` command), and a one-file edit.

    .venv/bin/python bench/ingest.py [KNOWLEDGE_DIR]   (default ../shared/corpora/ospo-public)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bot.config import load_settings
from bot.search.documents import knowledge_files
from bot.search.knowledge_base import KnowledgeBase

ROOT = Path(__file__).resolve().parents[1]


def main(source: Path) -> None:
    table = Table(title=f"ingest: {source}")
    for column in ("step", "seconds", "embedded", "chunks/s"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        knowledge, data = Path(tmp) / "knowledge", Path(tmp) / "data"
        shutil.copytree(source, knowledge)
        env = {"OSPO_KNOWLEDGE_DIR": str(knowledge), "OSPO_DATA_DIR": str(data)}
        kb = KnowledgeBase(load_settings(**env))
        kb.warm_up()  # model load is cold start, not ingest
        full = kb.sync()
        table.add_row("full sync", f"{full.seconds:.1f}", str(full.embedded), f"{full.embedded / full.seconds:.0f}")
        again = KnowledgeBase(load_settings(**env)).sync()
        table.add_row("re-sync, unchanged (in process)", f"{again.seconds:.2f}", str(again.embedded), "")
        started = time.perf_counter()
        out = subprocess.run(
            [str(Path(sys.executable).parent / "ospo-bot"), "kb", "sync", "--json"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - started
        table.add_row(
            "re-sync, unchanged (`ospo-bot kb sync`, wall)",
            f"{wall:.2f}",
            str(json.loads(out.stdout)["added"]),
            "",
        )
        first = knowledge_files(knowledge)[0]
        first.write_text(first.read_text() + "\n\n## Added section\n\nA new paragraph about CLAs.\n")
        edit = kb.sync()
        table.add_row("one file edited", f"{edit.seconds:.2f}", str(edit.embedded), "")
    Console().print(table)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "corpora" / "ospo-public")
