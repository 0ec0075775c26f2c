"""The approval requests' figures of a week: received, decided, turnaround, the queue as it stood,
SLA breaches, and the upstream work approved (projects, CLAs, releases)."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.approvals import ref, subject
from bot.digest.weeks import Week, business_days, parse
from bot.store import iso

RESPONSES = ("approved", "rejected", "needs_info")  # what an approver does first: the "first decision"
OUTCOMES = ("auto_approved", "approved", "rejected", "needs_info", "cancelled")
TYPE_ORDER = ("contribute", "release", "cla", "personal", "exception")
# policy.yaml sla key of each type's decision deadline; cla and exception have a first response only.
DECISION_SLA = {
    "contribute": "contribute_decision_business_days",
    "release": "release_decision_business_days",
    "personal": "copyright_release_business_days",
}
FIRST_RESPONSE_SLA = "first_response_business_days"


@dataclass
class Turnaround:
    """Hours from submission to the first approver action (approve, reject or ask for info), for the
    requests whose first action fell in the week. Auto-approved requests are not counted."""

    count: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None


@dataclass
class QueueItem:
    id: int
    ref: str
    type: str
    requester: str
    state: str  # pending (waits on the OSPO) or needs_info (waits on the requester)
    subject: str
    created_at: str
    age_hours: float  # from submission to the digest's "as of"

    @property
    def waiting_on(self) -> str | None:
        """The user id the request waits on, or None for the OSPO approvers."""
        return self.requester if self.state == "needs_info" else None


@dataclass
class SlaBreach:
    id: int
    ref: str
    type: str
    requester: str
    state: str
    subject: str
    business_days: float  # open business days since submission, time in needs_info not counted
    sla: str  # "decision" or "first response": the longest deadline it is past
    limit_days: int
    responded: bool  # has an approver acted on it yet


@dataclass
class UpstreamItem:
    ref: str
    requester: str
    subject: str  # repository, or the proposed project name
    detail: str | None  # the CLA's name, or the proposed license
    decided_at: str


def received(db, start: str, end: str) -> dict[str, int]:
    """Requests submitted in [start, end), by type (types with none are left out)."""
    rows = db.execute(
        "SELECT type, COUNT(*) FROM approval_requests WHERE created_at >= ? AND created_at < ? GROUP BY type",
        [start, end],
    ).fetchall()
    found = dict(rows)
    return {t: found.pop(t) for t in TYPE_ORDER if t in found} | found


def outcomes(db, start: str, end: str) -> dict[str, int]:
    """How many requests entered each state in [start, end), from the audit trail (a request decided,
    reopened and decided again in the week counts once per state)."""
    rows = db.execute(
        "SELECT to_state, COUNT(DISTINCT request_id) FROM approval_events WHERE at >= ? AND at < ? "
        f"AND to_state IN ({', '.join('?' * len(OUTCOMES))}) GROUP BY to_state",
        [start, end, *OUTCOMES],
    ).fetchall()
    found = dict(rows)
    return {state: found.get(state, 0) for state in OUTCOMES}


def turnaround_hours(db, start: str, end: str) -> list[float]:
    """Hours from submission to the first approve / reject / ask-for-info, for the requests that went to
    the OSPO (not auto-approved) and got that first action in [start, end); sorted."""
    rows = db.execute(
        f"""
        WITH first AS (
            SELECT request_id, MIN(at) AS at FROM approval_events
            WHERE to_state IN ({", ".join("?" * len(RESPONSES))}) GROUP BY request_id
        )
        SELECT {db.dialect.hours_between("f.at", "r.created_at")} AS hours
        FROM first f JOIN approval_requests r ON r.id = f.request_id
        WHERE f.at >= ? AND f.at < ? AND EXISTS (
            SELECT 1 FROM approval_events s
            WHERE s.request_id = r.id AND s.from_state = 'submitted' AND s.to_state = 'pending'
        )
        ORDER BY hours
        """,
        [*RESPONSES, start, end],
    ).fetchall()
    return [max(0.0, round(r[0], 4)) for r in rows]  # floating point days or seconds: to a third of a second


def turnaround(db, week: Week, until: str | None = None) -> Turnaround:
    """The week's turnaround to first decision (up to `until`, for a week in progress)."""
    start, end = week.bounds
    hours = turnaround_hours(db, start, min(end, until or end))
    if not hours:
        return Turnaround()
    return Turnaround(len(hours), statistics.median(hours), percentile(hours, 90))


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


_AS_OF_STATE = """
    SELECT r.id, r.type, r.requester, r.created_at, r.repo, r.fields, e.to_state AS state
    FROM approval_requests r
    JOIN approval_events e ON e.id = (
        SELECT MAX(id) FROM approval_events WHERE request_id = r.id AND at < :as_of
    )
    WHERE e.to_state IN ('pending', 'needs_info')
"""


def queue(db, as_of: datetime) -> list[QueueItem]:
    """Requests pending or needing info at as_of (replayed from the audit trail), oldest first."""
    rows = db.query(_AS_OF_STATE + " ORDER BY r.created_at, r.id", {"as_of": iso(as_of)})
    return [
        QueueItem(
            r["id"],
            ref(r["id"]),
            r["type"],
            r["requester"],
            r["state"],
            short_subject(r),
            r["created_at"],
            max(0.0, (as_of - parse(r["created_at"])).total_seconds() / 3600),
        )
        for r in rows
    ]


def sla_breaches(db, sla: dict[str, int], tz: str, as_of: datetime) -> list[SlaBreach]:
    """Requests waiting at as_of that are past policy.yaml's sla. The clock counts business days from
    submission and stops while the request needs info from its requester (how-approvals-work.md).
    First response: every type, until an approver first acts. Decision: contribute, release, personal."""
    rows = list(db.query(_AS_OF_STATE + " ORDER BY r.created_at, r.id", {"as_of": iso(as_of)}))
    if not rows:
        return []
    events: dict[int, list[tuple[str, str]]] = {}
    for r in db.query(
        "SELECT request_id, at, to_state FROM approval_events WHERE at < :as_of AND request_id IN "
        f"(SELECT id FROM ({_AS_OF_STATE}) AS waiting) ORDER BY id",
        {"as_of": iso(as_of)},
    ):
        events.setdefault(r["request_id"], []).append((r["at"], r["to_state"]))
    first = sla.get(FIRST_RESPONSE_SLA)
    found = []
    for r in rows:
        trail = events.get(r["id"], [])
        paused = 0.0
        for (at, state), (until, _) in zip(trail, trail[1:] + [(iso(as_of), "")], strict=True):
            if state == "needs_info":
                paused += business_days(parse(at), parse(until), tz)
        open_days = business_days(parse(r["created_at"]), as_of, tz) - paused
        responded = any(state in RESPONSES for _, state in trail)
        past = []
        if first is not None and not responded and open_days > first:
            past.append(("first response", int(first)))
        decision = sla.get(DECISION_SLA.get(r["type"], ""))
        if decision is not None and open_days > decision:
            past.append(("decision", int(decision)))
        if past:
            name, limit = max(past, key=lambda p: p[1])
            found.append(
                SlaBreach(
                    r["id"],
                    ref(r["id"]),
                    r["type"],
                    r["requester"],
                    r["state"],
                    short_subject(r),
                    round(open_days, 2),
                    name,
                    limit,
                    responded,
                )
            )
    return sorted(found, key=lambda b: (-b.business_days, b.id))


def short_subject(row: dict[str, Any]) -> str:
    """A request row's subject (bot.approvals.subject) without the scheme, cut to 80 characters."""
    text = subject(row.get("repo"), json.loads(row.get("fields") or "{}")).removeprefix("https://")
    return text if len(text) <= 80 else text[:79] + "…"


def top_projects(db, start: str, end: str, limit: int = 5) -> list[tuple[str, int]]:
    """Repositories with the most contribute requests approved or auto-approved in [start, end)."""
    rows = db.execute(
        "SELECT repo, COUNT(*) AS n FROM approval_requests WHERE type = 'contribute' "
        "AND state IN ('approved', 'auto_approved') AND decided_at >= ? AND decided_at < ? AND repo IS NOT NULL "
        "GROUP BY repo ORDER BY n DESC, repo LIMIT ?",
        [start, end, limit],
    ).fetchall()
    return [(repo.removeprefix("https://"), n) for repo, n in rows]


def upstream(db, type: str, start: str, end: str) -> list[UpstreamItem]:
    """cla: CLAs approved for signing; release: projects approved for release; decided in [start, end)."""
    rows = db.query(
        "SELECT * FROM approval_requests WHERE type = ? AND state = 'approved' "
        "AND decided_at >= ? AND decided_at < ? ORDER BY decided_at, id",
        [type, start, end],
    )
    found = []
    for r in rows:
        f = json.loads(r["fields"] or "{}")
        detail = f.get("cla") if type == "cla" else r["license_expression"] or f.get("proposed_license")
        found.append(UpstreamItem(ref(r["id"]), r["requester"], short_subject(r), detail, r["decided_at"]))
    return found
