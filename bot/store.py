"""The SQLite database: connection settings, versioned migrations, small helpers.

Migrations are plain functions, applied in order, each once; the schema version is
SQLite's own `PRAGMA user_version`. Add a new function at the end of MIGRATIONS;
never edit one that has shipped.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

BUSY_TIMEOUT_MS = 5000  # how long a write waits for another process's write lock before it fails


def iso(moment: datetime) -> str:
    """An aware datetime as stored: ISO 8601 in UTC, to the second (the one format stored everywhere)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def now() -> str:
    """The current time as an ISO 8601 UTC string, the one format stored everywhere."""
    return iso(datetime.now(UTC))


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


def _m007_claims(db: sqlite_utils.Database) -> None:
    # Work several `serve` processes may try at once (posting an outboxed request, sending a notice):
    # a row is a lease on (what, key); the process whose INSERT wins does the work (bot/claims.py).
    db["claims"].create(
        {"what": str, "key": str, "claimed_by": str, "claimed_at": str},
        pk=("what", "key"),
        not_null={"claimed_by", "claimed_at"},
    )


def _m008_sections(db: sqlite_utils.Database) -> None:
    """Quotes are whole sections (or their matching part): sections keep their text; chunks are
    pieces of a section (a span of its text) or one of its "asked as" phrasings."""
    db["sections"].create(
        {
            "id": str,  # path#anchor
            "path": str,
            "anchor": str,
            "ordinal": int,
            "title": str,
            "heading": str,
            "text": str,  # what a quote is taken from, markdown, verbatim
        },
        pk="id",
        foreign_keys=[("path", "documents", "path")],
    )
    db["sections"].create_index(["path"])
    db["chunks"].add_column("kind", str, not_null_default="text")  # text, asked
    db["chunks"].add_column("span_start", int)  # the piece's span in its section's text
    db["chunks"].add_column("span_end", int)


def _m009_learned_phrasings(db: sqlite_utils.Database) -> None:
    """Questions whose answer got 👍, as "asked as" evidence for the section (bot/search/learning.py)."""
    db["learned_phrasings"].create(
        {"id": int, "section_id": str, "phrasing": str, "question_id": int, "user": str, "at": str},
        pk="id",
        not_null={"section_id", "phrasing", "at"},
    )
    db["learned_phrasings"].create_index(["section_id", "phrasing"], unique=True)
    db["learned_phrasings"].create_index(["question_id"])


MIGRATIONS = [
    _m001_knowledge,
    _m002_questions,
    _m003_helpdesk,
    _m004_approvals,
    _m005_approval_messages,
    _m006_schedule,
    _m007_claims,
    _m008_sections,
    _m009_learned_phrasings,
]


def migrate(db: sqlite_utils.Database) -> int:
    """Apply every migration the database has not seen; return the schema version."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
        with transaction(db):  # each migration and its version bump commit together
            if db.execute("PRAGMA user_version").fetchone()[0] >= number:
                continue  # another process starting at the same time applied it first
            migration(db)
            db.execute(f"PRAGMA user_version = {number}")
    return len(MIGRATIONS)


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction: all of it commits or none of it (sqlite_utils calls inside nest as
    savepoints instead of committing on their own). BEGIN IMMEDIATE takes the write lock first, so
    a writer waits out another process's lock (busy timeout) rather than failing at once, as a
    read that turns into a write does in WAL mode."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise


def open_db(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if needed) the database at path, in WAL mode, migrated. A folder that is
    read-only, full or locked fails here with a StorageError that says what to do."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not os.access(path.parent, os.W_OK):  # now, not at the first write: SQLite would open it read-only
            raise StorageError(_problem("read-only", path.parent))
        db = sqlite_utils.Database(path)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")  # wait for another writer rather than fail
        db.enable_wal()
        # WAL's NORMAL: a commit is durable when the process dies, and only a power loss can undo the
        # last ones (never corrupting). FULL's fsync per commit (~4 ms here, 5 commits an answer) capped
        # answers at ~45/s on one host (bench/load.py); README, "Benchmarks".
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        migrate(db)
    except (sqlite3.Error, OSError) as error:
        problem = storage_error(error, path.parent)
        if problem is None:
            raise
        raise problem from error
    return db


class StorageError(Exception):
    """The data folder cannot be used (locked, full, read-only...); the message says what to do."""


def storage_error(error: BaseException, data_dir: Path | str) -> StorageError | None:
    """What a failure of the data folder means, said plainly with what to do; None when `error`
    (or what caused it) is not one. SQLite says it with error codes, the file system with errno,
    and the embedded Chroma store (data_dir/chroma) in its own exception types, by their text."""
    data_dir = Path(data_dir)
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, StorageError):
            return seen
        kind = _kind(seen, data_dir)
        if kind:
            return StorageError(_problem(kind, data_dir, seen))
        seen = seen.__cause__ or seen.__context__
    return None


_SQLITE_KINDS = {5: "locked", 6: "locked", 8: "read-only", 10: "io", 13: "full", 14: "cannot-open"}
_ERRNO_KINDS = {errno.ENOSPC: "full", errno.EDQUOT: "full", errno.EROFS: "read-only", errno.EACCES: "read-only"}
_TEXT_KINDS = {
    "database is locked": "locked",
    "database or disk is full": "full",
    "no space left on device": "full",
    "readonly database": "read-only",
    "read-only file system": "read-only",
}


def _kind(error: BaseException, data_dir: Path) -> str | None:
    if isinstance(error, sqlite3.Error):
        kind = _SQLITE_KINDS.get(getattr(error, "sqlite_errorcode", 0) & 0xFF)
    elif isinstance(error, OSError):
        # Only errors about the data folder: an unreadable knowledge file is another problem.
        about = Path(error.filename) if isinstance(error.filename, str) else None
        ours = about is not None and (about == data_dir or data_dir in about.parents or about in data_dir.parents)
        kind = _ERRNO_KINDS.get(error.errno) if ours else None
    else:
        text = str(error).lower()
        kind = next((k for needle, k in _TEXT_KINDS.items() if needle in text), None)
    if kind in ("io", "cannot-open"):  # SQLite's vaguer codes: the disk says which it is
        read_only, free = _disk(data_dir)
        kind = "read-only" if read_only else "full" if free < 1 << 20 else kind
    return kind


def _disk(data_dir: Path) -> tuple[bool, int]:
    """(read-only?, bytes free) of the file system that holds data_dir (or would hold it)."""
    folder = data_dir
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    stats = os.statvfs(folder)
    read_only = bool(stats.f_flag & os.ST_RDONLY) or not os.access(folder, os.W_OK)
    return read_only, stats.f_bavail * stats.f_frsize


def _problem(kind: str, data_dir: Path, error: BaseException | None = None) -> str:
    db = data_dir / "ospo-bot.db"
    if kind == "locked":
        return (
            f"the database {db} is locked by another process (another ospo-bot command or `ospo-bot serve` "
            f"held its write lock for more than {BUSY_TIMEOUT_MS // 1000} s); retry, or stop the other "
            "ospo-bot process."
        )
    if kind == "full":
        return f"the disk holding OSPO_DATA_DIR ({data_dir}) is full; free some space and retry."
    if kind == "read-only":
        return (
            f"OSPO_DATA_DIR ({data_dir}) is read-only (or not writable for this user), and ospo-bot keeps "
            "its database and index there: make it writable, or set OSPO_DATA_DIR to a writable folder."
        )
    if kind == "cannot-open":
        return (
            f"cannot open the database {db} ({error}): check that OSPO_DATA_DIR ({data_dir}) is a folder "
            "this user can write to, or set OSPO_DATA_DIR to another one."
        )
    return f"reading or writing {db} failed ({error}): check the disk that holds OSPO_DATA_DIR ({data_dir})."


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
