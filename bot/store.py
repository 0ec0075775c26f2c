"""The bot's database: one interface, two back ends.

- SQLite (bot/storage/sqlite.py), the embedded default: a file in OSPO_DATA_DIR, for one host.
- PostgreSQL (bot/storage/postgres.py) when OSPO_DATABASE_URL is set: for replicas on several hosts.

What every module may call on a database `db` (both back ends have it):

    db.execute(sql, params) -> rows (fetchone, fetchall, iteration, rowcount)
    db.query(sql, params) -> dicts
    db["table"].insert(row).last_pk, .insert_all, .upsert, .upsert_all, .update, .get, .count, .rows
    with db.transaction(): ...   all or nothing; a writer waits for the other writers (BEGIN IMMEDIATE,
                                 or PostgreSQL's row locks)
    with db.writing(): ...       a block of writes, committed when it ends (sqlite3's `with conn:`);
                                 writing(urgent=True) for one Slack waits on (goes first in SQLite's queue)
    db.dialect                   the back end's module, for the few things that differ: keyword_search,
                                 has_word, hours_between, day_of, before, FOR_UPDATE, sync_lock

SQL is written once, in portable SQL with SQLite's parameters (`?`, `:name`): INSERT ... ON CONFLICT,
RETURNING, CASE rather than SQLite's scalar max() or boolean sums. What cannot be written once is a
dialect function, and each back end keeps its own schema migrations, numbered alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.storage import StorageError, sqlite
from bot.storage.sqlite import BUSY_TIMEOUT_MS  # noqa: F401 (shown in messages and tests)

__all__ = ["StorageError", "iso", "now", "transaction", "open_db", "connect", "ThreadLocalDB", "storage_error"]


def iso(moment: datetime) -> str:
    """An aware datetime as stored: ISO 8601 in UTC, to the second (the one format stored everywhere)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def now() -> str:
    """The current time as an ISO 8601 UTC string, the one format stored everywhere."""
    return iso(datetime.now(UTC))


def is_url(target: Any) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def open_db(target: Path | str):
    """The database at `target`: a SQLite file path, or a postgresql:// URL; created and migrated."""
    if is_url(target):
        from bot.storage import postgres  # psycopg only when it is used

        return postgres.open_db(target)
    return sqlite.open_db(target)


class ThreadLocalDB:
    """`.get()` gives this thread's database: for SQLite a connection per thread (sqlite3 connections
    must not cross threads; WAL lets their reads run beside one writer), for PostgreSQL the one pooled
    database every thread shares."""

    def __init__(self, target: Path | str):
        if is_url(target):
            from bot.storage import postgres

            self._backend = postgres.Shared(target)
        else:
            self._backend = sqlite.ThreadLocalDB(target)

    def get(self):
        return self._backend.get()


def connect(settings) -> ThreadLocalDB:
    """The configured database: OSPO_DATABASE_URL, else OSPO_DATA_DIR's SQLite file."""
    return ThreadLocalDB(settings.database)


def transaction(db):
    """One write transaction on db: all of it commits or none of it."""
    return db.transaction()


def storage_error(error: BaseException, data_dir: Path | str, database_url: str | None = None) -> StorageError | None:
    """What a failure of the storage means, said plainly with what to do; None when it is none: the
    data folder's (SQLite's and the embedded Chroma store's), or an unreachable PostgreSQL server."""
    if database_url:
        from bot.storage import postgres

        found = postgres.storage_error(error, database_url)
        if found is not None:
            return found
    return sqlite.storage_error(error, data_dir)


def get_meta(db, key: str, default: str | None = None) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


def set_meta(db, key: str, value: str) -> None:
    db["meta"].upsert({"key": key, "value": value}, pk="key")
