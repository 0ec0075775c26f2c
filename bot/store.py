"""The SQLite database: connection settings, versioned migrations, small helpers.

Migrations are plain functions, applied in order, each once; the schema version is
SQLite's own `PRAGMA user_version`. Add a new function at the end of MIGRATIONS;
never edit one that has shipped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils


def now() -> str:
    """The current time as an ISO 8601 UTC string, the one format stored everywhere."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _m001_knowledge(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["documents"].create(
        {
            "path": str,  # relative to the knowledge folder, POSIX style
            "title": str,
            "tags": str,  # JSON list
            "owner": str,
            "updated": str,
            "url": str,
            "file_hash": str,
            "synced_at": str,
        },
        pk="path",
    )
    db["chunks"].create(
        {
            "id": str,  # path#anchor~n: stable while the section keeps its heading
            "path": str,
            "ordinal": int,  # position in the document
            "title": str,
            "heading": str,  # heading path, " > " separated, without the title
            "anchor": str,
            "text": str,  # the section text, verbatim
            "content_hash": str,  # hash of what was embedded (model included)
        },
        pk="id",
        foreign_keys=[("path", "documents", "path")],
    )
    db["chunks"].create_index(["path"])
    db["chunks"].enable_fts(["title", "heading", "text"], create_triggers=True, tokenize="porter")


def _m002_questions(db: sqlite_utils.Database) -> None:
    db["questions"].create(
        {
            "id": int,
            "asked_at": str,
            "user": str,
            "channel": str,
            "question": str,
            "confident": int,
            "top_score": float,
            "top_path": str,
            "source": str,  # cli, slack, eval
        },
        pk="id",
    )
    db["questions"].create_index(["asked_at"])


MIGRATIONS = [_m001_knowledge, _m002_questions]


def migrate(db: sqlite_utils.Database) -> int:
    """Apply every migration the database has not seen; return the schema version."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
        with db.conn:  # each migration and its version bump commit together
            migration(db)
            db.execute(f"PRAGMA user_version = {number}")
    return len(MIGRATIONS)


def open_db(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if needed) the database at path, in WAL mode, migrated."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA busy_timeout = 5000")  # wait for another writer rather than fail
    db.enable_wal()
    db.execute("PRAGMA foreign_keys = ON")
    migrate(db)
    return db


def get_meta(db: sqlite_utils.Database, key: str, default: str | None = None) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


def set_meta(db: sqlite_utils.Database, key: str, value: str) -> None:
    db["meta"].upsert({"key": key, "value": value}, pk="key")
