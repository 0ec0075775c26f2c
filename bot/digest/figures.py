"""The digest's figures: what happened in one week, computed by plain SQL over SQLite.

    digest = compute(db, week_of("2026-W47", tz), policy, settings)   # a Digest of figures

"As of" is the end of the week, or now if the week is not over: the pending queue and the SLA are
replayed from the audit trail as they stood then, so an old week's digest is the same whenever it
is computed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlite_utils

from bot.digest.approvals import (
    QueueItem,
    SlaBreach,
    Turnaround,
    UpstreamItem,
    outcomes,
    queue,
    received,
    sla_breaches,
    top_projects,
    turnaround,
    upstream,
)
from bot.digest.questions import ASKED, QuestionGroup, top_questions
from bot.digest.weeks import Week
from bot.store import iso

UNUSED_DAYS = 90  # a document no answer quoted in this many days is "unused"
TOP_QUESTIONS = 5  # groups on the main message (the thread shows more)
OLDEST_SHOWN = 3


@dataclass
class DocumentRef:
    path: str
    title: str
    url: str | None
    updated: str | None
    synced_at: str | None


@dataclass
class Digest:
    week: Week
    as_of: datetime
    # approvals
    received: dict[str, int]  # type -> requests submitted in the week
    outcomes: dict[str, int]  # state -> requests that entered it in the week (auto_approved, approved, ...)
    turnaround: Turnaround
    turnaround_last_week: Turnaround
    queue: list[QueueItem]  # pending and needs_info at as_of, oldest first
    overdue: list[SlaBreach]  # queued requests past an SLA, longest open first
    # help desk
    questions: int
    confident: int
    thumbs_up: int
    thumbs_down: int
    escalations_opened: int
    escalations_resolved: int
    escalations_open: int  # still open at as_of
    top_questions: list[QuestionGroup]  # unanswered or 👎'd, grouped, most asked first
    # knowledge base
    documents: int
    documents_changed: list[DocumentRef]
    documents_unused: list[DocumentRef]
    documents_stale: list[DocumentRef]
    documents_undated: int
    stale_doc_days: int
    # upstream
    top_projects: list[tuple[str, int]]
    clas_signed: list[UpstreamItem]
    releases: list[UpstreamItem]

    @property
    def received_total(self) -> int:
        return sum(self.received.values())

    @property
    def confident_share(self) -> float | None:
        return self.confident / self.questions if self.questions else None

    @property
    def queue_pending(self) -> int:
        return sum(1 for q in self.queue if q.state == "pending")

    @property
    def queue_needs_info(self) -> int:
        return sum(1 for q in self.queue if q.state == "needs_info")

    @property
    def quiet(self) -> bool:
        """Nothing happened this week (a queue carried over from earlier weeks may still wait)."""
        return not (
            self.received
            or any(self.outcomes.values())
            or self.questions
            or self.thumbs_up
            or self.thumbs_down
            or self.escalations_opened
            or self.escalations_resolved
            or self.documents_changed
        )


def compute(
    db: sqlite_utils.Database,
    week: Week,
    policy,
    settings=None,
    *,
    now: datetime | None = None,
    embedder: Callable[[list[str]], Sequence[Sequence[float]]] | None = None,
) -> Digest:
    """Every figure of the digest for `week`. policy: bot.licenses.Policy (its sla); settings: stale_doc_days.
    embedder (optional): texts -> vectors, to group near-duplicate questions by meaning as well."""
    now = now or datetime.now(UTC)
    as_of = min(week.end.astimezone(UTC), now.astimezone(UTC))
    stale_days = int(getattr(settings, "stale_doc_days", 365) or 365)
    s, e = week.bounds
    e = min(e, iso(as_of))  # a week in progress: up to now
    return Digest(
        week=week,
        as_of=as_of,
        received=received(db, s, e),
        outcomes=outcomes(db, s, e),
        turnaround=turnaround(db, week, until=e),
        turnaround_last_week=turnaround(db, week.shift(-1)),
        queue=queue(db, as_of),
        overdue=sla_breaches(db, policy.sla if policy else {}, week.tz, as_of),
        **helpdesk(db, s, e, as_of),
        top_questions=top_questions(db, s, e, embedder=embedder),
        documents=db.execute("SELECT COUNT(*) FROM documents").fetchone()[0],
        documents_changed=documents_changed(db, s, e),
        documents_unused=documents_unused(db, as_of),
        documents_stale=documents_stale(db, as_of.astimezone(ZoneInfo(week.tz)).date(), stale_days),
        documents_undated=db.execute(
            f"SELECT COUNT(*) FROM documents WHERE {db.dialect.day_of('updated')} IS NULL"
        ).fetchone()[0],
        stale_doc_days=stale_days,
        top_projects=top_projects(db, s, e),
        clas_signed=upstream(db, "cla", s, e),
        releases=upstream(db, "release", s, e),
    )


# -- help desk ---------------------------------------------------------------------------


def helpdesk(db, start: str, end: str, as_of: datetime) -> dict[str, int]:
    """Questions asked in the week (evaluation runs excluded), how many answered confidently,
    votes cast in the week, escalations opened / resolved in the week and still open at as_of."""
    asked, confident = db.execute(
        f"SELECT COUNT(*), COALESCE(SUM(confident), 0) FROM questions WHERE {ASKED}", [start, end]
    ).fetchone()
    up, down = db.execute(
        f"SELECT {_count('vote > 0')}, {_count('vote < 0')} FROM feedback WHERE at >= ? AND at < ?",
        [start, end],
    ).fetchone()
    opened, resolved, still_open = db.execute(
        f"SELECT {_count('opened_at >= :s AND opened_at < :e')}, {_count('resolved_at >= :s AND resolved_at < :e')}, "
        f"{_count('opened_at < :a AND (resolved_at IS NULL OR resolved_at >= :a)')} FROM escalations",
        {"s": start, "e": end, "a": iso(as_of)},
    ).fetchone()
    return {
        "questions": asked,
        "confident": confident,
        "thumbs_up": up,
        "thumbs_down": down,
        "escalations_opened": opened,
        "escalations_resolved": resolved,
        "escalations_open": still_open,
    }


def _count(condition: str) -> str:
    """SQL: how many rows meet the condition (portable: SQLite's sum of a comparison is not)."""
    return f"COALESCE(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), 0)"


# -- knowledge base ---------------------------------------------------------------------

_DOC = "SELECT path, title, url, updated, synced_at FROM documents d"


def _docs(db, sql: str, args) -> list[DocumentRef]:
    return [DocumentRef(**r) for r in db.query(sql, args)]


def documents_changed(db, start: str, end: str) -> list[DocumentRef]:
    """Documents added or changed in [start, end): their synced_at (set when a sync wrote them)."""
    return _docs(db, f"{_DOC} WHERE synced_at >= ? AND synced_at < ? ORDER BY path", [start, end])


def documents_unused(db, as_of: datetime, days: int = UNUSED_DAYS) -> list[DocumentRef]:
    """Documents that no answer to a question asked in the `days` before as_of quoted."""
    since = iso(as_of - timedelta(days=days))
    return _docs(
        db,
        f"""{_DOC} WHERE NOT EXISTS (
            SELECT 1 FROM answers a JOIN questions q ON q.id = a.question_id LEFT JOIN chunks c ON c.id = a.chunk_id
            WHERE q.asked_at >= ? AND q.asked_at < ?
              AND COALESCE(c.path, {db.dialect.before("a.chunk_id", "#")}) = d.path
        ) ORDER BY path""",
        [since, iso(as_of)],
    )


def documents_stale(db, today: date, days: int) -> list[DocumentRef]:
    """Documents whose front-matter `updated` date is more than `days` days before today, oldest first."""
    cutoff = (today - timedelta(days=days)).isoformat()
    day = db.dialect.day_of("updated")
    return _docs(db, f"{_DOC} WHERE {day} < ? ORDER BY {day}, path", [cutoff])
