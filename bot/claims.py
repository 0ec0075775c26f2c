"""Claims: exactly one process does each piece of work that several may try at once.

Two `ospo-bot serve` processes may share one database (one SQLite file on one host, or PostgreSQL
across hosts), and both run the housekeeping loop: both would post the same outboxed approval
request or send the same policy-change notice. Before such work a process claims it:

    INSERT INTO claims ... ON CONFLICT(what, key) DO UPDATE ... WHERE claims.claimed_at < stale

One statement, the same SQL on both back ends: SQLite runs it under its write lock, PostgreSQL makes
a second writer of the same key wait on the unique index and then re-checks the WHERE against the
winner's row. Exactly one process (or thread) changes the row, and only it does the work.

A claim is a lease: the holder releases it when the work is done or failed (so a later round may try
again); a process that died holding one is taken over after LEASE. Whether the work is done is
recorded where it belongs (approval_messages, notices.sent_at) before or with the release, and
whoever claims next checks that first.

A lease rather than PostgreSQL's `FOR UPDATE SKIP LOCKED`: it works alike on both back ends, holds no
connection or transaction open across a Slack call (with its retries, up to minutes), and survives a
restart of the database; the price is that a replica killed mid-post is taken over after LEASE.

The other claims that keep work from being done twice live here too: `claim_event` (a Slack event
answered once), `claim_reminder` (one reminder per request and day) and `claim_digest_week` (one
digest per week; its row also records the posted message, in digest_runs).

`one_at_a_time(db, data_dir)` is the other kind: a lock for work that must not overlap at all (a
knowledge-base sync), held while it runs and dropped if the process dies: an OS file lock with SQLite
(one host), an advisory lock with PostgreSQL (every host).
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.store import iso, transaction

# Longer than any one attempt can take: a Web API call with its retries (429 Retry-After, 5xx) and
# SLACK_API_TIMEOUT is well under a few minutes. A claim older than this means its holder died.
LEASE = timedelta(minutes=10)


def whoami() -> str:
    """This process, as claims record it: pid@host."""
    return f"{os.getpid()}@{socket.gethostname()}"


def claim(db, what: str, key, now: datetime | None = None, lease: timedelta = LEASE) -> str | None:
    """Claim (what, key): a token to release it with, or None while someone else holds it."""
    now = now or datetime.now(UTC)
    token = f"{whoami()}/{uuid.uuid4().hex[:8]}"  # unique per claim, even per thread
    with db.writing():
        won = db.execute(
            "INSERT INTO claims (what, key, claimed_by, claimed_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(what, key) DO UPDATE SET claimed_by = excluded.claimed_by, claimed_at = excluded.claimed_at "
            "WHERE claims.claimed_at < ?",
            [what, str(key), token, iso(now), iso(now - lease)],
        ).rowcount
    return token if won == 1 else None


def release(db, what: str, key, token: str) -> None:
    """Give a claim up. Does not commit: call it inside `with db.writing():`, with the write that records
    the work, so that the next claimer sees the work done."""
    db.execute("DELETE FROM claims WHERE what = ? AND key = ? AND claimed_by = ?", [what, str(key), token])


def one_at_a_time(db, data_dir: Path):
    """A context manager holding the back end's exclusive lock for work that must never overlap (a
    knowledge-base sync); waits for the holder. SQLite: OSPO_DATA_DIR/sync.lock, an OS file lock
    (this host's processes); PostgreSQL: an advisory lock (every replica on every host)."""
    return db.dialect.sync_lock(db, data_dir)


def claim_event(db, event_id: str, now: datetime | None = None) -> bool:
    """True the first time an event id is seen (Slack resends the same id, to any replica). Urgent:
    the ack that Slack waits for waits for this."""
    with db.writing(urgent=True):
        return (
            db.execute(
                "INSERT INTO slack_events (event_id, received_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                [event_id, iso(now or datetime.now(UTC))],
            ).rowcount
            == 1
        )


def claim_reminder(db, request_id: int, day: str, kind: str, now: datetime) -> bool:
    """True for the first reminder of this kind about this request on this day."""
    with db.writing():
        return (
            db.execute(
                "INSERT INTO reminder_log (request_id, day, kind, sent_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [request_id, day, kind, iso(now)],
            ).rowcount
            == 1
        )


def claim_digest_week(
    db, period: str, now: datetime, stale_after: timedelta, who: str, late: bool = False
) -> tuple[bool, str | None]:
    """(won, message_ts): won when no run holds a fresh claim on the week and it was not sent;
    message_ts is set when a run that died after posting left it (the taker-over must not post again)."""
    with transaction(db):
        won = db.execute(
            "INSERT INTO digest_runs (period, claimed_at, claimed_by, late) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(period) DO UPDATE SET claimed_at = excluded.claimed_at, claimed_by = excluded.claimed_by, "
            "late = CASE WHEN excluded.late > digest_runs.late THEN excluded.late ELSE digest_runs.late END "
            "WHERE digest_runs.sent_at IS NULL AND digest_runs.claimed_at < ?",
            [period, iso(now), who, int(late), iso(now - stale_after)],
        ).rowcount
        ts = db.execute("SELECT message_ts FROM digest_runs WHERE period = ?", [period]).fetchone()[0]
    return won == 1, ts
