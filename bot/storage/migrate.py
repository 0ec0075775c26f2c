"""`ospo-bot db migrate-to-postgres URL`: an existing SQLite installation copied into PostgreSQL, so
that adopters who move to several replicas keep their history, audit trail included.

Every table of the SQLite database is copied whole, in one PostgreSQL transaction (all or nothing),
into a database migrated to the same schema version; identity counters are moved past the copied ids.
Then it is verified: the row count of every table on both sides, and every approval request's audit
trail replayed on both sides (bot/approvals/audit.py) to the state the request holds. The copy is
refused into a database that already holds any row, so it is never merged into a live one.

Not copied: the SQLite full-text index (PostgreSQL's is a generated column, made as rows arrive), and
APScheduler's jobs (`serve` adds them again; a digest run missed meanwhile is still claimed per week).
Vectors stay in Chroma: run `ospo-bot kb sync` with CHROMA_HOST afterwards, and it re-embeds what the
server lacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.storage import postgres, sqlite

# Parents before children (foreign keys); any other table the SQLite schema has follows.
ORDER = [
    "meta",
    "documents",
    "sections",
    "chunks",
    "questions",
    "answers",
    "feedback",
    "escalations",
    "slack_events",
    "bot_threads",
    "notices",
    "learned",
    "approval_requests",
    "approval_events",
    "approval_messages",
    "digest_runs",
    "reminder_log",
    "claims",
    "learned_phrasings",
]
NOT_COPIED = ("chunks_fts", "apscheduler_jobs", "sqlite_")  # prefixes
BATCH = 1000


class MigrationError(RuntimeError):
    """The copy cannot be made or did not verify; the message says why and what to do."""


@dataclass
class MigrationReport:
    tables: dict[str, tuple[int, int]] = field(default_factory=dict)  # table -> (SQLite rows, PostgreSQL rows)
    requests_replayed: int = 0
    events: int = 0
    mismatches: list[str] = field(default_factory=list)
    learned_bodies: int = 0  # saved answers whose markdown was read from the learned/ folder

    @property
    def ok(self) -> bool:
        return not self.mismatches


def tables_to_copy(source) -> list[str]:
    names = [t for t in source.table_names() if not t.startswith(NOT_COPIED)]
    return [t for t in ORDER if t in names] + sorted(t for t in names if t not in ORDER)


def copy_to_postgres(sqlite_path: Path, learned_dir: Path, url: str) -> MigrationReport:
    """Copy the SQLite database at sqlite_path (and the saved answers' files in learned_dir) into the
    PostgreSQL database at url, then verify the copy."""
    if not Path(sqlite_path).is_file():
        raise MigrationError(
            f"there is no SQLite database at {sqlite_path}: set OSPO_DATA_DIR to the installation's folder"
        )
    source = sqlite.open_db(sqlite_path)  # migrated to the current schema first
    target = postgres.open_db(url)
    if sqlite.schema_version(source) != postgres.schema_version(target):
        raise MigrationError("the two schemas differ in version: upgrade ospo-bot and run the command again")
    tables = tables_to_copy(source)
    missing = [t for t in tables if not target[t].exists()]
    if missing:
        raise MigrationError(f"PostgreSQL has no table {', '.join(missing)}: this ospo-bot does not know them")
    busy = [t for t in tables if t != "meta" and target[t].count]
    if busy:
        raise MigrationError(
            f"the PostgreSQL database {postgres.shown(url)} already holds rows ({', '.join(busy)}): copy into an "
            "empty database (createdb a new one), never into one a bot already uses"
        )
    report = MigrationReport()
    with target.transaction():
        target.execute("DELETE FROM meta")  # what `serve` may have written into the fresh database
        for table in tables:
            _copy(source, target, table, learned_dir, report)
        for table in tables:
            if "id" in _identity_columns(target, table):
                target.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"GREATEST((SELECT MAX(id) FROM {table}), 1), (SELECT MAX(id) FROM {table}) IS NOT NULL)"
                )
    verify(source, target, tables, report)
    return report


def _columns(target, table: str) -> list[str]:
    """The columns a copy writes: PostgreSQL's, less the generated ones (the keyword index)."""
    return [
        r[0]
        for r in target.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? AND is_generated = 'NEVER' ORDER BY ordinal_position",
            [table],
        )
    ]


def _identity_columns(target, table: str) -> set[str]:
    return {
        r[0]
        for r in target.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? AND is_identity = 'YES'",
            [table],
        )
    }


def _copy(source, target, table: str, learned_dir: Path, report: MigrationReport) -> None:
    wanted = _columns(target, table)
    present = [c for c in source[table].columns_dict if c in wanted]
    names = ", ".join(f'"{c}"' for c in present)
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(present))})"
    cursor = source.execute(f"SELECT {names} FROM [{table}]")
    while rows := cursor.fetchmany(BATCH):
        if table == "learned":
            rows = [_with_body(dict(zip(present, row, strict=True)), learned_dir, report) for row in rows]
            rows = [[row[c] for c in present] for row in rows]
        target.executemany(sql, rows)


def _with_body(row: dict, learned_dir: Path, report: MigrationReport) -> dict:
    """A saved answer from before bodies were kept: its markdown from the learned/ folder."""
    if row.get("body") is None and row.get("path"):
        file = Path(learned_dir) / Path(row["path"]).name
        if file.is_file():
            row["body"] = file.read_text(encoding="utf-8")
            report.learned_bodies += 1
    return row


def verify(source, target, tables: list[str], report: MigrationReport) -> None:
    """Counts per table, and every request's audit trail replayed on both sides."""
    from bot.approvals import Approvals
    from bot.licenses import default_policy

    for table in tables:
        counts = (source[table].count, target[table].count)
        report.tables[table] = counts
        if counts[0] != counts[1]:
            report.mismatches.append(f"{table}: {counts[0]} rows in SQLite, {counts[1]} in PostgreSQL")
    if "approval_requests" not in tables:
        return
    policy = default_policy()
    before, after = Approvals(lambda: source, policy), Approvals(lambda: target, policy)
    for request in before.list():
        copied = after.get(request.id)
        events = after.events(request.id)
        report.events += len(events)
        try:
            replayed = (before.replay(request.id), after.replay(request.id))
        except ValueError as error:
            report.mismatches.append(f"{request.ref}: its audit trail does not replay ({error})")
            continue
        if copied is None or {replayed[0], replayed[1], copied.state} != {request.state}:
            report.mismatches.append(
                f"{request.ref}: state {request.state} in SQLite, {copied.state if copied else 'missing'} in "
                f"PostgreSQL, replayed {replayed[0]} / {replayed[1]}"
            )
        if [e.__dict__ for e in events] != [e.__dict__ for e in before.events(request.id)]:
            report.mismatches.append(f"{request.ref}: its audit events differ")
        report.requests_replayed += 1
