"""Demo data: a realistic quarter of questions and approval requests in a fresh database, so that a
newcomer sees a full weekly digest and App Home without Slack (`ospo-bot demo-data`).

Questions come from the files shipped beside this module (questions.jsonl, offtopic.jsonl: a copy of
the tests' question sets), asked at working hours over the weeks, with plausible confident / top_path
values (no embedding model is loaded), some 👍 / 👎 and escalations. Approval requests go through
bot.approvals.Approvals with a clock set to each moment, so the audit trail is the real one:
submissions, then decisions after realistic delays, in time order (story.py). Answers quote the
indexed documents when there are any (`ospo-bot kb sync` first for those figures).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlite_utils

from bot.demo.cast import DemoError
from bot.demo.story import Story
from bot.store import set_meta

__all__ = ["DemoError", "DemoReport", "fill"]


@dataclass
class DemoReport:
    start: datetime
    end: datetime
    weeks: int
    questions: int = 0
    feedback: int = 0
    escalations: int = 0
    answers: int = 0
    requests: Counter = field(default_factory=Counter)  # state -> count
    events: int = 0

    @property
    def requests_total(self) -> int:
        return sum(self.requests.values())


def fill(
    db: sqlite_utils.Database,
    policy,
    *,
    weeks: int = 13,
    seed: int = 7,
    tz: str = "UTC",
    now: datetime | None = None,
) -> DemoReport:
    """Fill a database that has no questions and no requests with `weeks` weeks of activity ending at
    `now` (the current week so far, and the weeks before it). Deterministic for a seed and a `now`."""
    if weeks < 1:
        raise DemoError("give at least one week")
    busy = [t for t in ("questions", "approval_requests") if db[t].exists() and db[t].count]
    if busy:
        raise DemoError(
            f"the database already has {' and '.join(busy)}: demo data goes into a fresh one "
            "(point OSPO_DATA_DIR at an empty folder)"
        )
    zone = ZoneInfo(tz)
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    today = now.astimezone(zone).date()
    first_monday = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    start = datetime.combine(first_monday, time(), zone)
    report = DemoReport(start=start, end=now, weeks=weeks)
    rng = random.Random(seed)
    story = Story(db, policy, rng, zone, now)
    for index in range(weeks):
        monday = first_monday + timedelta(weeks=index)
        story.week_of_questions(monday, index, weeks)
        story.week_of_requests(monday, index, weeks)
    report.questions, report.feedback, report.escalations, report.answers = story.write_helpdesk()
    story.run_requests()
    report.requests = Counter(
        dict(db.execute("SELECT state, COUNT(*) FROM approval_requests GROUP BY state").fetchall())
    )
    report.events = db.execute("SELECT COUNT(*) FROM approval_events").fetchone()[0]
    with db.writing():
        set_meta(db, "demo_data", json.dumps({"seed": seed, "weeks": weeks, "until": now.isoformat()}))
    return report
