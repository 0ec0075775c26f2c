"""The shared back end: PostgreSQL through psycopg 3 and its connection pool (OSPO_DATABASE_URL).

Everything PostgreSQL-specific lives here, beside its SQLite twin bot/storage/sqlite.py: the schema
and its migrations (a `schema_migrations` table), transactions, what its errors mean, keyword search
(full-text search with BM25's idf over ts_rank), date arithmetic for the digest, and the sync lock (an
advisory lock, so it holds across hosts). bot/store.py is the interface both implement.

The shared code writes SQL once, in SQLite's spelling (`?` and `:name` parameters); `translate`
turns it into psycopg's (`%s`, `%(name)s`) and quotes the one column name PostgreSQL reserves
(`user`, which would otherwise mean CURRENT_USER). Every statement outside a transaction runs on a
pooled connection in autocommit mode; `transaction()` binds one connection to the thread until it
commits. Integers are INTEGER (BIGINT for ids) and times ISO 8601 text, as in SQLite, so that every
comparison, sum and row reads back the same on both.

Migrations: add one at the end of MIGRATIONS here and its twin at the end of sqlite.py's; never edit
one that has shipped (tests/test_storage.py checks the two lists have the same length).
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import psycopg_pool
from psycopg import sql as pgsql

from bot.storage import StorageError

log = logging.getLogger(__name__)

NAME = "postgresql"
SHARED = True  # several hosts: what one host writes to its OSPO_DATA_DIR the others do not see
POOL_MAX = 16  # connections per process: the Slack server's threads, housekeeping, the scheduler
WAIT_SECONDS = 15.0  # how long a request waits for a connection (PostgreSQL restarting) before it fails
SYNC_LOCK = "ospo-bot:kb-sync"  # the advisory lock's name (hashed to its key)
SYNC_APPLICATION = "ospo-bot kb sync"  # its connection's application_name, followed by pid@host
TS_CONFIG = "ospo_english"  # FTS5's porter tokenizer, as PostgreSQL: English stems, no stop words
# libpq settings that let a replica notice a PostgreSQL host gone without closing its connections (a
# dead node, a failover that moves the address, a partition). Without them a query on such a
# connection waits until the kernel gives up retransmitting (~15 min), the pool's connection check
# with it, and connecting to an address nobody answers takes minutes. A setting the URL names wins.
NETWORK_TIMEOUTS = {
    "connect_timeout": "10",  # seconds
    "tcp_user_timeout": "30000",  # ms: data sent and not acknowledged this long ends the connection
    "keepalives": "1",  # an idle connection to a host that is gone ends after 30 + 3 x 10 s
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
}


# -- SQL in SQLite's spelling -> psycopg's ----------------------------------------------------------
_TOKENS = re.compile(r"""('(?:[^']|'')*')|("(?:[^"]|"")*")|(::)|(\?)|:([A-Za-z_]\w*)|(%)|(?<![\w.])(user)(?!\w)""")


@functools.lru_cache(maxsize=1024)
def translate(sql: str, with_params: bool = True) -> str:
    """`?` -> %s, `:name` -> %(name)s, % -> %% (only when parameters are passed: without them psycopg
    reads the text as it is), a bare `user` -> "user"; string literals and quoted names are left alone,
    and so are PostgreSQL's `::` casts."""

    def replace(match: re.Match) -> str:
        literal, quoted, cast, mark, name, percent, user = match.groups()
        if literal or quoted or cast:
            return match.group(0)
        if mark:
            return "%s"
        if name:
            return f"%({name})s"
        if percent:
            return "%%" if with_params else "%"
        return '"user"'

    return _TOKENS.sub(replace, sql)


def _value(value: Any) -> Any:
    """As sqlite-utils stores it: booleans as 0/1, lists and dicts as JSON text."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list | dict | tuple):
        return json.dumps(value)
    return value


def _params(params: Any) -> Any:
    if params is None:
        return None
    if isinstance(params, dict):
        return {k: _value(v) for k, v in params.items()}
    return [_value(v) for v in params]


class Result:
    """A statement's rows, fetched at once (its connection goes back to the pool): enough of a
    sqlite3 cursor for the shared code (fetchone, fetchall, iteration, rowcount)."""

    def __init__(self, rows: list[tuple], rowcount: int, columns: list[str]):
        self.rows, self.rowcount, self.columns = rows, rowcount, columns
        self._next = 0
        self.lastrowid = None  # PostgreSQL has none: INSERT ... RETURNING id

    def fetchone(self) -> tuple | None:
        if self._next >= len(self.rows):
            return None
        self._next += 1
        return self.rows[self._next - 1]

    def fetchall(self) -> list[tuple]:
        rest, self._next = self.rows[self._next :], len(self.rows)
        return rest

    def __iter__(self) -> Iterator[tuple]:
        return iter(self.fetchall())


class PostgresDatabase:
    """One per process and URL, shared by every thread (the pool is thread-safe)."""

    def __init__(self, url: str):
        self.url = url
        self.conninfo = with_network_timeouts(url)
        self.pool = psycopg_pool.ConnectionPool(
            self.conninfo,
            min_size=1,
            max_size=POOL_MAX,
            kwargs={"autocommit": True},
            check=psycopg_pool.ConnectionPool.check_connection,  # a connection PostgreSQL dropped is replaced
            timeout=WAIT_SECONDS,
            name="ospo-bot",
            open=False,
        )
        self._local = threading.local()
        self._tables: dict[str, Table] = {}

    @property
    def dialect(self):
        import bot.storage.postgres as dialect

        return dialect

    def open(self) -> PostgresDatabase:
        self.pool.open(wait=True, timeout=WAIT_SECONDS)
        return self

    def close(self) -> None:
        self.pool.close()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        bound = getattr(self._local, "conn", None)
        if bound is not None:
            yield bound
            return
        with self.pool.connection() as conn:
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[PostgresDatabase]:
        """One transaction on one connection, bound to this thread until it ends; nested, a savepoint."""
        bound = getattr(self._local, "conn", None)
        if bound is not None:
            with bound.transaction():
                yield self
            return
        with self.pool.connection() as conn:
            self._local.conn = conn
            try:
                with conn.transaction():
                    yield self
            finally:
                self._local.conn = None

    def writing(self, urgent: bool = False):
        """SQLite's block of writes (`with conn:`) is one transaction here; urgent means nothing:
        writers wait only for the rows they touch."""
        return self.transaction()

    def execute(self, sql: str, params: Any = None) -> Result:
        with self._connection() as conn:
            cursor = conn.execute(translate(sql, params is not None), _params(params), prepare=False)
            columns = [c.name for c in cursor.description] if cursor.description else []
            rows = cursor.fetchall() if cursor.description else []
            return Result(rows, cursor.rowcount, columns)

    def executemany(self, sql: str, rows: Iterable[Any]) -> None:
        with self._connection() as conn, conn.cursor() as cursor:
            cursor.executemany(translate(sql), [_params(r) for r in rows])

    def query(self, sql: str, params: Any = None) -> Iterator[dict]:
        result = self.execute(sql, params)
        return (dict(zip(result.columns, row, strict=True)) for row in result.rows)

    def __getitem__(self, name: str) -> Table:
        if name not in self._tables:
            self._tables[name] = Table(self, name)
        return self._tables[name]

    def table_names(self) -> list[str]:
        return [r[0] for r in self.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]

    @property
    def conn(self):
        raise AttributeError("a PostgreSQL database has no single connection: use db.writing() or db.transaction()")


class Table:
    """The part of sqlite-utils' Table API the bot uses, in portable SQL (ON CONFLICT, RETURNING)."""

    def __init__(self, db: PostgresDatabase, name: str):
        self.db, self.name = db, name
        self.last_pk: Any = None

    @functools.cached_property
    def pks(self) -> list[str]:
        rows = self.db.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = ?::regclass AND i.indisprimary ORDER BY a.attnum",
            [self.name],
        )
        return [r[0] for r in rows]

    def exists(self) -> bool:
        return self.db.execute("SELECT to_regclass(?) IS NOT NULL", [self.name]).fetchone()[0]

    @property
    def count(self) -> int:
        return self.count_where()

    def count_where(self, where: str | None = None, args: Any = None) -> int:
        sql = f"SELECT COUNT(*) FROM {_name(self.name)}" + (f" WHERE {where}" if where else "")
        return self.db.execute(sql, args).fetchone()[0]

    @property
    def rows(self) -> Iterator[dict]:
        return self.rows_where()

    def rows_where(self, where: str | None = None, args: Any = None) -> Iterator[dict]:
        return self.db.query(f"SELECT * FROM {_name(self.name)}" + (f" WHERE {where}" if where else ""), args)

    def get(self, pk: Any) -> dict:
        values = pk if isinstance(pk, list | tuple) else [pk]
        where = " AND ".join(f"{_name(k)} = ?" for k in self.pks)
        found = list(self.rows_where(where, list(values)))
        if not found:
            raise NotFoundError(f"{self.name}: no row {pk!r}")
        return found[0]

    def _insert_sql(self, columns: list[str], pk: str | list[str] | None = None, upsert: bool = False) -> str:
        names = ", ".join(_name(c) for c in columns)
        sql = f"INSERT INTO {_name(self.name)} ({names}) VALUES ({', '.join('?' * len(columns))})"
        if upsert:
            keys = [pk] if isinstance(pk, str) else list(pk or self.pks)
            rest = [c for c in columns if c not in keys]
            conflict = ", ".join(_name(k) for k in keys)
            if rest:
                sets = ", ".join(f"{_name(c)} = excluded.{_name(c)}" for c in rest)
                sql += f" ON CONFLICT ({conflict}) DO UPDATE SET {sets}"
            else:
                sql += f" ON CONFLICT ({conflict}) DO NOTHING"
        return sql

    def insert(self, row: dict, pk: str | None = None) -> Table:
        columns = list(row)
        returning = self.pks[0] if len(self.pks) == 1 else None
        sql = self._insert_sql(columns) + (f" RETURNING {_name(returning)}" if returning else "")
        found = self.db.execute(sql, list(row.values())).fetchone()
        self.last_pk = found[0] if found else None
        return self

    def insert_all(self, rows: Iterable[dict], pk: str | None = None) -> Table:
        return self._many(rows, upsert=False, pk=pk)

    def upsert(self, row: dict, pk: str | list[str] | None = None) -> Table:
        self.db.execute(self._insert_sql(list(row), pk, upsert=True), list(row.values()))
        return self

    def upsert_all(self, rows: Iterable[dict], pk: str | list[str] | None = None) -> Table:
        return self._many(rows, upsert=True, pk=pk)

    def _many(self, rows: Iterable[dict], upsert: bool, pk) -> Table:
        batches: dict[tuple, list] = {}
        for row in rows:
            batches.setdefault(tuple(row), []).append(list(row.values()))
        for columns, values in batches.items():
            self.db.executemany(self._insert_sql(list(columns), pk, upsert), values)
        return self

    def update(self, pk: Any, updates: dict) -> Table:
        values = pk if isinstance(pk, list | tuple) else [pk]
        sets = ", ".join(f"{_name(c)} = ?" for c in updates)
        where = " AND ".join(f"{_name(k)} = ?" for k in self.pks)
        self.db.execute(f"UPDATE {_name(self.name)} SET {sets} WHERE {where}", [*updates.values(), *values])
        return self


class NotFoundError(KeyError):
    """Table.get found no row (sqlite-utils raises its own NotFoundError)."""


def _name(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


# -- the schema --------------------------------------------------------------------------------------
# Each entry is the twin of sqlite.py's migration of the same number.
MIGRATIONS: list[str] = [
    # 1 knowledge: documents, chunks, and the keyword index (a generated tsvector: title, heading, text)
    f"""
    CREATE TEXT SEARCH DICTIONARY ospo_english_stem (TEMPLATE = snowball, Language = english);
    CREATE TEXT SEARCH CONFIGURATION {TS_CONFIG} (COPY = simple);
    ALTER TEXT SEARCH CONFIGURATION {TS_CONFIG}
        ALTER MAPPING FOR asciiword, word, numword WITH ospo_english_stem;
    CREATE FUNCTION ospo_words(value text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT regexp_replace(lower(coalesce(value, '')), '[^[:alnum:]]+', ' ', 'g') $$;
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
    CREATE TABLE documents (
        path TEXT PRIMARY KEY, title TEXT, tags TEXT, owner TEXT, updated TEXT, url TEXT,
        file_hash TEXT, synced_at TEXT
    );
    CREATE TABLE chunks (
        id TEXT PRIMARY KEY, path TEXT REFERENCES documents (path), ordinal INTEGER, title TEXT,
        heading TEXT, anchor TEXT, text TEXT, content_hash TEXT,
        search tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('{TS_CONFIG}', ospo_words(title)), 'A')
            || setweight(to_tsvector('{TS_CONFIG}', ospo_words(heading)), 'B')
            || setweight(to_tsvector('{TS_CONFIG}', ospo_words(text)), 'C')
        ) STORED
    );
    CREATE INDEX idx_chunks_path ON chunks (path);
    CREATE INDEX idx_chunks_search ON chunks USING gin (search);
    """,
    # 2 questions
    """
    CREATE TABLE questions (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, asked_at TEXT, "user" TEXT, channel TEXT,
        question TEXT, confident INTEGER, top_score DOUBLE PRECISION, top_path TEXT, source TEXT
    );
    CREATE INDEX idx_questions_asked_at ON questions (asked_at);
    """,
    # 3 the help desk
    """
    CREATE TABLE answers (
        question_id BIGINT PRIMARY KEY REFERENCES questions (id), chunk_id TEXT, content_hash TEXT,
        channel TEXT, ts TEXT
    );
    CREATE INDEX idx_answers_chunk_id ON answers (chunk_id);
    CREATE TABLE feedback (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, question_id BIGINT REFERENCES questions (id),
        "user" TEXT, vote INTEGER, reason TEXT, at TEXT
    );
    CREATE TABLE escalations (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, question_id BIGINT REFERENCES questions (id),
        asker TEXT, channel TEXT, thread_ts TEXT, triage_channel TEXT, triage_ts TEXT, state TEXT,
        opened_at TEXT, answer TEXT, answered_by TEXT, resolved_at TEXT, resolved_by TEXT
    );
    CREATE UNIQUE INDEX idx_escalations_question_id ON escalations (question_id);
    CREATE INDEX idx_escalations_triage ON escalations (triage_channel, triage_ts);
    CREATE TABLE slack_events (event_id TEXT PRIMARY KEY, received_at TEXT);
    CREATE TABLE bot_threads (channel TEXT, thread_ts TEXT, at TEXT, PRIMARY KEY (channel, thread_ts));
    CREATE TABLE notices (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "user" TEXT, question_id BIGINT,
        chunk_id TEXT, kind TEXT, new_text TEXT, created_at TEXT, sent_at TEXT
    );
    CREATE INDEX idx_notices ON notices ("user", chunk_id, kind, sent_at);
    CREATE TABLE learned (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, escalation_id BIGINT, path TEXT,
        question TEXT, answer TEXT, answered_by TEXT, created_at TEXT
    );
    """,
    # 4 approvals, and their audit trail: append-only, enforced by the database
    """
    CREATE TABLE approval_requests (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, type TEXT NOT NULL, requester TEXT NOT NULL,
        state TEXT NOT NULL, fields TEXT NOT NULL, repo TEXT, license_expression TEXT, license_category TEXT,
        auto_reasons TEXT, flags TEXT, precedent TEXT, blanket INTEGER NOT NULL DEFAULT 0, blanket_until TEXT,
        decided_by TEXT, decided_at TEXT, reason TEXT, conditions TEXT, created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX idx_approval_requests_state ON approval_requests (state, created_at);
    CREATE INDEX idx_approval_requests_requester ON approval_requests (requester);
    CREATE INDEX idx_approval_requests_repo ON approval_requests (repo);
    CREATE TABLE approval_events (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        request_id BIGINT NOT NULL REFERENCES approval_requests (id), actor TEXT NOT NULL, at TEXT NOT NULL,
        from_state TEXT NOT NULL, to_state TEXT NOT NULL, reason TEXT, extra TEXT NOT NULL
    );
    CREATE INDEX idx_approval_events_request_id ON approval_events (request_id);
    CREATE FUNCTION approval_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'approval_events is append-only'; END $$;
    CREATE TRIGGER approval_events_no_update BEFORE UPDATE ON approval_events
        FOR EACH ROW EXECUTE FUNCTION approval_events_append_only();
    CREATE TRIGGER approval_events_no_delete BEFORE DELETE ON approval_events
        FOR EACH ROW EXECUTE FUNCTION approval_events_append_only();
    CREATE TRIGGER approval_events_no_truncate BEFORE TRUNCATE ON approval_events
        FOR EACH STATEMENT EXECUTE FUNCTION approval_events_append_only();
    """,
    # 5 where each request was posted for approvers
    "CREATE TABLE approval_messages (request_id BIGINT PRIMARY KEY, channel TEXT, ts TEXT);",
    # 6 the weekly digest's claims, and the reminders sent
    """
    CREATE TABLE digest_runs (
        period TEXT PRIMARY KEY, claimed_at TEXT NOT NULL, claimed_by TEXT NOT NULL, sent_at TEXT,
        late INTEGER NOT NULL DEFAULT 0, message_ts TEXT
    );
    CREATE TABLE reminder_log (
        request_id BIGINT, day TEXT, kind TEXT, sent_at TEXT, PRIMARY KEY (request_id, day, kind)
    );
    """,
    # 7 leases on work several replicas may try at once
    """
    CREATE TABLE claims (
        what TEXT, key TEXT, claimed_by TEXT NOT NULL, claimed_at TEXT NOT NULL, PRIMARY KEY (what, key)
    );
    """,
    # 8 sections, and chunks as pieces of them
    """
    CREATE TABLE sections (
        id TEXT PRIMARY KEY, path TEXT REFERENCES documents (path), anchor TEXT, ordinal INTEGER,
        title TEXT, heading TEXT, text TEXT
    );
    CREATE INDEX idx_sections_path ON sections (path);
    ALTER TABLE chunks ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';
    ALTER TABLE chunks ADD COLUMN span_start INTEGER;
    ALTER TABLE chunks ADD COLUMN span_end INTEGER;
    """,
    # 9 phrasings learned from use
    """
    CREATE TABLE learned_phrasings (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, section_id TEXT NOT NULL, phrasing TEXT NOT NULL,
        question_id BIGINT, "user" TEXT, at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX idx_learned_phrasings ON learned_phrasings (section_id, phrasing);
    CREATE INDEX idx_learned_phrasings_question_id ON learned_phrasings (question_id);
    """,
    # 10 the markdown of each answer saved from Slack: every host writes it into its own learned/ folder
    "ALTER TABLE learned ADD COLUMN body TEXT;",
    # 11 threads of Slack's assistant pane
    """
    CREATE TABLE assistant_threads (
        channel TEXT, thread_ts TEXT, "user" TEXT, context TEXT, started_at TEXT NOT NULL,
        titled INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (channel, thread_ts)
    );
    """,
    # 12 where a request was shown besides the approvals channel (cards and unfurls)
    """
    CREATE TABLE request_shown (
        request_id BIGINT, channel TEXT, ts TEXT, thread_ts TEXT, kind TEXT NOT NULL, url TEXT,
        at TEXT NOT NULL, PRIMARY KEY (request_id, channel, ts)
    );
    CREATE INDEX idx_request_shown_thread ON request_shown (channel, thread_ts);
    """,
    # 13 Workflow Builder steps waiting for a request's decision
    """
    CREATE TABLE workflow_steps (
        execution TEXT PRIMARY KEY, request_id BIGINT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
        outcome TEXT
    );
    CREATE INDEX idx_workflow_steps_request_id ON workflow_steps (request_id);
    """,
    # 14 a vote's earlier vote and a person's recent questions found by index, not by scanning
    """
    CREATE INDEX idx_feedback_question_id_user ON feedback (question_id, "user");
    CREATE INDEX idx_questions_user ON questions ("user", id);
    """,
]

# Helpers the dialect's SQL uses; created with the schema table, outside the numbered migrations.
_SETUP = """
CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
"""


def migrate(db: PostgresDatabase) -> int:
    """Apply every migration the database has not seen, each in one transaction with its version
    row; an advisory lock keeps replicas starting together from applying one twice."""
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(hashtext('ospo-bot:migrate'))")
        db.execute(_SETUP)
        done = {r[0] for r in db.execute("SELECT version FROM schema_migrations")}
        for number, migration in enumerate(MIGRATIONS, start=1):
            if number in done:
                continue
            db.execute(migration)
            db.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?, now()::text)", [number])
    return len(MIGRATIONS)


def schema_version(db: PostgresDatabase) -> int:
    return db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]


_OPEN: dict[str, PostgresDatabase] = {}
_OPEN_LOCK = threading.Lock()


def open_db(url: str) -> PostgresDatabase:
    """The process's database for this URL (one pool each), opened and migrated on first use. A
    server that cannot be reached fails here with a StorageError that says what to do."""
    with _OPEN_LOCK:
        db = _OPEN.get(url)
        if db is None:
            db = PostgresDatabase(url)
            try:
                db.open()
                migrate(db)
            except (psycopg.Error, psycopg_pool.PoolTimeout) as error:
                db.close()
                raise StorageError(problem(url, error)) from error
            _OPEN[url] = db
    return db


def close(url: str) -> None:
    """Close the pool of one URL (a test's database, before it is dropped)."""
    with _OPEN_LOCK:
        db = _OPEN.pop(url, None)
    if db is not None:
        db.close()


def close_all() -> None:
    """Close every pool this process opened (tests, and a clean exit)."""
    with _OPEN_LOCK:
        for db in _OPEN.values():
            db.close()
        _OPEN.clear()


class Shared:
    """bot/store.py's `.get()` for this back end: every thread shares the one pooled database."""

    def __init__(self, url: str):
        self.url = url
        self.db = open_db(url)

    def get(self) -> PostgresDatabase:
        return self.db


# -- what a failure means ------------------------------------------------------------------------------
def shown(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = (f"{parts.username}@" if parts.username else "") + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def problem(url: str, error: BaseException) -> str:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return (
        f"cannot reach the PostgreSQL database {shown(url)} (OSPO_DATABASE_URL): {first}. Check that the server "
        "is running and the URL, user and password are right; requests wait for it up to "
        f"{WAIT_SECONDS:.0f} s and then fail, and nothing is lost."
    )


def storage_error(error: BaseException, url: str) -> StorageError | None:
    """A StorageError for a database that is down or unreachable (the pool timed out, the connection
    broke), else None."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, StorageError):
            return seen
        if isinstance(seen, psycopg_pool.PoolTimeout | psycopg.OperationalError):
            return StorageError(problem(url, seen))
        seen = seen.__cause__ or seen.__context__
    return None


# -- the dialect: what the shared code asks of each back end ----------------------------------------
def keyword_search(db: PostgresDatabase, words: list[str], weights: tuple[float, float, float], limit: int):
    """(chunk id, score) for the chunks matching any of `words`, best first, lower is better (as
    SQLite's bm25()): minus the sum over the words of BM25's idf times ts_rank with the title,
    heading and text weighted as given (ts_rank's length normalisation 1: 1 + log of the length)."""
    title, heading, body = weights
    rank_weights = f"{{0, {body / title}, {heading / title}, 1}}"  # {D, C, B, A}: A = title
    rows = db.execute(
        f"""
        WITH q AS (
            SELECT word, to_tsquery('{TS_CONFIG}', word) AS query FROM unnest(string_to_array(?, ' ')) AS word
        ), n AS (SELECT COUNT(*) AS total FROM chunks), idf AS (
            SELECT q.query, ln(1 + (n.total - d.df + 0.5) / (d.df + 0.5)) AS idf
            FROM q CROSS JOIN n CROSS JOIN LATERAL (SELECT COUNT(*) AS df FROM chunks WHERE search @@ q.query) d
            WHERE d.df > 0
        )
        SELECT c.id, -SUM(idf.idf * ts_rank('{rank_weights}'::float4[], c.search, idf.query, 1))::float8 AS score
        FROM chunks c JOIN idf ON c.search @@ idf.query
        GROUP BY c.id ORDER BY score, c.id LIMIT {int(limit)}
        """,
        [" ".join(words)],  # content words: letters and digits only
    )
    return [(row[0], row[1]) for row in rows]


def has_word(db: PostgresDatabase, word: str, path: str | None = None, anchor: str | None = None) -> bool:
    """Does the keyword index know `word` (stemmed as it stems), anywhere or in one section?"""
    sql = f"SELECT 1 FROM chunks WHERE search @@ to_tsquery('{TS_CONFIG}', ?)"
    args = [word]
    if path is not None:
        sql += " AND path = ? AND anchor = ?"
        args += [path, anchor]
    return db.execute(sql + " LIMIT 1", args).fetchone() is not None


def hours_between(later: str, earlier: str) -> str:
    """SQL: the hours from one stored time (ISO 8601 text) to another."""
    return f"(EXTRACT(EPOCH FROM ({later})::timestamptz - ({earlier})::timestamptz) / 3600.0)::float8"


def day_of(column: str) -> str:
    """SQL: the date a stored date or time starts with, or NULL when it is no date (as SQLite's date())."""
    return (
        f"(CASE WHEN substr({column}, 1, 10) ~ '^\\d{{4}}-\\d{{2}}-\\d{{2}}$' "
        f"THEN to_char(to_date(substr({column}, 1, 10), 'YYYY-MM-DD'), 'YYYY-MM-DD') END)"
    )


def before(column: str, mark: str) -> str:
    """SQL: the text of a column before the first `mark` (a one-character literal)."""
    return f"(CASE WHEN strpos({column}, '{mark}') > 0 THEN split_part({column}, '{mark}', 1) ELSE '' END)"


FOR_UPDATE = " FOR UPDATE"  # a decision locks its request's row until it commits


@contextmanager
def sync_lock(db: PostgresDatabase, data_dir: Path) -> Iterator[None]:
    """One knowledge-base sync at a time across every replica on every host: a session advisory lock
    on a connection of its own, waited for; PostgreSQL drops it if the process dies. The connection is
    named after the process (pg_stat_activity.application_name), so an admin sees who syncs or waits."""
    from bot.claims import whoami

    with psycopg.connect(db.conninfo, autocommit=True, application_name=f"{SYNC_APPLICATION} {whoami()}") as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", [SYNC_LOCK])
        try:
            yield
        finally:
            if not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", [SYNC_LOCK])


def job_store_url(url: str) -> str:
    """SQLAlchemy's spelling of the URL, for APScheduler's job store (its psycopg 3 driver)."""
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", with_network_timeouts(url))


def with_network_timeouts(url: str) -> str:
    """The URL with NETWORK_TIMEOUTS added to its query, each unless the URL sets it already. The
    URL's own query is kept as written: re-encoding it would turn a space into `+`, which libpq
    does not read as one (`options=-c%20statement_timeout%3D5000`)."""
    parts = urlsplit(url)
    named = {key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    added = urlencode([(key, value) for key, value in NETWORK_TIMEOUTS.items() if key not in named])
    if not added:
        return url
    return urlunsplit(parts._replace(query=f"{parts.query}&{added}" if parts.query else added))


def with_schema(statement: str, *names: str) -> pgsql.Composed:
    """A statement with identifiers quoted (the migration command's table copies)."""
    return pgsql.SQL(statement).format(*[pgsql.Identifier(n) for n in names])
