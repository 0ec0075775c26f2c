"""The weekly digest (bot/digest/, bot/slack/blocks/digest.py, `ospo-bot digest`, `ospo-bot demo-data`).

Real SQLite files made by bot.store.open_db; approval requests made through bot.approvals with a clock,
so the audit trail is the real one; help-desk and knowledge-base rows inserted with known timestamps.
Every figure below is worked out by hand in the comments. No model, no Slack.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from bot import demo, digest
from bot.approvals import Approvals
from bot.cli import cli
from bot.config import load_settings
from bot.digest import Week, business_days, compute, normalise, week_of
from bot.licenses import default_policy_path, load_policy
from bot.slack.blocks.digest import (
    MAX_MESSAGE_TEXT,
    digest_blocks,
    digest_detail_blocks,
    digest_text,
    has_details,
)
from bot.slack.ids import DIGEST_ANSWER as ANSWER_ACTION
from bot.store import open_db
from tests.approval_data import RELEASE, TRIVIAL

POLICY = load_policy(default_policy_path())
APPROVERS = frozenset({"UA"})
BERLIN = "Europe/Berlin"
FEATURE = TRIVIAL | {"change_kind": "feature", "description": "Add a --json flag."}
CLA = {"repository_url": "https://github.com/grafana/grafana", "cla": "Grafana Labs CLA", "description": "Sign it."}
EXCEPTION = {
    "repository_url": "https://github.com/mongodb/mongo",
    "license": "SSPL",
    "use": "saas",
    "justification": "Needed for the analytics service.",
}
PERSONAL = {"description": "A recipe app on weekends."}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def stamp(text: str) -> str:
    return utc(text).isoformat(timespec="seconds")


class Clock:
    def __init__(self):
        self.at = utc("2026-01-01 00:00")

    def __call__(self) -> str:
        return self.at.isoformat(timespec="seconds")


# ------------------------------------------------------------------------------- weeks


def test_an_iso_week_in_utc():
    week = week_of("2026-W47", "UTC")
    assert (week.label, str(week), week.year, week.number) == ("2026-W47", "2026-W47", 2026, 47)
    assert week.start == datetime(2026, 11, 16, tzinfo=UTC)
    assert week.end == datetime(2026, 11, 23, tzinfo=UTC)
    assert week.bounds == ("2026-11-16T00:00:00+00:00", "2026-11-23T00:00:00+00:00")
    assert week.span == "16–22 Nov 2026"
    for text in ("2026w47", " 2026-w47 ", "2026W47", "2026-11-18", "2026-11-22"):
        assert week_of(text, "UTC") == week
    assert week_of(date(2026, 11, 16), "UTC") == week
    assert week.shift(1).label == "2026-W48"
    assert week_of("2026-W01", "UTC").shift(-1).label == "2025-W52"
    assert week_of("2026-W53", "UTC").shift(1).label == "2027-W01"  # 2026 has 53 ISO weeks


@pytest.mark.parametrize("text", ["2025-W53", "2026-W54", "2026-W00", "next week", "W47", "2026-13-01"])
def test_bad_weeks_are_refused_with_the_format(text):
    with pytest.raises(ValueError, match=r"YYYY-Www|ISO weeks 1 to"):
        week_of(text, "UTC")


def test_the_default_is_the_last_complete_week_in_the_time_zone():
    wednesday = utc("2026-11-25 12:00")
    assert week_of(None, "UTC", now=wednesday).label == "2026-W47"
    assert week_of("", BERLIN, now=wednesday).label == "2026-W47"
    assert week_of("last", BERLIN, now=wednesday).label == "2026-W47"
    # Sunday 23:30 UTC is already Monday 00:30 in Berlin: W47 is complete there, not yet in UTC.
    sunday_night = utc("2026-11-22 23:30")
    assert week_of(None, BERLIN, now=sunday_night).label == "2026-W47"
    assert week_of(None, "UTC", now=sunday_night).label == "2026-W46"
    assert week_of(sunday_night, BERLIN).label == "2026-W48"  # a datetime: the week holding it, locally
    assert week_of(sunday_night, "UTC").label == "2026-W47"


def test_a_dst_week_in_berlin_is_167_hours_long_and_its_bounds_are_local_midnights():
    spring = week_of("2026-W13", BERLIN)  # clocks go forward on Sunday 29 March 2026
    assert spring.start == datetime(2026, 3, 23, tzinfo=ZoneInfo(BERLIN))
    assert spring.bounds == ("2026-03-22T23:00:00+00:00", "2026-03-29T22:00:00+00:00")  # CET, then CEST
    start, end = (datetime.fromisoformat(b) for b in spring.bounds)
    assert end - start == timedelta(hours=167)
    autumn = week_of("2026-W43", BERLIN)  # clocks go back on Sunday 25 October 2026
    assert autumn.bounds == ("2026-10-18T22:00:00+00:00", "2026-10-25T23:00:00+00:00")
    start, end = (datetime.fromisoformat(b) for b in autumn.bounds)
    assert end - start == timedelta(hours=169)
    assert week_of("2026-03-29", BERLIN) == spring and spring.shift(1).start.utcoffset() == timedelta(hours=2)


def test_business_days_count_weekday_time_on_the_local_calendar():
    assert business_days(utc("2026-03-06 16:00"), utc("2026-03-10 16:00"), "UTC") == pytest.approx(2.0)  # Fri->Tue
    assert business_days(utc("2026-03-07 10:00"), utc("2026-03-09 00:00"), "UTC") == 0  # a weekend
    assert business_days(utc("2026-03-02 09:00"), utc("2026-03-02 15:00"), "UTC") == pytest.approx(0.25)
    assert business_days(utc("2026-02-02 09:00"), utc("2026-03-09 00:00"), "UTC") == pytest.approx(24.625)
    assert business_days(utc("2026-03-10 00:00"), utc("2026-03-09 00:00"), "UTC") == 0
    # The spring-forward week in Berlin: Monday to Monday is 5 business days though it is 167 hours.
    spring = week_of("2026-W13", BERLIN)
    assert business_days(spring.start, spring.end, BERLIN) == pytest.approx(5.0)
    # Friday 23:30 UTC is Saturday 00:30 in Berlin: no business time there.
    assert business_days(utc("2026-03-06 23:30"), utc("2026-03-08 12:00"), BERLIN) == 0


# ---------------------------------------------------------------------- the fixture week
#
# The week is 2026-W10 (Mon 2 – Sun 8 March 2026) in UTC; the week before is W09 (23 Feb – 1 Mar).
# Requests (R<n>: the order they are made in; ids follow it):
#   R0  contribute feature  Mon 2 Feb 09:00, never looked at: pending, past the 5-day decision SLA
#   R1  contribute feature  Mon 23 Feb 09:00 -> approved Tue 24 Feb 09:00           (24 h, in W09)
#   R2  release             Wed 25 Feb 10:00 -> needs info Fri 27 Feb 10:00        (48 h, in W09)
#                                            -> answered Mon 2 Mar 10:00 -> approved Wed 4 Mar 10:00
#   R12 release             Mon 9 Feb 09:00 -> needs info Tue 10 Feb 09:00 -> answered Fri 20 Feb 09:00:
#                           pending; 19.625 business days open minus 8 paused = 11.625, under 15
#   R3  contribute trivial  Mon 2 Mar 09:00 -> auto-approved (widget)
#   R14 contribute feature  Mon 2 Mar 09:30 -> approved 10:30 (1 h) -> reopened Tue 3 Mar: pending
#   R6  contribute feature  Mon 2 Mar 12:00 -> approved 18:00                          (6 h)
#   R4  contribute trivial  Tue 3 Mar 09:00 -> auto-approved (gadget)
#   R7  cla                 Tue 3 Mar 09:00 -> approved Thu 5 Mar 09:00                (48 h)
#   R5  contribute trivial  Tue 3 Mar 11:00 -> auto-approved (widget)
#   R8  exception           Wed 4 Mar 09:00 -> rejected 21:00                          (12 h)
#   R13 cla                 Wed 4 Mar 09:00, pending: 2.625 business days, past the 2-day first response
#   R9  release             Wed 4 Mar 12:00 -> needs info Fri 6 Mar 12:00 (48 h): waits on its requester
#   R11 contribute feature  Thu 5 Mar 09:00 -> cancelled 10:00
#   R10 personal            Fri 6 Mar 09:00, pending (0.625 business days)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def db(database):
    """The digest's figures on each back end (PostgreSQL: its own date arithmetic, bot/storage/)."""
    return open_db(database)


@pytest.fixture
def settings(tmp_path):
    return load_settings(OSPO_DATA_DIR=tmp_path / "data", OSPO_STALE_DOC_DAYS=365)


@pytest.fixture
def story(db, clock):
    approvals = Approvals(lambda: db, POLICY, clock=clock)
    ids = {}
    actions = [
        ("2026-02-02 09:00", "R0", "submit", "U0", "contribute", FEATURE),
        ("2026-02-09 09:00", "R12", "submit", "U12", "release", RELEASE),
        ("2026-02-10 09:00", "R12", "needs_info", "Which team maintains it?"),
        ("2026-02-20 09:00", "R12", "answer", "U12", "The platform team."),
        ("2026-02-23 09:00", "R1", "submit", "U1", "contribute", FEATURE),
        ("2026-02-24 09:00", "R1", "approve"),
        ("2026-02-25 10:00", "R2", "submit", "U2", "release", RELEASE | {"proposed_name": "yamlint"}),
        ("2026-02-27 10:00", "R2", "needs_info", "Who reviewed the history?"),
        ("2026-03-02 09:00", "R3", "submit", "U3", "contribute", TRIVIAL),
        ("2026-03-02 09:30", "R14", "submit", "U14", "contribute", FEATURE),
        ("2026-03-02 10:00", "R2", "answer", "U2", "Security did."),
        ("2026-03-02 10:30", "R14", "approve"),
        ("2026-03-02 12:00", "R6", "submit", "U6", "contribute", FEATURE),
        ("2026-03-02 18:00", "R6", "approve"),
        (
            "2026-03-03 09:00",
            "R4",
            "submit",
            "U4",
            "contribute",
            TRIVIAL | {"repository_url": "github.com/example/gadget"},
        ),
        ("2026-03-03 09:00", "R7", "submit", "U7", "cla", CLA),
        ("2026-03-03 09:00", "R14", "reopen"),
        ("2026-03-03 11:00", "R5", "submit", "U5", "contribute", TRIVIAL),
        ("2026-03-04 09:00", "R8", "submit", "U8", "exception", EXCEPTION),
        ("2026-03-04 09:00", "R13", "submit", "U13", "cla", CLA | {"cla": "Elastic CLA"}),
        ("2026-03-04 10:00", "R2", "approve"),
        ("2026-03-04 12:00", "R9", "submit", "U9", "release", RELEASE | {"proposed_name": "lintkit"}),
        ("2026-03-04 21:00", "R8", "reject", "SSPL is not allowed in SaaS."),
        ("2026-03-05 09:00", "R7", "approve"),
        ("2026-03-05 09:00", "R11", "submit", "U11", "contribute", FEATURE),
        ("2026-03-05 10:00", "R11", "cancel"),
        ("2026-03-06 09:00", "R10", "submit", "U10", "personal", PERSONAL),
        ("2026-03-06 12:00", "R9", "needs_info", "Does it phone home?"),
    ]
    for when, name, action, *args in actions:
        clock.at = utc(when)
        if action == "submit":
            ids[name] = approvals.submit(args[0], args[1], args[2]).id
        elif action == "answer":
            approvals.answer_info(ids[name], args[0], args[1])
        elif action == "cancel":
            approvals.cancel(ids[name], approvals.get(ids[name]).requester)
        else:
            reason = args[0] if args else None
            approvals.decide(ids[name], "UA", action, reason=reason, approvers=APPROVERS)
    helpdesk_rows(db)
    knowledge_rows(db)
    return ids


def helpdesk_rows(db):
    """Questions, votes and escalations; q<n> is also the question id."""
    questions = [
        # id, asked_at, user, confident, question, source
        (1, "2026-03-02 10:00", "U1", 1, "do i need approval to fix a typo?", "slack"),
        (2, "2026-03-02 11:00", "U2", 0, "How do I reset my VPN password?", "slack"),
        (3, "2026-03-03 11:00", "U3", 0, "how do i reset my vpn password", "slack"),
        (4, "2026-03-04 11:00", "U2", 0, "reset my VPN pasword please", "slack"),
        (5, "2026-03-04 12:00", "U4", 1, "can we use AGPL code in SaaS?", "slack"),
        (6, "2026-03-05 09:00", "U5", 0, "whats for lunch today", "slack"),
        (7, "2026-03-05 10:00", "U5", 1, "which CLA do I sign for kubernetes", "cli"),
        (8, "2026-03-06 10:00", "U6", 0, "who approves releases <!channel>", "slack"),
        (9, "2026-03-06 11:00", None, 1, "an evaluation question", "eval"),
        (10, "2026-02-27 10:00", "U7", 0, "How do I reset my VPN password?", "slack"),  # the week before
        (11, "2025-11-01 10:00", "U8", 1, "how do i sign off commits", "slack"),  # long ago
        (12, "2026-03-09 00:00", "U8", 0, "how do i reset my vpn password", "slack"),  # the week after
    ]
    with db.writing():
        for qid, asked, user, confident, text, source in questions:
            db["questions"].insert(
                {
                    "id": qid,
                    "asked_at": stamp(asked),
                    "user": user,
                    "channel": "C1",
                    "question": text,
                    "confident": confident,
                    "top_score": 0.6 if confident else 0.3,
                    "top_path": None,
                    "source": source,
                }
            )
        for qid, user, vote, at in [
            (1, "U1", 1, "2026-03-02 10:05"),
            (5, "U4", -1, "2026-03-04 12:10"),
            (10, "U7", -1, "2026-03-02 00:30"),  # a vote this week on last week's question
            (11, "U8", 1, "2025-11-01 10:05"),
        ]:
            db["feedback"].insert({"question_id": qid, "user": user, "vote": vote, "at": stamp(at)})
        for qid, opened, resolved in [
            (6, "2026-03-05 09:05", "2026-03-06 10:00"),
            (8, "2026-03-06 10:05", None),
            (10, "2026-02-27 10:05", "2026-03-02 09:00"),
        ]:
            db["escalations"].insert(
                {
                    "question_id": qid,
                    "asker": "U",
                    "state": "resolved" if resolved else "open",
                    "opened_at": stamp(opened),
                    "resolved_at": stamp(resolved) if resolved else None,
                    "answer": "An answer." if resolved else None,
                }
            )
        escalation = db.execute("SELECT id FROM escalations WHERE question_id = 6").fetchone()[0]
        db["learned"].insert({"escalation_id": escalation, "path": "learned/00001-lunch.md", "question": "lunch"})


def knowledge_rows(db):
    """Documents: d1 changed this week and quoted by q1; d3 quoted by q5 through a chunk since removed;
    d2 quoted only by q11 (long ago) and stale; d4 stale by one day; d5 undated."""
    docs = [
        ("contributing/trivial.md", "Trivial contributions", "2026-02-01", "2026-03-03 08:00", "https://h.example/t"),
        ("cla/dco.md", "The DCO", "2024-01-15", "2026-01-01 08:00", None),
        ("using/agpl.md", "AGPL", "2025-03-09", "2026-01-01 08:00", None),  # exactly 365 days: not stale
        ("old/legacy.md", "Legacy", "2025-03-08", "2025-06-01 08:00", None),  # 366 days: stale
        ("learned/00001-lunch.md", "Lunch", None, "2026-03-09 00:00", None),  # synced at the very end: next week
    ]
    with db.writing():
        for path, title, updated, synced, url in docs:
            db["documents"].insert(
                {"path": path, "title": title, "updated": updated, "synced_at": stamp(synced), "url": url}
            )
        for chunk_id, path in [
            ("contributing/trivial.md#what~0", "contributing/trivial.md"),
            ("cla/dco.md#how~0", "cla/dco.md"),
        ]:
            db["chunks"].insert({"id": chunk_id, "path": path, "ordinal": 0, "title": "t", "text": "x"})
        for qid, chunk_id in [
            (1, "contributing/trivial.md#what~0"),
            (5, "using/agpl.md#gone~0"),
            (11, "cla/dco.md#how~0"),
        ]:
            db["answers"].insert({"question_id": qid, "chunk_id": chunk_id})


W10 = Week(2026, 10, "UTC")
LATER = utc("2026-06-01 00:00")


def test_approval_figures_of_the_week(db, story, settings):
    d = compute(db, W10, POLICY, settings, now=LATER)
    ids = story
    assert d.as_of == utc("2026-03-09 00:00")
    assert d.received == {"contribute": 6, "release": 1, "cla": 2, "personal": 1, "exception": 1}
    assert d.received_total == 11
    # Approved: R2, R14 (then reopened), R6, R7. Auto: R3, R4, R5. Needs info: R9. Cancelled: R11.
    assert d.outcomes == {"auto_approved": 3, "approved": 4, "rejected": 1, "needs_info": 1, "cancelled": 1}
    # First decisions in W10: R14 1 h, R6 6 h, R8 12 h, R7 48 h, R9 48 h (R2's was in W09).
    assert (d.turnaround.count, d.turnaround.median_hours, d.turnaround.p90_hours) == (5, 12.0, 48.0)
    # W09: R1 24 h, R2 48 h -> median 36, nearest-rank p90 48.
    assert (d.turnaround_last_week.count, d.turnaround_last_week.median_hours) == (2, 36.0)
    assert d.turnaround_last_week.p90_hours == 48.0
    assert [(q.ref, q.state, q.waiting_on) for q in d.queue] == [
        (f"OSPO-{ids['R0']}", "pending", None),
        (f"OSPO-{ids['R12']}", "pending", None),
        (f"OSPO-{ids['R14']}", "pending", None),
        (f"OSPO-{ids['R13']}", "pending", None),
        (f"OSPO-{ids['R9']}", "needs_info", "U9"),
        (f"OSPO-{ids['R10']}", "pending", None),
    ]
    assert (d.queue_pending, d.queue_needs_info) == (5, 1)
    r0 = d.queue[0]
    assert r0.age_hours == pytest.approx(35 * 24 - 9)  # 2 Feb 09:00 to 9 Mar 00:00
    assert r0.subject == "github.com/example/widget"
    assert d.queue[1].subject == "yamlint-pro"  # a release: its proposed name
    assert [(b.ref, b.sla, b.limit_days, b.business_days, b.responded) for b in d.overdue] == [
        (f"OSPO-{ids['R0']}", "decision", 5, 24.62, False),  # 24.625, rounded to 2 places
        (f"OSPO-{ids['R13']}", "first response", 2, 2.62, False),
    ]


def test_the_queue_and_sla_are_replayed_as_they_stood_at_the_end_of_an_earlier_week(db, story, settings):
    ids = story
    d = compute(db, W10.shift(-1), POLICY, settings, now=LATER)
    assert d.as_of == utc("2026-03-02 00:00")
    # R2 is approved today, but on 2 March it was waiting for its requester's answer.
    assert [(q.ref, q.state) for q in d.queue] == [
        (f"OSPO-{ids['R0']}", "pending"),
        (f"OSPO-{ids['R12']}", "pending"),
        (f"OSPO-{ids['R2']}", "needs_info"),
    ]
    # R0: 4 weeks less 9 hours = 19.625; R12: 14.625 open, 8 of them paused = 6.625 < 15.
    assert [(b.ref, b.business_days) for b in d.overdue] == [(f"OSPO-{ids['R0']}", 19.62)]
    assert d.received == {"contribute": 1, "release": 1}
    assert d.outcomes["approved"] == 1 and d.outcomes["needs_info"] == 1
    assert d.turnaround.median_hours == 36.0 and d.turnaround_last_week.count == 0


def test_the_week_in_progress_is_computed_up_to_now(db, story, settings):
    ids = story
    d = compute(db, W10, POLICY, settings, now=utc("2026-03-04 00:00"))  # Wednesday, midnight
    assert d.as_of == utc("2026-03-04 00:00")
    assert d.received == {"contribute": 5, "cla": 1}  # R3, R14, R6, R4, R5 and R7
    assert d.outcomes == {"auto_approved": 3, "approved": 2, "rejected": 0, "needs_info": 0, "cancelled": 0}
    assert [q.ref for q in d.queue] == [f"OSPO-{ids[r]}" for r in ("R0", "R12", "R2", "R14", "R7")]
    assert (d.turnaround.count, d.turnaround.median_hours) == (2, 3.5)  # R14 1 h, R6 6 h
    assert d.questions == 3  # q1, q2, q3
    assert "so far, the week is not over" in json.dumps(digest_blocks(d), ensure_ascii=False)


def test_helpdesk_figures_of_the_week(db, story, settings):
    d = compute(db, W10, POLICY, settings, now=LATER)
    assert (d.questions, d.confident, d.confident_share) == (8, 3, 3 / 8)  # q1-q8; q9 is an evaluation
    assert (d.thumbs_up, d.thumbs_down) == (1, 2)  # q1 👍; q5 👎 and last week's q10 👎 voted this week
    assert (d.escalations_opened, d.escalations_resolved, d.escalations_open) == (2, 2, 1)
    # q2, q3, q4 are one question; q5 got a 👎; q6 was saved as knowledge; q8 was not answered.
    groups = [(g.question_id, g.asked, g.unanswered, g.downvotes, g.askers, g.question_ids) for g in d.top_questions]
    assert groups == [(2, 3, 3, 0, 2, [2, 3, 4]), (5, 1, 0, 1, 1, [5]), (8, 1, 1, 0, 1, [8])]
    assert d.top_questions[0].question == "How do I reset my VPN password?"


def test_knowledge_base_and_upstream_figures_of_the_week(db, story, settings):
    ids = story
    d = compute(db, W10, POLICY, settings, now=LATER)
    assert d.documents == 5 and d.documents_undated == 1 and d.stale_doc_days == 365
    assert [doc.path for doc in d.documents_changed] == ["contributing/trivial.md"]
    # Quoted since 9 Dec 2025: trivial.md (q1) and agpl.md (q5, by the removed chunk's id).
    assert [doc.path for doc in d.documents_unused] == ["cla/dco.md", "learned/00001-lunch.md", "old/legacy.md"]
    assert [doc.path for doc in d.documents_stale] == ["cla/dco.md", "old/legacy.md"]
    # Widget: R3, R5 (auto) and R6 (approved); R14 was reopened. Gadget: R4.
    assert d.top_projects == [("github.com/example/widget", 3), ("github.com/example/gadget", 1)]
    assert [(u.ref, u.subject, u.detail) for u in d.clas_signed] == [
        (f"OSPO-{ids['R7']}", "github.com/grafana/grafana", "Grafana Labs CLA")
    ]
    assert [(u.ref, u.subject, u.detail) for u in d.releases] == [(f"OSPO-{ids['R2']}", "yamlint", "Apache-2.0")]


def test_stale_documents_follow_the_setting(db, story, tmp_path):
    settings = load_settings(OSPO_DATA_DIR=tmp_path / "data", OSPO_STALE_DOC_DAYS=30)
    d = compute(db, W10, POLICY, settings, now=LATER)
    # Before 7 Feb 2026, oldest first.
    assert [doc.path for doc in d.documents_stale] == [
        "cla/dco.md",
        "old/legacy.md",
        "using/agpl.md",
        "contributing/trivial.md",
    ]
    assert d.stale_doc_days == 30


def test_render_text_has_every_section_and_figure(db, story, settings):
    text = digest.render_text(compute(db, W10, POLICY, settings, now=LATER))
    for part in (
        "OSPO weekly digest — 2026-W10 (2–8 Mar 2026, UTC)",
        "Received: 11 (contribute 6, release 1, cla 2, personal 1, exception 1)",
        "Decisions: 3 auto-approved, 4 approved, 1 rejected, 1 asked for info, 1 cancelled",
        "median 12.0 h, 90th percentile 2.0 d (5 requests); last week: median 36.0 h, 90th percentile 2.0 d",
        "Waiting: 6 (5 on the OSPO, 1 on the requester)",
        "waits on U9",
        "Past the SLA: 2",
        "24.6 business days open, past the 5-day decision SLA (no response yet)",
        "Questions: 8, 3 answered confidently (38%)",
        "Feedback: 1 👍, 2 👎",
        "Escalations: 2 opened, 2 resolved (1 open)",
        "“How do I reset my VPN password?” — asked 3×, 3 not answered [question 2]",
        "Added or changed this week: 1",
        "Not reviewed in 365 days (front-matter updated): 2",
        "Most contributed to: github.com/example/widget (3), github.com/example/gadget (1)",
        "CLAs approved: 1",
        "Releases approved: 1",
    ):
        assert part in text, part
    assert "quiet" not in text


# ---------------------------------------------------------------------------- the empty week


def test_an_empty_week_is_friendly_and_correct(db, settings):
    d = compute(db, week_of("2026-W30", BERLIN), POLICY, settings, now=LATER)
    assert d.quiet
    assert d.received == {} and d.received_total == 0 and not any(d.outcomes.values())
    assert d.turnaround == digest.Turnaround() and d.turnaround.median_hours is None
    assert (d.questions, d.confident, d.confident_share, d.thumbs_up, d.thumbs_down) == (0, 0, None, 0, 0)
    assert d.queue == [] and d.overdue == [] and d.top_questions == []
    assert d.documents_changed == d.documents_unused == d.documents_stale == [] and d.top_projects == []
    text = digest.render_text(d)
    assert "A quiet week" in text and "the queue is empty" in text and "Questions: none this week" in text
    message = digest_blocks(d)
    assert "A quiet week" in json.dumps(message, ensure_ascii=False)
    assert not has_details(d)
    check_limits(message)
    check_limits(digest_detail_blocks(d))


def test_a_quiet_week_still_shows_the_queue_carried_over(db, story, settings):
    d = compute(db, W10.shift(2), POLICY, settings, now=LATER)
    assert d.quiet and len(d.queue) == 6 and d.received_total == 0
    assert "Waiting: 6" in digest.render_text(d)


# ----------------------------------------------------------------------------- Block Kit


def texts(value) -> list[str]:
    """Every text string in a block tree."""
    if isinstance(value, dict):
        found = [value["text"]] if isinstance(value.get("text"), str) else []
        return found + [t for k, v in value.items() if k != "text" or not isinstance(v, str) for t in texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in texts(v)]
    return []


def check_limits(blocks: list[dict]) -> None:
    assert 0 < len(blocks) <= 50
    assert sum(len(t) for t in texts(blocks)) <= MAX_MESSAGE_TEXT
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "context":
            assert all(len(e["text"]) <= 2000 for e in block["elements"])
        if "accessory" in block:
            button = block["accessory"]
            assert button["action_id"] == ANSWER_ACTION and len(button["text"]["text"]) <= 75
            assert button["value"].isdigit()
    assert "<!channel>" not in json.dumps(blocks)


def test_the_digest_message_and_thread_in_block_kit(db, story, settings):
    ids = story
    d = compute(db, W10, POLICY, settings, now=LATER)
    message, thread = digest_blocks(d), digest_detail_blocks(d)
    check_limits(message)
    check_limits(thread)
    assert message[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "📊 OSPO weekly digest · 2026-W10", "emoji": True},
    }
    buttons = [b["accessory"] for b in message if "accessory" in b]
    assert [b["value"] for b in buttons] == ["2", "5", "8"]
    assert {b["text"]["text"] for b in buttons} == {"Answer & save to knowledge base"}
    body = "\n".join(texts(message))
    assert f"*OSPO-{ids['R9']}*" not in body  # only the 3 oldest on the message...
    assert f"*OSPO-{ids['R0']}*" in body and "waits on the OSPO" in body
    assert f"OSPO-{ids['R13']} (cla, 2.6 business days)" in body
    assert "who approves releases &lt;!channel&gt;" in body
    assert "*Escalations:* 2 opened · 2 resolved · 1 still open" in body
    assert has_details(d)
    detail = "\n".join(texts(thread))
    assert "waits on <@U9>" in detail  # ...the whole queue in the thread
    assert "<https://h.example/t|Trivial contributions>" in detail
    assert digest_text(d) == "OSPO weekly digest 2026-W10: 11 request(s), 8 question(s), 6 waiting, 2 past the SLA"


def test_block_kit_limits_hold_with_500_pending_requests(db, settings):
    week = Week(2026, 10, "UTC")
    long = "x" * 2500 + " <!channel>"
    with db.writing():
        for n in range(500):
            at = stamp("2026-01-05 09:00")
            request_id = (
                db["approval_requests"]
                .insert(
                    {
                        "type": ["contribute", "release", "cla", "personal", "exception"][n % 5],
                        "requester": f"U{n}",
                        "state": "pending",
                        "fields": json.dumps({"description": f"{n} {long}"}),
                        "repo": f"https://github.com/example/{'r' * 150}{n}" if n % 2 else None,
                        "created_at": at,
                        "updated_at": at,
                    }
                )
                .last_pk
            )
            db["approval_events"].insert(
                {
                    "request_id": request_id,
                    "actor": f"U{n}",
                    "at": at,
                    "from_state": "submitted",
                    "to_state": "pending",
                    "extra": "{}",
                }
            )
        for n in range(80):
            db["questions"].insert(
                {
                    "asked_at": stamp("2026-03-03 10:00"),
                    "user": f"U{n}",
                    "question": f"{n} {'why ' * 400}{n}",
                    "confident": 0,
                    "source": "slack",
                }
            )
        for n in range(300):
            db["documents"].insert(
                {
                    "path": f"docs/{'d' * 100}{n}.md",
                    "title": "T" * 300,
                    "updated": "2000-01-01",
                    "synced_at": stamp("2026-03-03 10:00"),
                    "url": "https://example.com/" + "u" * 200,
                }
            )
        for n in range(60):  # approved CLAs and releases, with long names
            decided = stamp("2026-03-04 10:00")
            db["approval_requests"].insert(
                {
                    "type": "cla" if n % 2 else "release",
                    "requester": "U1",
                    "state": "approved",
                    "fields": json.dumps({"cla": "C" * 190, "proposed_name": "n" * 99}),
                    "repo": f"https://github.com/example/{'c' * 150}{n}" if n % 2 else None,
                    "license_expression": "Apache-2.0",
                    "decided_at": decided,
                    "created_at": decided,
                    "updated_at": decided,
                }
            )
    d = compute(db, week, POLICY, settings, now=LATER)
    assert len(d.queue) == 500 and len(d.overdue) == 500 and len(d.top_questions) == 80
    assert len(d.clas_signed) == len(d.releases) == 30
    message, thread = digest_blocks(d), digest_detail_blocks(d)
    check_limits(message)
    check_limits(thread)
    detail = "\n".join(texts(thread))
    assert "more" in detail and "`ospo-bot digest --preview --week 2026-W10` lists everything" in detail
    assert "and 495 more in the thread" in "\n".join(texts(message))
    assert "CLAs and releases approved this week" in detail


# ------------------------------------------------------------------------ near-duplicates


def test_questions_are_normalised_before_they_are_compared():
    assert normalise("How do I reset my VPN password?!") == "reset vpn password"
    assert normalise("What's for lunch today") == "lunch today"
    assert normalise("How do I?") == "how do i"  # only stopwords: keep them
    assert digest.similar(normalise("hi, how do i reset my vpn password"), normalise("RESET VPN PASWORD"))
    assert not digest.similar(normalise("reset my vpn password"), normalise("reset my laptop"))


def test_an_embedder_groups_questions_that_mean_the_same():
    rows = [
        {"id": 1, "question": "reset my vpn password", "user": "A", "confident": 0, "downvotes": 0},
        {"id": 2, "question": "change the VPN passphrase", "user": "B", "confident": 0, "downvotes": 1},
        {"id": 3, "question": "lunch menu", "user": "C", "confident": 0, "downvotes": 0},
    ]
    assert [g.question_ids for g in digest.group_questions(rows)] == [[2], [1], [3]]  # 👎 breaks the tie

    def embed(texts):
        return [[1.0, 0.1] if "vpn" in t.lower() else [0.0, 1.0] for t in texts]

    groups = digest.group_questions(rows, embed)
    assert [(g.question_id, g.question_ids, g.downvotes, g.askers) for g in groups] == [
        (1, [1, 2], 1, 2),
        (3, [3], 0, 1),
    ]


# ---------------------------------------------------------------------------------- chart


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_chart_is_a_png_of_the_set_size(db, story):
    assert png_size(digest.chart_png(db, W10, "UTC")) == (1200, 600)
    series = digest.weekly_series(db, W10)
    assert len(series) == 12 and series[0][0].label == "2025-W51" and series[-1][0] == W10
    assert [(w.label, r, q, m) for w, r, q, m in series[-2:]] == [("2026-W09", 2, 1, 36.0), ("2026-W10", 11, 8, 12.0)]


def test_the_chart_of_an_empty_database(db):
    assert png_size(digest.chart_png(db, week_of("2026-W13", BERLIN), BERLIN)) == (1200, 600)


# -------------------------------------------------------------------------- demo and CLI


def test_demo_data_is_a_real_audit_trail_and_fills_every_part_of_the_digest(tmp_path, settings):
    now = utc("2026-11-25 10:00")
    db = open_db(tmp_path / "demo.db")
    report = demo.fill(db, POLICY, weeks=13, seed=3, tz=BERLIN, now=now)
    assert report.questions > 250 and report.feedback and report.escalations and report.requests_total > 60
    assert {"auto_approved", "approved", "rejected", "pending", "needs_info"} <= set(report.requests)
    approvals = Approvals(lambda: db, POLICY)
    for request in approvals.list():
        assert approvals.replay(request.id) == request.state
    assert db.execute("SELECT MAX(at) FROM approval_events").fetchone()[0] <= now.isoformat()
    assert db.execute("SELECT MAX(asked_at) FROM questions").fetchone()[0] <= now.isoformat()
    d = compute(db, week_of(None, BERLIN, now=now), POLICY, settings, now=now)
    assert d.received_total and d.outcomes["auto_approved"] and d.turnaround.count and d.queue and d.overdue
    assert d.questions and d.top_questions and d.top_questions[0].asked > 1 and d.top_projects
    with pytest.raises(demo.DemoError, match="already has"):
        demo.fill(db, POLICY, now=now)
    again = open_db(tmp_path / "again.db")
    demo.fill(again, POLICY, weeks=13, seed=3, tz=BERLIN, now=now)
    query = "SELECT asked_at, question, confident FROM questions ORDER BY id"
    assert db.execute(query).fetchall() == again.execute(query).fetchall()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("OSPO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OSPO_TIMEZONE", BERLIN)
    monkeypatch.delenv("OSPO_KNOWLEDGE_DIR", raising=False)
    return tmp_path


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_preview_on_demo_data_prints_the_sections_and_writes_the_files(env):
    filled = run("demo-data", "--weeks", "13", "--seed", "5")
    assert filled.exit_code == 0, filled.output
    assert "approval requests" in filled.output and "ospo-bot digest --preview" in filled.output
    blocks, chart = env / "digest.json", env / "digest.png"
    result = run("digest", "--preview", "--blocks", str(blocks), "--chart", str(chart))
    assert result.exit_code == 0, result.output
    expected = week_of(None, BERLIN).label
    assert f"OSPO weekly digest — {expected}" in result.output
    for section in ("Approvals", "Help desk", "Knowledge base", "Upstream", "Received:", "Past the SLA", "Questions:"):
        assert section in result.output
    message = json.loads(blocks.read_text(encoding="utf-8"))
    check_limits(message["blocks"])
    check_limits(message["thread"]["blocks"])
    assert message["text"].startswith(f"OSPO weekly digest {expected}")
    assert png_size(chart.read_bytes()) == (1200, 600)
    older = run("digest", "--week", week_of(None, BERLIN).shift(-3).label)
    assert older.exit_code == 0 and "Approvals" in older.output
    again = run("demo-data")
    assert again.exit_code == 1 and "already has" in again.output


def test_cli_digest_refuses_bad_options(env):
    bad = run("digest", "--week", "2026-W99")
    assert bad.exit_code == 2 and "ISO weeks 1 to 53" in bad.output
    both = run("digest", "--preview", "--send")
    assert both.exit_code == 2 and "not both" in both.output
    empty = run("digest", "--week", "2026-W10")
    assert empty.exit_code == 0 and "A quiet week" in empty.output and "demo-data" in empty.output


def test_cli_send_hands_the_week_to_the_scheduler(env, monkeypatch):
    scheduler = pytest.importorskip("bot.scheduler")
    if not hasattr(scheduler, "deliver_digest"):
        pytest.skip("bot.scheduler.deliver_digest is not there yet")
    calls = []
    monkeypatch.setattr(
        scheduler, "deliver_digest", lambda core, delivery, week, late: calls.append((week, late)) or True
    )
    result = run("digest", "--send", "--week", "2026-W10")
    assert result.exit_code == 0, result.output
    assert calls == [(Week(2026, 10, BERLIN), False)] and "Sent the digest for 2026-W10" in result.output
    monkeypatch.setattr(scheduler, "deliver_digest", lambda core, delivery, week, late: False)
    assert "already sent" in run("digest", "--send").output


def test_demo_data_with_a_broken_policy_file_says_what_is_wrong(env, monkeypatch):
    broken = env / "policy.yaml"
    broken.write_text("categories: [this is not, a mapping\n", encoding="utf-8")
    monkeypatch.setattr("bot.licenses.default_policy_path", lambda: broken)
    result = run("demo-data", "--weeks", "1")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"cannot read the license policy {broken}" in result.output


def test_demo_data_works_outside_a_checkout(env):
    """The bot as it is deployed: the package and the handbook, no tests/ folder beside them."""
    app = env / "app"
    repo = Path(__file__).resolve().parents[1]
    shutil.copytree(repo / "bot", app / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(repo / "knowledge", app / "knowledge")
    script = (
        "import bot\n"
        "from click.testing import CliRunner\n"
        "from bot.cli import cli\n"
        f"assert bot.__file__.startswith({str(app)!r}), bot.__file__\n"
        "result = CliRunner().invoke(cli, ['demo-data', '--weeks', '2'], catch_exceptions=False)\n"
        "assert result.exit_code == 0, result.output\n"
        "print(result.output)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=app,
        env=os.environ | {"PYTHONPATH": str(app)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "questions" in done.stdout and "approval requests" in done.stdout


def test_demo_data_and_the_digest_do_not_load_the_model(env):
    """In a fresh interpreter: neither command imports the embedding model or the vector store."""
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from bot.cli import cli\n"
        f"for args in (['demo-data', '--weeks', '4'], ['digest', '--blocks', {str(env / 'b.json')!r}]):\n"
        "    result = CliRunner().invoke(cli, args, catch_exceptions=False)\n"
        "    assert result.exit_code == 0, result.output\n"
        "heavy = [m for m in ('sentence_transformers', 'torch', 'chromadb') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", script], env=os.environ.copy(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
