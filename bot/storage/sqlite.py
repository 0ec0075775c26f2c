"""The embedded back end: SQLite through sqlite-utils, one file in OSPO_DATA_DIR (WAL mode).

Everything SQLite-specific lives here: the schema and its migrations (PRAGMA user_version), the
write transaction (BEGIN IMMEDIATE), what its errors mean, keyword search (FTS5, BM25), date
arithmetic for the digest, and the sync lock (an OS file lock, so one host only). The PostgreSQL
back end (bot/storage/postgres.py) has the same functions; bot/store.py is the interface.

Migrations are plain functions, applied in order, each once. Add a new function at the end of
MIGRATIONS, and its twin at the end of bot/storage/postgres.py's; never edit one that has shipped.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from bot.storage import StorageError

log = logging.getLogger(__name__)

NAME = "sqlite"
SHARED = False  # one host: files in OSPO_DATA_DIR are the same for every process
BUSY_TIMEOUT_MS = 5000  # how long a write waits for another process's write lock before it fails
# Each connection's page cache, in KiB (SQLite's default: 2000). The Slack server keeps a connection or
# two per thread, over a hundred under load, and each cache slowly filled with the pages its thread
# read: in bench/load.py's 10 minutes RSS grew 15 MB after the warm-up, 6 MB with 256 KiB (README,
# "Benchmarks"). A page not in it comes from the OS's cache: keyword search took as long over 10,000
# chunks (bench/latency.py: p50 4.5 ms either way).
CACHE_KIB = 256


# One writer at a time per database file in this process, queued on a Python lock. SQLite's own busy
# handler polls with sleeps of up to 100 ms, so with dozens of threads writing at once (overload:
# bench/load.py at 100 questions/s) a waiting writer could miss its turn for the whole busy timeout
# and fail with "database is locked". Other processes still wait through the busy timeout.
class WriterLock:
    """Whose turn it is to write to one database file in this process: reentrant like an RLock, and
    an urgent writer (Slack waits for it: an event's claim, before its ack) goes before every writer
    already queued. Under overload dozens of answers queue to write, each turn stretched by the
    GIL; in plain arrival order an ack waited behind them all, past Slack's 3 s (bench/load.py)."""

    def __init__(self):
        self._mutex = threading.Lock()
        self._urgent = threading.Condition(self._mutex)
        self._others = threading.Condition(self._mutex)
        self._urgent_waiting = 0
        self.waiting = 0  # writers waiting for their turn, urgent or not
        self._owner: int | None = None
        self._depth = 0

    def acquire(self, urgent: bool = False) -> None:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._depth += 1
                return
            self.waiting += 1
            self._urgent_waiting += urgent
            try:
                while self._owner is not None or (not urgent and self._urgent_waiting):
                    (self._urgent if urgent else self._others).wait()
                self._owner, self._depth = me, 1
            finally:
                self.waiting -= 1
                self._urgent_waiting -= urgent
                if self._owner is None:  # interrupted while waiting: a turn it was handed goes to the next
                    self._hand_on()

    def release(self) -> None:
        with self._mutex:
            if self._owner != threading.get_ident():
                raise RuntimeError("release of a writer turn this thread does not hold")
            self._depth -= 1
            if not self._depth:
                self._owner = None
                self._hand_on()

    def _hand_on(self) -> None:
        """Wake the next writer: an urgent one if any waits (called holding _mutex)."""
        (self._urgent if self._urgent_waiting else self._others).notify()

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    @contextmanager
    def first(self) -> Iterator[None]:
        """This writer's turn, before the writers already waiting."""
        self.acquire(urgent=True)
        try:
            yield
        finally:
            self.release()


_WRITERS: dict[str, WriterLock] = {}
_WRITERS_LOCK = threading.Lock()


def _writer_lock(path: str) -> WriterLock:
    with _WRITERS_LOCK:
        return _WRITERS.setdefault(path, WriterLock())


class SqliteDatabase(sqlite_utils.Database):
    """sqlite-utils' Database, plus the few calls bot/store.py's interface adds."""

    @property
    def dialect(self):
        import bot.storage.sqlite as dialect

        return dialect

    @contextmanager
    def transaction(self) -> Iterator[SqliteDatabase]:
        """One write transaction: all of it commits or none of it (sqlite_utils calls inside nest as
        savepoints instead of committing on their own). BEGIN IMMEDIATE takes the write lock first, so
        a writer waits out another process's lock (busy timeout) rather than failing at once, as a
        read that turns into a write does in WAL mode."""
        with self.writer:
            self.execute("BEGIN IMMEDIATE")
            try:
                yield self
                self.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.execute("ROLLBACK")
                raise

    @contextmanager
    def writing(self, urgent: bool = False):
        """A block of writes, committed when it ends: sqlite3's own `with conn:`, as the bot has always
        written them (sqlite-utils' `atomic()` would BEGIN a deferred transaction, which a concurrent
        writer can make fail at once instead of waiting for it), one writer of this process at a time;
        urgent: before the writers already waiting (WriterLock)."""
        with self.writer.first() if urgent else self.writer, self.conn:
            yield self.conn

    @property
    def writer(self) -> WriterLock:
        """This process's lock for writing to this database file (see _WRITERS)."""
        if not hasattr(self, "_writer"):
            self._writer = _writer_lock(str(Path(self.conn.execute("PRAGMA database_list").fetchone()[2]).resolve()))
        return self._writer


def _m001_knowledge(db: SqliteDatabase) -> None:
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


def _m002_questions(db: SqliteDatabase) -> None:
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


def _m003_helpdesk(db: SqliteDatabase) -> None:
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


def _m004_approvals(db: SqliteDatabase) -> None:
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


def _m005_approval_messages(db: SqliteDatabase) -> None:
    # Where each request was posted for approvers, so a decision can update that message.
    db["approval_messages"].create({"request_id": int, "channel": str, "ts": str}, pk="request_id")


def _m006_schedule(db: SqliteDatabase) -> None:
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


def _m007_claims(db: SqliteDatabase) -> None:
    # Work several `serve` processes may try at once (posting an outboxed request, sending a notice):
    # a row is a lease on (what, key); the process whose INSERT wins does the work (bot/claims.py).
    db["claims"].create(
        {"what": str, "key": str, "claimed_by": str, "claimed_at": str},
        pk=("what", "key"),
        not_null={"claimed_by", "claimed_at"},
    )


def _m008_sections(db: SqliteDatabase) -> None:
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


def _m009_learned_phrasings(db: SqliteDatabase) -> None:
    """Questions whose answer got 👍, as "asked as" evidence for the section (bot/search/learning.py)."""
    db["learned_phrasings"].create(
        {"id": int, "section_id": str, "phrasing": str, "question_id": int, "user": str, "at": str},
        pk="id",
        not_null={"section_id", "phrasing", "at"},
    )
    db["learned_phrasings"].create_index(["section_id", "phrasing"], unique=True)
    db["learned_phrasings"].create_index(["question_id"])


def _m010_learned_bodies(db: SqliteDatabase) -> None:
    """The markdown of each answer saved from Slack, so that replicas on other hosts (PostgreSQL) can
    write it into their own learned/ folder."""
    db["learned"].add_column("body", str)


def _m011_assistant_threads(db: SqliteDatabase) -> None:
    """Threads of Slack's assistant pane (bot/threads.py): who opened each, the channel they were
    viewing (its context, JSON), and whether the thread has its title yet."""
    db["assistant_threads"].create(
        {"channel": str, "thread_ts": str, "user": str, "context": str, "started_at": str, "titled": int},
        pk=("channel", "thread_ts"),
        not_null={"started_at", "titled"},
        defaults={"titled": 0},
    )


def _m012_request_shown(db: SqliteDatabase) -> None:
    """Where a request was shown besides the approvals channel (bot/approvals/shown.py): a card the bot
    posted where someone named it, or the unfurl of a link to it; each is refreshed when it changes."""
    db["request_shown"].create(
        {"request_id": int, "channel": str, "ts": str, "thread_ts": str, "kind": str, "url": str, "at": str},
        pk=("request_id", "channel", "ts"),
        not_null={"kind", "at"},
    )
    db["request_shown"].create_index(["channel", "thread_ts"])


def _m013_workflow_steps(db: SqliteDatabase) -> None:
    """Workflow Builder steps waiting for a request's decision (bot/approvals/steps.py)."""
    db["workflow_steps"].create(
        {"execution": str, "request_id": int, "started_at": str, "finished_at": str, "outcome": str},
        pk="execution",
        not_null={"request_id", "started_at"},
    )
    db["workflow_steps"].create_index(["request_id"])


def _m014_lookups_by_question_and_user(db: SqliteDatabase) -> None:
    """A vote finds its voter's earlier vote, and `/ospo status` a person's recent questions, by index:
    both scanned their whole table, which grows with every question (found under bench/load.py)."""
    db["feedback"].create_index(["question_id", "user"])
    db["questions"].create_index(["user"])  # with the rowid (id) after it: newest first for free


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
    _m010_learned_bodies,
    _m011_assistant_threads,
    _m012_request_shown,
    _m013_workflow_steps,
    _m014_lookups_by_question_and_user,
]


def migrate(db: SqliteDatabase) -> int:
    """Apply every migration the database has not seen; return the schema version."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
        with db.transaction():  # each migration and its version bump commit together
            if db.execute("PRAGMA user_version").fetchone()[0] >= number:
                continue  # another process starting at the same time applied it first
            migration(db)
            db.execute(f"PRAGMA user_version = {number}")
    return len(MIGRATIONS)


def schema_version(db: SqliteDatabase) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def open_db(path: Path | str) -> SqliteDatabase:
    """Open (creating if needed) the database at path, in WAL mode, migrated. A folder that is
    read-only, full or locked fails here with a StorageError that says what to do."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not os.access(path.parent, os.W_OK):  # now, not at the first write: SQLite would open it read-only
            raise StorageError(problem("read-only", path.parent))
        db = SqliteDatabase(path)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")  # wait for another writer rather than fail
        db.enable_wal()
        # WAL's NORMAL: a commit is durable when the process dies, and only a power loss can undo the
        # last ones (never corrupting). FULL's fsync per commit (~4 ms here, 5 commits an answer) capped
        # answers at ~45/s on one host (bench/load.py); README, "Benchmarks".
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        migrate(db)
    except (sqlite3.Error, OSError) as error:
        found = storage_error(error, path.parent)
        if found is None:
            raise
        raise found from error
    return db


class ThreadLocalDB:
    """One connection per thread: sqlite3 connections must not cross threads, and the Slack
    server answers in a pool of them. WAL lets their reads run beside one writer."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._local = threading.local()
        self.get()  # create and migrate now, in the opening thread

    def get(self) -> SqliteDatabase:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = open_db(self.path)
        return db


# -- what a failure means ------------------------------------------------------------------------
def storage_error(error: BaseException, data_dir: Path | str) -> StorageError | None:
    """What a failure of the data folder means, said plainly with what to do (a StorageError); None
    when `error` (or what caused it) is not one. SQLite says it with error codes, the file system with
    errno, and the embedded Chroma store (data_dir/chroma) in its own exception types, by their text."""
    data_dir = Path(data_dir)
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, StorageError):
            return seen
        kind = _kind(seen, data_dir)
        if kind:
            return StorageError(problem(kind, data_dir, seen))
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


def problem(kind: str, data_dir: Path, error: BaseException | None = None) -> str:
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


# -- the dialect: what the shared code asks of each back end ------------------------------------------
def keyword_search(db: SqliteDatabase, words: list[str], weights: tuple[float, float, float], limit: int):
    """(chunk id, score) for the chunks matching any of `words`, best first; FTS5's bm25() with the
    title, heading and text weighted: lower is better."""
    title, heading, body = weights
    return [
        (row[0], row[1])
        for row in db.execute(
            f"""SELECT chunks.id, bm25(chunks_fts, {title}, {heading}, {body}) AS rank
            FROM chunks_fts JOIN chunks ON chunks.rowid = chunks_fts.rowid
            WHERE chunks_fts MATCH ? ORDER BY rank LIMIT {int(limit)}""",
            [fts_query(words)],
        )
    ]


def fts_query(words: list[str]) -> str:
    """An FTS5 query: every word quoted, OR-ed (BM25 ranks them)."""
    return " OR ".join(f'"{w}"' for w in words)


def has_word(db: SqliteDatabase, word: str, path: str | None = None, anchor: str | None = None) -> bool:
    """Does the keyword index know `word` (stemmed as it stems), anywhere or in one section?"""
    if path is None:
        sql, args = "SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT 1", [f'"{word}"']
    else:
        sql = (
            "SELECT 1 FROM chunks_fts JOIN chunks ON chunks.rowid = chunks_fts.rowid "
            "WHERE chunks_fts MATCH ? AND chunks.path = ? AND chunks.anchor = ? LIMIT 1"
        )
        args = [f'"{word}"', path, anchor]
    return db.execute(sql, args).fetchone() is not None


def hours_between(later: str, earlier: str) -> str:
    """SQL: the hours from one stored time (ISO 8601 text) to another."""
    return f"(julianday({later}) - julianday({earlier})) * 24.0"


def day_of(column: str) -> str:
    """SQL: the date a stored date or time starts with, or NULL when it is no date."""
    return f"date(substr({column}, 1, 10))"


def before(column: str, mark: str) -> str:
    """SQL: the text of a column before the first `mark` (a one-character literal)."""
    return f"substr({column}, 1, instr({column}, '{mark}') - 1)"


FOR_UPDATE = ""  # a decision's BEGIN IMMEDIATE already holds the write lock


@contextmanager
def sync_lock(db: SqliteDatabase, data_dir: Path) -> Iterator[None]:
    """One knowledge-base sync at a time across the processes of this host: an exclusive lock on
    OSPO_DATA_DIR/sync.lock (made if missing), waited for, dropped by the OS if the process dies.
    Where the file cannot be made (a read-only data dir) the work goes on unlocked: it will fail on
    its own writes, with its own clear error."""
    path = Path(data_dir) / "sync.lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        log.debug("cannot open the lock file %s (%s); going on without it", path, error.strerror)
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
