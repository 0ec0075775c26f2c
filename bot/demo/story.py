"""The demo's story: questions asked over the weeks (with votes and escalations) and approval requests
that go through the real rules (bot.approvals) with a clock set to each moment, in time order."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import approvals as core
from bot.demo.cast import (
    APPROVERS,
    CHANGES,
    CLAS,
    DOWN_REASONS,
    ELSEWHERE,
    ESCALATION_ANSWERS,
    EXCEPTIONS,
    FEATURES,
    HELP_CHANNEL,
    PERSONAL,
    PROJECT_WEIGHTS,
    PROJECTS,
    QUESTIONS_FOR_INFO,
    QUIET_TOPICS,
    REJECTIONS,
    RELEASES,
    TRIAGE_CHANNEL,
    USERS,
    questions,
)
from bot.store import iso, transaction


class Clock:
    """The Approvals clock: what time it is in the story."""

    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> str:
        return iso(self.at)


class Story:
    def __init__(self, db, policy, rng: random.Random, zone: ZoneInfo, now: datetime):
        self.db, self.rng, self.zone, self.now = db, rng, zone, now
        self.clock = Clock(now)
        self.approvals = core.Approvals(lambda: db, policy, clock=self.clock)
        # Nobody asks about the community pages: they show up as unused in the digest.
        self.on_topic = [q for q in questions("questions.jsonl") if not q["expected"][0].startswith(QUIET_TOPICS)]
        self.off_topic = questions("offtopic.jsonl")
        self.docs = [r[0] for r in db.execute("SELECT path FROM documents ORDER BY path").fetchall()]
        self.chunks: dict[str, tuple[str, str]] = {}
        for path, chunk_id, content_hash in db.execute(
            "SELECT path, id, content_hash FROM chunks ORDER BY path, ordinal DESC"
        ).fetchall():
            self.chunks[path] = (chunk_id, content_hash)  # the first chunk of each document wins
        self.questions: list[dict] = []  # rows to insert, with their feedback and escalation
        self.actions: list[tuple[datetime, int, Callable[[], None]]] = []

    # -- time -------------------------------------------------------------------------------
    def at_work(self, day: date) -> datetime:
        """A random moment of a working day (08:30-18:00 local)."""
        minutes = self.rng.randint(8 * 60 + 30, 18 * 60 - 1)
        return datetime.combine(day, time(minutes // 60, minutes % 60), self.zone).astimezone(UTC)

    def later(self, moment: datetime, hours: float) -> datetime:
        """`hours` later, moved on to the next working morning if that falls at night or at a weekend."""
        moment = (moment + timedelta(hours=hours)).astimezone(self.zone)
        while moment.weekday() >= 5 or not time(8, 30) <= moment.time() <= time(18, 30):
            if moment.time() > time(18, 30) or moment.weekday() >= 5:
                moment = datetime.combine(moment.date() + timedelta(days=1), time(8, 30), self.zone)
            else:
                moment = datetime.combine(moment.date(), time(8, 30), self.zone)
            moment += timedelta(minutes=self.rng.randint(0, 90))
        return moment.astimezone(UTC)

    def weekday(self, monday: date) -> date:
        return monday + timedelta(days=self.rng.choices(range(5), weights=[5, 5, 5, 4, 3])[0])

    # -- the help desk -------------------------------------------------------------------------
    def week_of_questions(self, monday: date, index: int, weeks: int) -> None:
        count = 16 + round(10 * index / max(1, weeks - 1)) + self.rng.randint(0, 6)
        for _ in range(count):
            if self.rng.random() < 0.12:
                self.ask(monday, self.rng.choice(self.off_topic)["question"], on_topic=False)
            else:
                item = self.rng.choice(self.on_topic)
                self.ask(monday, item["question"], on_topic=True, path=item["expected"][0])
        for _ in range(self.rng.randint(1, 2)):  # a question many people ask the bot cannot answer
            hot = self.rng.choice(self.off_topic)["question"]
            for _ in range(self.rng.randint(2, 4)):
                self.ask(monday, self.variant(hot), on_topic=False)

    def variant(self, text: str) -> str:
        """The same question as another person types it."""
        choice = self.rng.randrange(5)
        if choice == 0:
            return text[:1].upper() + text[1:] + "?"
        if choice == 1:
            return "hi, " + text
        if choice == 2:
            return text + " please"
        if choice == 3:
            words = text.split()
            i = max(range(len(words)), key=lambda k: len(words[k]))
            w = words[i]
            if len(w) > 4:  # a typo
                words[i] = w[:2] + w[3] + w[2] + w[4:]
            return " ".join(words)
        return text + "??"

    def ask(self, monday: date, text: str, *, on_topic: bool, path: str | None = None) -> None:
        asked = self.at_work(self.weekday(monday))
        if asked > self.now:
            return
        user = self.rng.choice(USERS)
        confident = on_topic and self.rng.random() < 0.8
        if self.docs and (path not in self.docs):
            path = self.rng.choice(self.docs) if (on_topic or self.rng.random() < 0.5) else None
        score = self.rng.uniform(0.5, 0.8) if confident else self.rng.uniform(0.38, 0.47) if on_topic else None
        if score is None:
            score = self.rng.uniform(0.12, 0.35)
            path = path if path and self.rng.random() < 0.5 else None
        row = {
            "asked_at": asked.isoformat(timespec="seconds"),
            "user": user,
            "channel": HELP_CHANNEL if self.rng.random() < 0.6 else "D" + user[1:],
            "question": text,
            "confident": int(confident),
            "top_score": round(score, 3),
            "top_path": path,
            "source": "slack",
        }
        feedback, escalation = None, None
        roll = self.rng.random()
        if confident and roll < 0.18 or not confident and roll < 0.03:
            feedback = {"vote": 1, "reason": None}
        elif confident and roll < 0.23 or not confident and roll < 0.25:
            feedback = {"vote": -1, "reason": self.rng.choice(DOWN_REASONS) or None}
        if feedback:
            feedback["at"] = (asked + timedelta(minutes=self.rng.randint(1, 40))).isoformat(timespec="seconds")
            feedback["user"] = user
        if not confident and self.rng.random() < (0.45 if on_topic else 0.1):
            opened = asked + timedelta(minutes=self.rng.randint(2, 25))
            resolved = self.later(opened, self.rng.uniform(1, 60))
            done = resolved <= self.now and self.rng.random() < 0.85
            responder = self.rng.choice(APPROVERS)
            escalation = {
                "asker": user,
                "channel": row["channel"],
                "thread_ts": f"{asked.timestamp():.6f}",
                "triage_channel": TRIAGE_CHANNEL,
                "triage_ts": f"{opened.timestamp():.6f}",
                "state": "resolved" if done else "open",
                "opened_at": opened.isoformat(timespec="seconds"),
                "answer": self.rng.choice(ESCALATION_ANSWERS) if done else None,
                "answered_by": responder if done else None,
                "resolved_at": resolved.isoformat(timespec="seconds") if done else None,
                "resolved_by": responder if done else None,
            }
        self.questions.append({"row": row, "feedback": feedback, "escalation": escalation})

    def write_helpdesk(self) -> tuple[int, int, int, int]:
        counts = [0, 0, 0, 0]
        self.questions.sort(key=lambda q: q["row"]["asked_at"])
        with transaction(self.db):  # all of it or none: sqlite-utils inserts would commit one by one
            for q in self.questions:
                question_id = self.db["questions"].insert(q["row"]).last_pk
                counts[0] += 1
                path = q["row"]["top_path"]
                if q["row"]["confident"] and path in self.chunks:
                    chunk_id, content_hash = self.chunks[path]
                    self.db["answers"].insert(
                        {
                            "question_id": question_id,
                            "chunk_id": chunk_id,
                            "content_hash": content_hash,
                            "channel": q["row"]["channel"],
                            "ts": q["row"]["asked_at"],
                        }
                    )
                    counts[3] += 1
                if q["feedback"]:
                    self.db["feedback"].insert(q["feedback"] | {"question_id": question_id})
                    counts[1] += 1
                if q["escalation"]:
                    self.db["escalations"].insert(q["escalation"] | {"question_id": question_id})
                    counts[2] += 1
        return tuple(counts)

    # -- approval requests ----------------------------------------------------------------------
    def week_of_requests(self, monday: date, index: int, weeks: int) -> None:
        rng = self.rng
        for _ in range(rng.randint(3, 6)):  # trivial contributions: auto-approved at once
            repo, license, cla = rng.choices(PROJECTS, weights=PROJECT_WEIGHTS)[0]
            fields = self.contribution(repo, license, cla, rng.choice(["bugfix", "docs", "tests"]))
            self.request(monday, "contribute", fields, [])
        for _ in range(rng.randint(1, 3)):  # features, big changes, security fixes: the OSPO decides
            repo, license, cla = rng.choices(PROJECTS, weights=PROJECT_WEIGHTS)[0]
            fields = self.contribution(repo, license, cla, "feature")
            fields |= rng.choice(
                [
                    {},
                    {
                        "change_kind": "bugfix",
                        "changed_lines": rng.randint(150, 900),
                        "description": rng.choice(CHANGES),
                    },
                    {"change_kind": "bugfix", "security_fix": True, "description": "Fix a path traversal bug."},
                ]
            )
            self.request(monday, "contribute", fields, self.review(blanket_ok=True))
        if rng.random() < 0.45:
            repo, license, cla = rng.choice(CLAS)
            fields = {
                "repository_url": repo,
                "cla": cla,
                "license": license,
                "description": "Sign the CLA to contribute.",
            }
            self.request(monday, "cla", fields, [("approve", rng.uniform(20, 90))])
        if rng.random() < 0.35:
            name, description, license = rng.choice(RELEASES)
            fields = {
                "description": description,
                "justification": "Customers and partners ask for it; it builds our engineering brand.",
                "all_ours": True,
                "telemetry": rng.random() < 0.2,
                "cryptography": rng.random() < 0.2,
                "proposed_license": license,
                "proposed_name": f"{name}-{index}" if rng.random() < 0.5 else name,
            }
            never = index == weeks - 5  # one release stuck past its 15-day SLA
            self.request(monday, "release", fields, [] if never else [("approve", rng.uniform(80, 300))])
        if rng.random() < 0.3:
            self.request(monday, "personal", {"description": rng.choice(PERSONAL)}, [("approve", rng.uniform(24, 150))])
        if rng.random() < 0.3:
            repo, license, use, why, verdict = rng.choice(EXCEPTIONS)
            fields = {"repository_url": repo, "license": license, "use": use, "justification": why}
            if verdict == "reject":
                steps = [("reject", rng.uniform(10, 60), "SSPL is not allowed in our SaaS products.")]
            else:
                steps = [("approve", rng.uniform(10, 60), "Link dynamically and ship the license notice.")]
            self.request(monday, "exception", fields, steps)
        if index == weeks - 3:  # a contribution nobody has looked at: past its SLA in the digest
            repo, license, cla = ELSEWHERE[0]
            self.request(monday, "contribute", self.contribution(repo, license, cla, "feature"), [])
        if index == weeks - 2:  # waiting on the requester
            repo, license, cla = ELSEWHERE[1]
            steps = [("needs_info", rng.uniform(4, 20), rng.choice(QUESTIONS_FOR_INFO))]
            self.request(monday, "contribute", self.contribution(repo, license, cla, "feature"), steps)
        if index % 6 == 5:
            repo, license, cla = ELSEWHERE[2]
            steps = [("cancel", rng.uniform(2, 30))]
            self.request(monday, "contribute", self.contribution(repo, license, cla, "feature"), steps)

    def contribution(self, repo: str, license: str, cla: str, kind: str) -> dict:
        return {
            "repository_url": repo,
            "license": license,
            "change_kind": kind,
            "cla": cla,
            "security_fix": False,
            "changed_lines": self.rng.randint(3, 95),
            "description": self.rng.choice(FEATURES if kind == "feature" else CHANGES),
        }

    def review(self, blanket_ok: bool) -> list[tuple]:
        """What the approvers do with a request: mostly approve, some ask first, a few reject."""
        rng, roll = self.rng, self.rng.random()
        if roll < 0.1:
            return [("reject", rng.uniform(3, 70), rng.choice(REJECTIONS))]
        if roll < 0.3:
            return [
                ("needs_info", rng.uniform(2, 30), rng.choice(QUESTIONS_FOR_INFO)),
                ("answer", rng.uniform(2, 40), "Nothing internal; it is all new code, reviewed by my lead."),
                ("approve", rng.uniform(2, 30)),
            ]
        if roll < 0.36:
            return []  # forgotten: still pending
        blanket = blanket_ok and rng.random() < 0.3
        return [("approve", rng.uniform(1, 100), None, blanket)]

    def request(self, monday: date, type: str, fields: dict, steps: list[tuple]) -> None:
        submitted = self.at_work(self.weekday(monday))
        requester = self.rng.choice(USERS)
        approver = self.rng.choice(APPROVERS)
        held: dict[str, int] = {}
        chain = [(submitted, lambda: held.update(id=self.approvals.submit(requester, type, fields).id))]
        at = submitted
        for step in steps:
            at = self.later(at, step[1])
            chain.append((at, self.step(held, requester, approver, step)))
        for moment, action in chain:
            if moment > self.now:
                break
            self.actions.append((moment, len(self.actions), self.guard(held, action)))

    def step(self, held: dict, requester: str, approver: str, step: tuple) -> Callable[[], None]:
        action, reason = step[0], step[2] if len(step) > 2 else None
        approvers = frozenset(APPROVERS)
        if action == "answer":
            return lambda: self.approvals.answer_info(held["id"], requester, reason)
        if action == "cancel":
            return lambda: self.approvals.cancel(held["id"], requester)
        blanket = len(step) > 3 and step[3]
        conditions = "Contribute under your company email." if action == "approve" and blanket else None
        if action == "approve" and reason:
            reason, conditions = None, reason
        return lambda: self.approvals.decide(
            held["id"], approver, action, reason=reason, conditions=conditions, blanket=blanket, approvers=approvers
        )

    @staticmethod
    def guard(held: dict, action: Callable[[], None]) -> Callable[[], None]:
        """A later step of a request that was auto-approved after all (a blanket approval covers it) is
        refused by Approvals and dropped: the story goes on. Invalid fields are a bug here, and raise."""

        def run() -> None:
            try:
                action()
            except core.InvalidRequest:
                raise
            except core.ApprovalError:
                pass

        return run

    def run_requests(self) -> None:
        for moment, _, action in sorted(self.actions, key=lambda a: (a[0], a[1])):
            self.clock.at = moment
            action()
