"""The storage interface and the claims on it, on both back ends (SQLite in a temp dir, a PostgreSQL
database of its own): migrations, the append-only audit trail, and every claim that keeps work from
being done twice (event ids, digest weeks, reminders, outbox and notice leases) under threads racing
for it, plus the lock that keeps two knowledge-base syncs apart, dropped when its holder dies."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import claims
from bot.claims import LEASE
from bot.storage import postgres, sqlite
from bot.store import ThreadLocalDB, open_db
from tests.conftest import wait_until

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
RACERS = 8


@pytest.fixture
def db(database):
    return open_db(database)


def race(database, work) -> list:
    """work(db) in RACERS threads released at once, each with its own connection (SQLite) or the
    shared pool (PostgreSQL); their results."""
    local = ThreadLocalDB(database)
    start = threading.Barrier(RACERS)

    def run(_):
        db = local.get()
        start.wait()
        return work(db)

    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(run, range(RACERS)))


def test_both_back_ends_have_the_same_numbered_migrations():
    assert len(sqlite.MIGRATIONS) == len(postgres.MIGRATIONS) == 14


def test_opening_again_migrates_nothing_more(db, database):
    version = db.dialect.schema_version(db)
    assert version == len(sqlite.MIGRATIONS)
    again = open_db(database)
    assert again.dialect.schema_version(again) == version
    assert {"questions", "approval_requests", "approval_events", "claims", "digest_runs"} <= set(again.table_names())


def test_the_audit_trail_is_append_only_in_the_database(db):
    with db.writing():
        request_id = (
            db["approval_requests"]
            .insert(
                {
                    "type": "contribute",
                    "requester": "U1",
                    "state": "pending",
                    "fields": "{}",
                    "created_at": "t",
                    "updated_at": "t",
                }
            )
            .last_pk
        )
        db["approval_events"].insert(
            {
                "request_id": request_id,
                "actor": "U1",
                "at": "t",
                "from_state": "new",
                "to_state": "pending",
                "extra": "{}",
            }
        )
    for statement in ("UPDATE approval_events SET actor = 'U2'", "DELETE FROM approval_events"):
        with pytest.raises(Exception, match="append-only"), db.writing():
            db.execute(statement)
    assert [r["actor"] for r in db["approval_events"].rows] == ["U1"]


def test_an_event_id_is_claimed_once_among_racing_threads(database):
    won = race(database, lambda db: claims.claim_event(db, "Ev0RACE"))
    assert won.count(True) == 1
    assert claims.claim_event(open_db(database), "Ev0OTHER")


def test_a_reminder_is_claimed_once_per_request_day_and_kind(database):
    won = race(database, lambda db: claims.claim_reminder(db, 7, "2026-11-30", "approver", NOW))
    assert won.count(True) == 1
    db = open_db(database)
    assert claims.claim_reminder(db, 7, "2026-12-01", "approver", NOW)  # the next day
    assert claims.claim_reminder(db, 7, "2026-11-30", "requester", NOW)  # another kind
    assert not claims.claim_reminder(db, 7, "2026-12-01", "approver", NOW)


def test_a_digest_week_is_claimed_once_and_a_dead_run_is_taken_over(database):
    stale = timedelta(minutes=30)
    results = race(database, lambda db: claims.claim_digest_week(db, "2026-W48", NOW, stale, claims.whoami()))
    assert [won for won, _ in results].count(True) == 1
    db = open_db(database)
    assert claims.claim_digest_week(db, "2026-W48", NOW + stale / 2, stale, "other") == (False, None)  # fresh
    with db.writing():  # the winner posted, then died before recording the run as sent
        db.execute("UPDATE digest_runs SET message_ts = '1700.01' WHERE period = '2026-W48'")
    assert claims.claim_digest_week(db, "2026-W48", NOW + 2 * stale, stale, "other") == (True, "1700.01")
    with db.writing():
        db.execute("UPDATE digest_runs SET sent_at = ? WHERE period = '2026-W48'", [NOW.isoformat()])
    assert claims.claim_digest_week(db, "2026-W48", NOW + 10 * stale, stale, "late", late=True)[0] is False


@pytest.mark.parametrize("what", ["outbox", "notice"])
def test_a_lease_is_held_by_one_released_for_the_next_and_taken_over_when_stale(database, what):
    tokens = race(database, lambda db: claims.claim(db, what, 42, now=NOW))
    holder = [t for t in tokens if t]
    assert len(holder) == 1
    db = open_db(database)
    assert claims.claim(db, what, 42, now=NOW + LEASE / 2) is None  # still fresh
    assert claims.claim(db, what, 43, now=NOW)  # another key
    taken = claims.claim(db, what, 42, now=NOW + LEASE + timedelta(seconds=1))  # its holder died
    assert taken and taken != holder[0]
    with db.writing():
        claims.release(db, what, 42, holder[0])  # the dead holder's token releases nothing
    assert claims.claim(db, what, 42, now=NOW + LEASE + timedelta(seconds=2)) is None
    with db.writing():
        claims.release(db, what, 42, taken)
    assert claims.claim(db, what, 42, now=NOW + LEASE + timedelta(seconds=3))


def waiting_for_sync_lock(db, data_dir: Path) -> bool:
    """Is someone blocked on the sync lock? PostgreSQL: an advisory lock not granted; SQLite: a
    blocked flock on sync.lock (Linux's /proc/locks marks waiters with '->')."""
    if db.dialect is postgres:
        row = db.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").fetchone()
        return row[0] > 0
    inode = os.stat(data_dir / "sync.lock").st_ino
    return any("->" in line and line.split()[-3].endswith(f":{inode}") for line in open("/proc/locks"))


def test_two_syncs_never_overlap_and_a_dead_holders_lock_is_dropped(database, tmp_path):
    db = open_db(database)
    target = str(database)
    holder = subprocess.Popen(  # another process (a replica) takes the lock and is killed holding it
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom bot import claims\nfrom bot.store import open_db\n"
            "with claims.one_at_a_time(open_db(sys.argv[1]), sys.argv[2]):\n    print('held', flush=True)\n"
            "    time.sleep(600)\n",
            target,
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[1],
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        entered = threading.Event()

        def second_sync():
            with claims.one_at_a_time(open_db(database), tmp_path):
                entered.set()

        waiter = threading.Thread(target=second_sync, daemon=True)
        waiter.start()
        wait_until(lambda: waiting_for_sync_lock(db, tmp_path), 30, "the second sync to wait for the lock")
        assert not entered.is_set()
        holder.send_signal(signal.SIGKILL)
        assert entered.wait(30), "the lock of a killed holder was not dropped"
        waiter.join(10)
    finally:
        holder.kill()
        holder.wait(10)


# -- `ospo-bot db migrate-to-postgres` on the demo data ---------------------------------------------------
def run(*args: str):
    from click.testing import CliRunner

    from bot.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def aged(digest: str) -> str:
    """A digest with the ages of waiting requests blanked: they grow between the two runs."""
    return re.sub(r"[\d.]+ (d old|business days open)", r"N \1", digest)


def test_migrate_to_postgres_copies_the_demo_installation_and_verifies_it(postgres_server, tmp_path, monkeypatch):
    """A SQLite installation filled by `ospo-bot demo-data` is copied: every table's rows, every
    request's audit trail replaying to its state; the same digest comes out of both; a second copy into
    the now busy database is refused; and the verification catches a copy that differs."""
    from bot.digest import week_of
    from bot.storage.migrate import MigrationReport, tables_to_copy, verify

    monkeypatch.setenv("OSPO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("OSPO_KNOWLEDGE_DIR", raising=False)
    monkeypatch.delenv("OSPO_DATABASE_URL", raising=False)
    assert run("demo-data", "--weeks", "13", "--seed", "5").exit_code == 0
    source = open_db(tmp_path / "data" / "ospo-bot.db")
    requests, events = source["approval_requests"].count, source["approval_events"].count
    url = postgres_server.new_database()
    try:
        copied = run("db", "migrate-to-postgres", url, "--json")
        assert copied.exit_code == 0, copied.output
        report = json.loads(copied.output)
        assert report["ok"] and report["problems"] == []
        assert (report["requests_replayed"], report["events"]) == (requests, events) and requests > 50
        for table in ("questions", "feedback", "approval_requests", "approval_events"):
            assert report["tables"][table]["sqlite"] == report["tables"][table]["postgresql"] > 0, table

        week = week_of(None, "UTC").shift(-1).label
        from_sqlite = run("digest", "--week", week)
        monkeypatch.setenv("OSPO_DATABASE_URL", url)
        from_postgres = run("digest", "--week", week)
        assert from_postgres.exit_code == 0 and "Approvals" in from_postgres.output
        assert aged(from_postgres.output) == aged(from_sqlite.output)  # the same history, the same figures

        target = open_db(url)
        next_id = target["questions"].insert({"question": "after the move", "asked_at": "2026-12-01"}).last_pk
        assert next_id > source.execute("SELECT max(id) FROM questions").fetchone()[0]  # ids go on after the copy
        again = run("db", "migrate-to-postgres", url)
        assert again.exit_code == 1 and "already holds rows" in again.output

        request_id = source.execute("SELECT min(id) FROM approval_requests").fetchone()[0]
        with target.writing():  # the copy differs from the original: one event more
            target.execute(
                "INSERT INTO approval_events (request_id, actor, at, from_state, to_state, extra) "
                "VALUES (?, 'U0X', '2026-12-01', 'pending', 'approved', '{}')",
                [request_id],
            )
        checked = MigrationReport()
        verify(source, target, tables_to_copy(source), checked)
        assert not checked.ok and any("approval_events" in problem for problem in checked.mismatches)
    finally:
        postgres_server.drop_database(url)


def test_a_vote_and_a_persons_recent_questions_are_found_by_index(db):
    """feedback and questions grow with every question: the lookups a vote and `/ospo status` make
    must not scan them (migration 14)."""
    lookups = [
        "SELECT id FROM feedback WHERE question_id = 7 AND user = 'U1'",
        "SELECT question, confident FROM questions WHERE user = 'U1' ORDER BY id DESC LIMIT 10",
    ]
    if db.dialect.SHARED:  # PostgreSQL: forbid what it would pick for a table this small
        with db.transaction():
            db.execute("SET LOCAL enable_seqscan = off")
            plans = [str(db.execute("EXPLAIN " + sql.replace("user", '"user"')).fetchall()) for sql in lookups]
        assert all("Index" in plan and "Seq Scan" not in plan for plan in plans), plans
    else:
        plans = [str(db.execute("EXPLAIN QUERY PLAN " + sql).fetchall()) for sql in lookups]
        assert all("SEARCH" in plan and "INDEX" in plan and "SCAN " not in plan for plan in plans), plans


# -- whose turn it is to write (SQLite, one process) -------------------------------------------------
def queue_writers(lock: sqlite.WriterLock, *writers: tuple[str, bool]) -> tuple[list[str], list[threading.Thread]]:
    """Start each (name, urgent) writer in turn, each once the one before waits; each notes its name
    when it gets its turn. The caller holds the turn meanwhile."""
    order: list[str] = []

    def write(name: str, urgent: bool) -> None:
        lock.acquire(urgent=urgent)
        order.append(name)
        lock.release()

    threads = []
    for n, (name, urgent) in enumerate(writers, start=1):
        threads.append(threading.Thread(target=write, args=(name, urgent)))
        threads[-1].start()
        wait_until(lambda n=n: lock.waiting == n, 30, f"{n} writers waiting")
    return order, threads


def test_an_urgent_writer_goes_before_the_writers_already_waiting():
    """An event's claim (Slack waits for its ack) must not queue behind a crowd of answers."""
    lock = sqlite.WriterLock()
    lock.acquire()
    order, threads = queue_writers(lock, ("answer 1", False), ("answer 2", False), ("claim 1", True), ("claim 2", True))
    lock.release()
    for thread in threads:
        thread.join(30)
    assert order[:2] in (["claim 1", "claim 2"], ["claim 2", "claim 1"])
    assert sorted(order[2:]) == ["answer 1", "answer 2"] and lock.waiting == 0


def test_a_writer_turn_is_reentrant_and_only_its_holder_can_end_it():
    lock = sqlite.WriterLock()
    with lock, lock.first(), lock:  # a write block inside another, as sqlite-utils calls nest
        order, threads = queue_writers(lock, ("other", False))
    threads[0].join(30)
    assert order == ["other"]
    lock.acquire()
    with pytest.raises(RuntimeError, match="does not hold"):
        ThreadPoolExecutor(1).submit(lock.release).result(30)
    lock.release()


def test_urgent_writing_commits_like_any_other(tmp_path):
    db = open_db(tmp_path / "ospo.db")
    assert claims.claim_event(db, "Ev1") and not claims.claim_event(db, "Ev1")
    with db.writing(urgent=True):
        db.execute("INSERT INTO slack_events (event_id, received_at) VALUES ('Ev2', '2026-11-30T00:00:00+00:00')")
    assert open_db(tmp_path / "ospo.db").execute("SELECT count(*) FROM slack_events").fetchone()[0] == 2


def test_a_sqlite_connection_keeps_a_small_page_cache(tmp_path):
    """The server keeps a connection or two per thread; at SQLite's default each slowly grew to 2 MB."""
    db = open_db(tmp_path / "ospo.db")
    assert db.execute("PRAGMA cache_size").fetchone()[0] == -sqlite.CACHE_KIB


def test_postgresql_connections_notice_a_host_that_is_gone(postgres_server):
    """A dead node or a failover that moves the address closes no connection: libpq's timeouts and
    keepalives end them within a minute (else the kernel retransmits for ~15), on the pool's
    connections and the scheduler's (the sync lock's takes the same conninfo). A setting in the URL wins."""
    url = postgres_server.new_database()
    try:
        db = postgres.open_db(url)
        with db.pool.connection() as conn:
            pooled = conn.info.get_parameters()
        for name, value in postgres.NETWORK_TIMEOUTS.items():
            assert pooled[name] == value
        import sqlalchemy

        engine = sqlalchemy.create_engine(postgres.job_store_url(url))
        with engine.connect() as scheduler_connection:
            assert (
                scheduler_connection.connection.driver_connection.info.get_parameters()["tcp_user_timeout"] == "30000"
            )
        engine.dispose()
    finally:
        postgres.close(url)
        postgres_server.drop_database(url)

    own = postgres.with_network_timeouts(
        "postgresql://ospo:p%40ss@db.internal:5432/ospo?sslmode=require&connect_timeout=3"
    )
    assert own.startswith("postgresql://ospo:p%40ss@db.internal:5432/ospo?sslmode=require&connect_timeout=3&")
    assert own.count("connect_timeout") == 1 and "tcp_user_timeout=30000" in own
    from psycopg.conninfo import conninfo_to_dict

    spaced = "postgresql://ospo@db/ospo?options=-c%20statement_timeout%3D5000&application_name=ospo%20bot"
    read = conninfo_to_dict(postgres.with_network_timeouts(spaced))  # as libpq reads it
    assert read["options"] == "-c statement_timeout=5000" and read["application_name"] == "ospo bot"
    assert read["keepalives_idle"] == "30"
