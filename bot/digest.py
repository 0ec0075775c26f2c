"""The weekly digest: what happened in one ISO week, as figures computed by plain SQL over SQLite.

Plain Python, nothing here knows Slack (bot/slack/digest_blocks.py renders a Digest as Block Kit):

    week = week_of("2026-W47", "Europe/Berlin")     # or week_of(None, tz): the last complete week
    digest = compute(db, week, policy, settings)    # a Digest dataclass of figures
    print(render_text(digest))
    png = chart_png(db, week, "Europe/Berlin")      # the last 12 weeks, 1200x600 pixels

Every timestamp in the database is an ISO 8601 UTC string (bot.store.now), so a week is the
half-open range [Monday 00:00, next Monday 00:00) in OSPO_TIMEZONE, turned into UTC strings and
compared as text. "As of" is the end of the week, or now if the week is not over: the pending queue
and the SLA are replayed from the audit trail as they stood then, so an old week's digest is the
same whenever it is computed.
"""

from __future__ import annotations

import difflib
import io
import json
import math
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils

from bot.approvals import ref
from bot.store import iso

CHART_SIZE = (1200, 600)  # pixels
CHART_WEEKS = 12
UNUSED_DAYS = 90  # a document no answer quoted in this many days is "unused"
SIMILARITY = 0.8  # difflib ratio of normalised questions at or above which they count as one
EMBED_SIMILARITY = 0.85  # cosine similarity, when an embedder is given
TOP_QUESTIONS = 5  # groups on the main message (the thread shows more)
OLDEST_SHOWN = 3
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
STOPWORDS = frozenset(
    """a an the i im ive id we you my our your me us is are am be been was were do does did can could should
    would will shall may might must to of in on for at by with from about as and or if it its this that these
    those there here what whats which who whos how hows when where wheres why hi hello hey please thanks thank
    any some just so there get got""".split()
)


# --------------------------------------------------------------------------------- weeks


@dataclass(frozen=True)
class Week:
    """One ISO week in a time zone: [start, end), both aware datetimes at local midnight."""

    year: int
    number: int
    tz: str

    @classmethod
    def containing(cls, day: date, tz: str) -> Week:
        year, number, _ = day.isocalendar()
        return cls(year, number, tz)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.monday, time(), ZoneInfo(self.tz))

    @property
    def end(self) -> datetime:
        return datetime.combine(self.monday + timedelta(days=7), time(), ZoneInfo(self.tz))

    @property
    def bounds(self) -> tuple[str, str]:
        """[start, end) as the UTC ISO strings the database stores, for SQL comparisons."""
        return iso(self.start), iso(self.end)

    def shift(self, weeks: int) -> Week:
        return Week.containing(self.monday + timedelta(weeks=weeks), self.tz)

    @property
    def span(self) -> str:
        """'16–22 Nov 2026' (or across months/years as needed)."""
        a, b = self.monday, self.sunday
        if a.year != b.year:
            return f"{a.day} {a:%b %Y} – {b.day} {b:%b %Y}"
        if a.month != b.month:
            return f"{a.day} {a:%b} – {b.day} {b:%b %Y}"
        return f"{a.day}–{b.day} {b:%b %Y}"

    def __str__(self) -> str:
        return self.label


_WEEK = re.compile(r"\s*(\d{4})-?W(\d{1,2})\s*", re.IGNORECASE)


def week_of(value: str | date | datetime | Week | None = None, tz: str | ZoneInfo = "UTC", *, now=None) -> Week:
    """The ISO week of `value` in time zone tz.

    value: "2026-W47" (or 2026W47, 2026-w47), "2026-11-18" or a date / datetime (the week holding it),
    None or "" or "last" (the last complete week before `now`). Raises ValueError for anything else."""
    tz = tz.key if isinstance(tz, ZoneInfo) else str(tz)
    zone = ZoneInfo(tz)
    if isinstance(value, Week):
        return Week(value.year, value.number, tz)
    if isinstance(value, datetime):
        return Week.containing((value.astimezone(zone) if value.tzinfo else value).date(), tz)
    if isinstance(value, date):
        return Week.containing(value, tz)
    text = (value or "").strip()
    if text.lower() in ("", "last"):
        today = (now or datetime.now(UTC)).astimezone(zone).date()
        return Week.containing(today - timedelta(days=7), tz)
    if m := _WEEK.fullmatch(text):
        year, number = int(m[1]), int(m[2])
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError:
            last = date(year, 12, 28).isocalendar()[1]
            raise ValueError(f"{year} has ISO weeks 1 to {last}; {text!r} is not one of them") from None
        return Week(year, number, tz)
    try:
        return Week.containing(date.fromisoformat(text), tz)
    except ValueError:
        raise ValueError(f"{text!r} is not a week; use YYYY-Www, e.g. 2026-W47") from None


def parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def business_days(start: datetime, end: datetime, tz: str | ZoneInfo) -> float:
    """Monday-to-Friday time between two instants, in days, on the local calendar of tz
    (Friday 16:00 to Tuesday 16:00 is 2.0). No public holidays."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    if end <= start:
        return 0.0
    s, e = start.astimezone(zone), end.astimezone(zone)

    def part(day: date, lo: datetime, hi: datetime) -> float:  # the weekday share of one local day
        if day.weekday() >= 5:
            return 0.0
        d0 = datetime.combine(day, time(), zone).astimezone(UTC)
        d1 = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
        lo, hi = max(lo.astimezone(UTC), d0), min(hi.astimezone(UTC), d1)
        return max(0.0, (hi - lo) / (d1 - d0))

    first, last = s.date(), e.date()
    if first == last:
        return part(first, s, e)
    total = part(first, s, e) + part(last, s, e)
    a, b = first + timedelta(days=1), last  # whole days in between: [a, b)
    full, rest = divmod((b - a).days, 7)
    return total + full * 5 + sum(1 for i in range(rest) if (a.weekday() + i) % 7 < 5)


# ------------------------------------------------------------------------------ figures


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
class QuestionGroup:
    """Near-duplicate questions counted once; question_id is the representative (the first asked)."""

    question_id: int
    question: str
    asked: int
    unanswered: int  # how many were not answered confidently
    downvotes: int
    askers: int
    question_ids: list[int] = field(default_factory=list)


@dataclass
class DocumentRef:
    path: str
    title: str
    url: str | None
    updated: str | None
    synced_at: str | None


@dataclass
class UpstreamItem:
    ref: str
    requester: str
    subject: str  # repository, or the proposed project name
    detail: str | None  # the CLA's name, or the proposed license
    decided_at: str


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
            "SELECT COUNT(*) FROM documents WHERE date(substr(updated, 1, 10)) IS NULL"
        ).fetchone()[0],
        stale_doc_days=stale_days,
        top_projects=top_projects(db, s, e),
        clas_signed=upstream(db, "cla", s, e),
        releases=upstream(db, "release", s, e),
    )


# -- approvals -------------------------------------------------------------------------


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
        SELECT (julianday(f.at) - julianday(r.created_at)) * 24.0 AS hours
        FROM first f JOIN approval_requests r ON r.id = f.request_id
        WHERE f.at >= ? AND f.at < ? AND EXISTS (
            SELECT 1 FROM approval_events s
            WHERE s.request_id = r.id AND s.from_state = 'submitted' AND s.to_state = 'pending'
        )
        ORDER BY hours
        """,
        [*RESPONSES, start, end],
    ).fetchall()
    return [max(0.0, round(r[0], 4)) for r in rows]  # julianday's floating point: to a third of a second


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
            subject(r),
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
        f"(SELECT id FROM ({_AS_OF_STATE})) ORDER BY id",
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
                    subject(r),
                    round(open_days, 2),
                    name,
                    limit,
                    responded,
                )
            )
    return sorted(found, key=lambda b: (-b.business_days, b.id))


def subject(row: dict[str, Any]) -> str:
    """What a request is about: the repository, else the proposed name, else the description."""
    fields = json.loads(row.get("fields") or "{}")
    text = row.get("repo") or fields.get("proposed_name") or fields.get("description") or ""
    text = " ".join(str(text).split()).removeprefix("https://")
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
        found.append(UpstreamItem(ref(r["id"]), r["requester"], subject(r), detail, r["decided_at"]))
    return found


# -- help desk ---------------------------------------------------------------------------

_ASKED = "asked_at >= ? AND asked_at < ? AND COALESCE(source, '') != 'eval'"


def helpdesk(db, start: str, end: str, as_of: datetime) -> dict[str, int]:
    """Questions asked in the week (evaluation runs excluded), how many answered confidently,
    votes cast in the week, escalations opened / resolved in the week and still open at as_of."""
    asked, confident = db.execute(
        f"SELECT COUNT(*), COALESCE(SUM(confident), 0) FROM questions WHERE {_ASKED}", [start, end]
    ).fetchone()
    up, down = db.execute(
        "SELECT COALESCE(SUM(vote > 0), 0), COALESCE(SUM(vote < 0), 0) FROM feedback WHERE at >= ? AND at < ?",
        [start, end],
    ).fetchone()
    opened, resolved, still_open = db.execute(
        "SELECT COALESCE(SUM(opened_at >= :s AND opened_at < :e), 0), "
        "COALESCE(SUM(resolved_at >= :s AND resolved_at < :e), 0), "
        "COALESCE(SUM(opened_at < :a AND (resolved_at IS NULL OR resolved_at >= :a)), 0) FROM escalations",
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


def normalise(text: str) -> str:
    """'How do I reset my VPN password?!' -> 'reset vpn password': lower case, no punctuation or stopwords."""
    words = re.findall(r"[a-z0-9]+", text.lower().replace("'", "").replace("’", ""))
    kept = [w for w in words if w not in STOPWORDS]
    return " ".join(kept or words)


def similar(a: str, b: str) -> bool:
    """Near-duplicates: normalised texts with a difflib ratio of at least SIMILARITY."""
    if a == b:
        return True
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return (
        matcher.real_quick_ratio() >= SIMILARITY
        and matcher.quick_ratio() >= SIMILARITY
        and (matcher.ratio() >= SIMILARITY)
    )


def group_questions(
    rows: list[dict[str, Any]], embedder: Callable[[list[str]], Sequence[Sequence[float]]] | None = None
) -> list[QuestionGroup]:
    """Rows (id, question, user, confident, downvotes) in the order asked -> groups, most asked first.
    A question joins the first group whose representative it is similar to (difflib on the normalised
    text, or, with an embedder, a cosine similarity of at least EMBED_SIMILARITY)."""
    keys = [normalise(r["question"]) for r in rows]
    vectors = _unit(embedder([r["question"] for r in rows])) if embedder and rows else None
    groups: list[tuple[int, QuestionGroup, set]] = []  # (row index of representative, group, askers)

    def close(rep: int, i: int) -> bool:
        if similar(keys[rep], keys[i]):
            return True
        return vectors is not None and sum(x * y for x, y in zip(vectors[rep], vectors[i], strict=True)) >= (
            EMBED_SIMILARITY
        )

    for i, r in enumerate(rows):
        found = next((g for g in groups if close(g[0], i)), None)
        if found is None:
            found = (i, QuestionGroup(r["id"], " ".join(r["question"].split()), 0, 0, 0, 0), set())
            groups.append(found)
        _, group, askers = found
        group.asked += 1
        group.unanswered += 0 if r["confident"] else 1
        group.downvotes += r["downvotes"]
        group.question_ids.append(r["id"])
        askers.add(r["user"] or f"?{r['id']}")
        group.askers = len(askers)
    ranked = [g for _, g, _ in groups]
    return sorted(ranked, key=lambda g: (-g.asked, -g.downvotes, g.question_id))


def _unit(vectors) -> list[list[float]]:
    found = []
    for v in vectors:
        v = [float(x) for x in v]
        norm = math.sqrt(sum(x * x for x in v)) or 1.0
        found.append([x / norm for x in v])
    return found


def top_questions(db, start: str, end: str, embedder=None) -> list[QuestionGroup]:
    """Questions asked in the week that were not answered confidently or got a 👎, grouped so that
    near-duplicates count once. Questions whose answer was already saved as knowledge are left out."""
    rows = list(
        db.query(
            f"""
            SELECT q.id, q.question, q.user, q.confident,
                (SELECT COUNT(*) FROM feedback f WHERE f.question_id = q.id AND f.vote < 0) AS downvotes
            FROM questions q
            WHERE {_ASKED.replace("asked_at", "q.asked_at").replace("source", "q.source")}
              AND (q.confident = 0 OR EXISTS (SELECT 1 FROM feedback f WHERE f.question_id = q.id AND f.vote < 0))
              AND NOT EXISTS (
                SELECT 1 FROM learned l JOIN escalations x ON x.id = l.escalation_id WHERE x.question_id = q.id
              )
            ORDER BY q.asked_at, q.id
            """,
            [start, end],
        )
    )
    return group_questions(rows, embedder)


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
              AND COALESCE(c.path, substr(a.chunk_id, 1, instr(a.chunk_id, '#') - 1)) = d.path
        ) ORDER BY path""",
        [since, iso(as_of)],
    )


def documents_stale(db, today: date, days: int) -> list[DocumentRef]:
    """Documents whose front-matter `updated` date is more than `days` days before today, oldest first."""
    cutoff = (today - timedelta(days=days)).isoformat()
    return _docs(
        db, f"{_DOC} WHERE date(substr(updated, 1, 10)) < date(?) ORDER BY date(substr(updated, 1, 10)), path", [cutoff]
    )


# ------------------------------------------------------------------------------ text


def duration(hours: float | None) -> str:
    """5.25 -> '5.3 h'; under 48 hours in hours, else in days ('3.1 d'); None -> '—'."""
    if hours is None:
        return "—"
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def turnaround_text(now: Turnaround, before: Turnaround) -> str:
    if not now.count:
        this = "no first decisions this week"
    else:
        this = (
            f"median {duration(now.median_hours)}, 90th percentile {duration(now.p90_hours)} "
            f"({now.count} request{'s' if now.count != 1 else ''})"
        )
    last = (
        f"median {duration(before.median_hours)}, 90th percentile {duration(before.p90_hours)}"
        if before.count
        else "none"
    )
    return f"{this}; last week: {last}"


def received_text(digest: Digest) -> str:
    if not digest.received_total:
        return "none"
    return f"{digest.received_total} (" + ", ".join(f"{t} {n}" for t, n in digest.received.items()) + ")"


OUTCOME_LABEL = {
    "auto_approved": "auto-approved",
    "approved": "approved",
    "rejected": "rejected",
    "needs_info": "asked for info",
    "cancelled": "cancelled",
}


def outcomes_text(digest: Digest) -> str:
    parts = [
        f"{digest.outcomes.get(s, 0)} {OUTCOME_LABEL[s]}"
        for s in OUTCOMES
        if s != "cancelled" or digest.outcomes.get(s)
    ]
    return ", ".join(parts)


def share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "—"


def render_text(digest: Digest) -> str:
    """The digest as plain text for the terminal (`ospo-bot digest --preview`): every list in full."""
    d, lines = digest, []
    w = d.week
    lines.append(f"OSPO weekly digest — {w.label} ({w.span}, {w.tz})")
    if d.quiet:
        lines.append("A quiet week: no new requests, questions or knowledge base changes.")
    lines += ["", "Approvals"]
    lines.append(f"  Received: {received_text(d)}")
    lines.append(f"  Decisions: {outcomes_text(d)}")
    lines.append(f"  Turnaround to first decision: {turnaround_text(d.turnaround, d.turnaround_last_week)}")
    if d.queue:
        lines.append(
            f"  Waiting: {len(d.queue)} ({d.queue_pending} on the OSPO, {d.queue_needs_info} on the requester), "
            "oldest first:"
        )
        for q in d.queue:
            who = "the OSPO" if q.waiting_on is None else q.waiting_on
            lines.append(f"    {q.ref} {q.type} · {q.subject} · {duration(q.age_hours)} old · waits on {who}")
    else:
        lines.append("  Waiting: nothing, the queue is empty")
    if d.overdue:
        lines.append(f"  Past the SLA: {len(d.overdue)}")
        for b in d.overdue:
            lines.append(f"    {b.ref} {b.type} · {b.subject} · {sla_text(b)}")
    else:
        lines.append("  Past the SLA: none")
    lines += ["", "Help desk"]
    if d.questions:
        lines.append(
            f"  Questions: {d.questions}, {d.confident} answered confidently ({share(d.confident, d.questions)})"
        )
    else:
        lines.append("  Questions: none this week")
    lines.append(f"  Feedback: {d.thumbs_up} 👍, {d.thumbs_down} 👎")
    lines.append(
        f"  Escalations: {d.escalations_opened} opened, {d.escalations_resolved} resolved ({d.escalations_open} open)"
    )
    if d.top_questions:
        lines.append("  Unanswered or 👎'd (near-duplicates counted once):")
        for g in d.top_questions:
            lines.append(f"    {question_line(g)} [question {g.question_id}]")
    lines += ["", "Knowledge base"]
    lines.append(f"  Documents: {d.documents}" + ("" if d.documents else " (none indexed: run `ospo-bot kb sync`)"))
    lines += _doc_lines("Added or changed this week", d.documents_changed)
    lines += _doc_lines(f"Not quoted by any answer in {UNUSED_DAYS} days", d.documents_unused)
    lines += _doc_lines(f"Not reviewed in {d.stale_doc_days} days (front-matter updated)", d.documents_stale)
    if d.documents_undated:
        lines.append(f"  Without an updated date: {d.documents_undated}")
    lines += ["", "Upstream"]
    if d.top_projects:
        lines.append("  Most contributed to: " + ", ".join(f"{repo} ({n})" for repo, n in d.top_projects))
    else:
        lines.append("  Most contributed to: no approved contributions this week")
    lines.append(f"  CLAs approved: {len(d.clas_signed)}")
    lines += [f"    {u.ref} {u.subject}" + (f" · {u.detail}" if u.detail else "") for u in d.clas_signed]
    lines.append(f"  Releases approved: {len(d.releases)}")
    lines += [f"    {u.ref} {u.subject}" + (f" · {u.detail}" if u.detail else "") for u in d.releases]
    return "\n".join(lines) + "\n"


def sla_text(b: SlaBreach) -> str:
    waiting = "no response yet" if not b.responded else ("waits on the requester" if b.state == "needs_info" else "")
    tail = f" ({waiting})" if waiting else ""
    return f"{b.business_days:.1f} business days open, past the {b.limit_days}-day {b.sla} SLA{tail}"


def question_line(g: QuestionGroup) -> str:
    counts = [f"asked {g.asked}×" if g.asked > 1 else "asked once"]
    if g.unanswered:
        counts.append(f"{g.unanswered} not answered")
    if g.downvotes:
        counts.append(f"{g.downvotes} 👎")
    return f"“{g.question}” — {', '.join(counts)}"


def _doc_lines(title: str, docs: list[DocumentRef]) -> list[str]:
    if not docs:
        return [f"  {title}: none"]
    return [f"  {title}: {len(docs)}"] + [
        f"    {doc.path}"
        + (f" — {doc.title}" if doc.title else "")
        + (f", updated {doc.updated}" if doc.updated else "")
        for doc in docs
    ]


# ------------------------------------------------------------------------------ chart


def weekly_series(db, week: Week, weeks: int = CHART_WEEKS) -> list[tuple[Week, int, int, float | None]]:
    """(week, requests received, questions asked, median turnaround hours) for the `weeks` weeks ending
    with `week`, oldest first."""
    series = []
    for back in range(weeks - 1, -1, -1):
        w = week.shift(-back)
        s, e = w.bounds
        requests = db.execute(
            "SELECT COUNT(*) FROM approval_requests WHERE created_at >= ? AND created_at < ?", [s, e]
        ).fetchone()[0]
        asked = db.execute(f"SELECT COUNT(*) FROM questions WHERE {_ASKED}", [s, e]).fetchone()[0]
        series.append((w, requests, asked, turnaround(db, w).median_hours))
    return series


def chart_png(db, week: Week, tz: str | None = None, *, weeks: int = CHART_WEEKS) -> bytes:
    """A PNG (CHART_SIZE pixels) of the `weeks` weeks ending with `week`: requests and questions per week
    as bars, the median turnaround to first decision as a line. Matplotlib's Agg canvas, no display needed."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    week = week_of(week, tz or week.tz)
    series = weekly_series(db, week, weeks)
    labels = [f"W{w.number:02d}\n{w.monday.day} {w.monday:%b}" for w, *_ in series]
    requests = [r for _, r, _, _ in series]
    questions = [q for _, _, q, _ in series]
    medians = [m for *_, m in series]
    in_days = any(m is not None and m >= 48 for m in medians)
    turn = [math.nan if m is None else (m / 24 if in_days else m) for m in medians]

    dpi = 100
    fig = Figure(figsize=(CHART_SIZE[0] / dpi, CHART_SIZE[1] / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = list(range(len(series)))
    width = 0.38
    ax.bar([i - width / 2 for i in x], requests, width, label="Approval requests", color="#4C72B0")
    ax.bar([i + width / 2 for i in x], questions, width, label="Questions", color="#55A868")
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylabel("per week")
    ax.set_ylim(bottom=0, top=max([*requests, *questions, 4]) * 1.15)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", alpha=0.3)
    ax2 = ax.twinx()
    ax2.plot(x, turn, color="#C44E52", marker="o", linewidth=2, label="Median turnaround")
    ax2.set_ylabel(f"median turnaround to first decision ({'days' if in_days else 'hours'})")
    finite = [t for t in turn if not math.isnan(t)]
    ax2.set_ylim(bottom=0, top=(max(finite) * 1.25) if finite else 1)
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper left", fontsize=9)
    ax.set_title(f"OSPO: the {len(series)} weeks to {week.label} ({week.tz})")
    fig.subplots_adjust(left=0.06, right=0.93, top=0.92, bottom=0.13)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
