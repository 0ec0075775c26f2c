"""The SQLite database: connection settings, versioned migrations, small helpers.

Migrations are plain functions, applied in order, each once; the schema version is
SQLite's own `PRAGMA user_version`. Add a new function at the end of MIGRATIONS;
never edit one that has shipped.
"""

from __future__ import annotations

import threading
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


def _m003_helpdesk(db: sqlite_utils.Database) -> None:
    # What each answer quoted, so a later change to that section can be told to the asker.
    db["answers"].create(
        {"question_id": int, "chunk_id": str, "content_hash": str, "channel": str, "ts": str},
        pk="question_id",
        foreign_keys=[("question_id", "questions", "id")],
    )
    db["answers"].create_index(["chunk_id"])
    db["feedback"].create(
        {"id": int, "question_id": int, "user": str, "vote": int, "reason": str, "at": str},
        pk="id",
        foreign_keys=[("question_id", "questions", "id")],
    )
    db["escalations"].create(
        {
            "id": int,
            "question_id": int,
            "asker": str,
            "channel": str,  # where the asker asked (a DM or a channel)
            "thread_ts": str,  # the asker's thread, where replies are relayed
            "triage_channel": str,
            "triage_ts": str,  # the triage post; OSPO replies are its thread
            "state": str,  # open, resolved
            "opened_at": str,
            "answer": str,  # the OSPO's last reply
            "answered_by": str,
            "resolved_at": str,
            "resolved_by": str,
        },
        pk="id",
        foreign_keys=[("question_id", "questions", "id")],
    )
    db["escalations"].create_index(["question_id"], unique=True)
    db["escalations"].create_index(["triage_channel", "triage_ts"])
    db["slack_events"].create({"event_id": str, "received_at": str}, pk="event_id")
    db["bot_threads"].create({"channel": str, "thread_ts": str, "at": str}, pk=("channel", "thread_ts"))
    db["notices"].create(
        {
            "id": int,
            "user": str,
            "question_id": int,
            "chunk_id": str,
            "kind": str,  # changed, removed
            "new_text": str,
            "created_at": str,
            "sent_at": str,
        },
        pk="id",
    )
    db["notices"].create_index(["user", "chunk_id", "kind", "sent_at"])
    db["learned"].create(
        {
            "id": int,
            "escalation_id": int,
            "path": str,
            "question": str,
            "answer": str,
            "answered_by": str,
            "created_at": str,
        },
        pk="id",
    )


def _m004_approvals(db: sqlite_utils.Database) -> None:
    # Approval requests (bot/approvals.py). The state is a cache of the audit trail: replaying
    # approval_events from "submitted" gives it back. Lists and dicts are stored as JSON.
    db["approval_requests"].create(
        {
            "id": int,  # shown as OSPO-<id>
            "type": str,  # contribute, release, cla, personal, exception
            "requester": str,  # Slack user id
            "state": str,  # pending, auto_approved, approved, rejected, needs_info, cancelled
            "fields": str,  # JSON: the validated form fields
            "repo": str,  # normalised repository URL, for precedent and blanket approvals
            "license_expression": str,
            "license_category": str,
            "auto_reasons": str,  # JSON list
            "flags": str,  # JSON list
            "precedent": str,  # JSON list of earlier decisions for the same repository
            "blanket": int,
            "blanket_until": str,
            "decided_by": str,
            "decided_at": str,
            "reason": str,
            "conditions": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"type", "requester", "state", "fields", "blanket", "created_at", "updated_at"},
        defaults={"blanket": 0},
    )
    db["approval_requests"].create_index(["state", "created_at"])
    db["approval_requests"].create_index(["requester"])
    db["approval_requests"].create_index(["repo"])
    db["approval_events"].create(
        {
            "id": int,
            "request_id": int,
            "actor": str,
            "at": str,
            "from_state": str,
            "to_state": str,
            "reason": str,
            "extra": str,  # JSON object
        },
        pk="id",
        not_null={"request_id", "actor", "at", "from_state", "to_state", "extra"},
        foreign_keys=[("request_id", "approval_requests", "id")],
    )
    db["approval_events"].create_index(["request_id"])
    for verb in ("UPDATE", "DELETE"):  # the audit trail is append-only
        db.execute(
            f"CREATE TRIGGER approval_events_no_{verb.lower()} BEFORE {verb} ON approval_events "
            "BEGIN SELECT RAISE(ABORT, 'approval_events is append-only'); END"
        )


def _m005_approval_messages(db: sqlite_utils.Database) -> None:
    # Where each request was posted for approvers, so a decision can update that message.
    db["approval_messages"].create({"request_id": int, "channel": str, "ts": str}, pk="request_id")


def _m006_schedule(db: sqlite_utils.Database) -> None:
    # The weekly digest, claimed before it is sent (bot/scheduler.py): the INSERT of a period's row
    # is what only one process can win, so two bots (or a restart) never post the same week twice.
    db["digest_runs"].create(
        {
            "period": str,  # the ISO week, e.g. 2026-W47
            "claimed_at": str,
            "claimed_by": str,  # pid@host
            "sent_at": str,  # NULL until posted; an old claim without it may be taken over
            "late": int,  # 1 when sent well after its scheduled time (the bot was down)
            "message_ts": str,  # the digest message, once posted
        },
        pk="period",
        not_null={"claimed_at", "claimed_by", "late"},
        defaults={"late": 0},
    )
    # Reminders DMed by the daily job: one row per request, day and kind, so never twice a day.
    db["reminder_log"].create(
        {"request_id": int, "day": str, "kind": str, "sent_at": str},  # kind: sla (approvers), needs_info
        pk=("request_id", "day", "kind"),
    )


MIGRATIONS = [
    _m001_knowledge,
    _m002_questions,
    _m003_helpdesk,
    _m004_approvals,
    _m005_approval_messages,
    _m006_schedule,
]


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


class ThreadLocalDB:
    """One connection per thread: sqlite3 connections must not cross threads, and the Slack
    server answers in a pool of them. WAL lets their reads run beside one writer."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._local = threading.local()
        self.get()  # create and migrate now, in the opening thread

    def get(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = open_db(self.path)
        return db
