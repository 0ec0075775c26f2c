"""The help desk: questions answered and remembered, feedback, hand-off to the OSPO team,
answers saved as knowledge, and notices when a quoted policy changes.

Plain Python over SQLite and the knowledge base; the Slack adapters call it and render
what it returns. Nothing here knows Slack's payloads.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from bot import claims, compatibility, licenses
from bot.batching import Busy
from bot.compatibility import Compatibility
from bot.search.answer import Answer
from bot.search.documents import ASKED
from bot.search.index import LEARNED_PREFIX, SyncReport
from bot.search.knowledge_base import KnowledgeBase
from bot.store import iso, now

log = logging.getLogger(__name__)

NOTICE_WINDOW_DAYS = 90  # answers older than this are not followed up when policy changes
NOTICE = "notice"  # claims.what: sending one policy-change notice


@dataclass
class Reply:
    """What the bot says to one question."""

    question_id: int
    answer: Answer
    license: licenses.LicenseReport | None  # the policy verdict when the question names a license
    compatibility: Compatibility | None = None  # when it names two: may one go into the other (OSADL)


@dataclass
class Escalation:
    id: int
    question_id: int
    question: str
    asker: str | None
    channel: str | None
    thread_ts: str | None
    triage_channel: str | None
    triage_ts: str | None
    state: str
    answer: str | None
    answered_by: str | None
    best_guess: str | None  # the document the bot would have quoted
    best_guess_title: str | None = None  # its title (its path if it is gone)


@dataclass
class Notice:
    id: int
    user: str
    question: str
    title: str
    kind: str  # changed, removed
    new_text: str | None


@dataclass
class Topic:
    """A section people ask about: its id, document title, heading, and a way of asking for it."""

    section_id: str
    title: str
    heading: str
    phrasing: str | None  # the section's first "asked as" phrasing, if it has any


@dataclass
class Saved:
    """An answer saved to the knowledge base: where, and who had asked (None: nobody known)."""

    path: str
    asker: str | None


class HelpDesk:
    """policy: for the license verdict of a question that names a license (None: the default
    policy file). db: the database (default: the knowledge base's)."""

    def __init__(self, kb: KnowledgeBase, policy: licenses.Policy | None = None, db: Callable | None = None):
        self.kb = kb
        self.settings = kb.settings
        self.policy = policy
        self._db = db or (lambda: kb.db)
        self._answering = threading.BoundedSemaphore(self.settings.questions_at_once)

    @property
    def db(self):
        return self._db()

    # -- answering --------------------------------------------------------------------
    @contextmanager
    def answering(self) -> Iterator[None]:
        """One question in Slack, from asking to its answer posted and recorded. At most
        settings.questions_at_once (OSPO_EMBED_QUEUE + OSPO_EMBED_BATCH_SIZE) at once; the next raises
        Busy at once. Under overload answers wait for more than the model (the database's
        one writer, the GIL): bounded only at the model, they came 10-20 s late (bench/load.py)."""
        if not self._answering.acquire(blocking=False):
            raise Busy("busy: too many questions are being answered; try again in a moment")
        try:
            yield
        finally:
            self._answering.release()

    def ask(
        self, question: str, *, user: str | None = None, channel: str | None = None, source: str = "slack"
    ) -> Reply:
        """Answer and record; raises ValueError for an empty question."""
        answer = self.kb.ask(question, user=user, channel=channel, source=source, record=False)
        chunk = None
        if answer.confident and answer.sources:
            top = answer.sources[0]
            chunk = self.db.execute(
                "SELECT id, content_hash FROM chunks WHERE path = ? AND anchor = ? ORDER BY ordinal",
                [top.path, top.anchor],
            ).fetchone()
        with self.db.writing():  # one turn at the writer lock: under load each turn is a wait
            question_id = self.kb.record(answer, user=user, channel=channel, source=source)
            if chunk:
                self.db["answers"].insert({"question_id": question_id, "chunk_id": chunk[0], "content_hash": chunk[1]})
        try:
            report = licenses.find_in_text(answer.question, self.policy)
            together = compatibility.find_in_text(answer.question, self.policy)
        except ValueError:  # a broken policy file must not cost the user the answer
            report, together = None, None
        return Reply(question_id, answer, report, together)

    def delivered(self, question_id: int, channel: str, ts: str, new_thread: bool = False) -> None:
        """Where the answer was posted (for escalations and follow-ups); new_thread: the answer starts
        a thread the bot follows (remember_thread), noted in the same turn at the writer lock."""
        with self.db.writing():
            self.db.execute("UPDATE answers SET channel = ?, ts = ? WHERE question_id = ?", [channel, ts, question_id])
            if new_thread:
                self.remember_thread(channel, ts)

    def question(self, question_id: int) -> dict | None:
        rows = list(self.db.query("SELECT * FROM questions WHERE id = ?", [question_id]))
        return rows[0] if rows else None

    def recent_questions(self, user: str, limit: int = 10) -> list[dict]:
        """What `user` asked last, newest first: question, confident."""
        return list(
            self.db.query(
                "SELECT question, confident FROM questions WHERE user = ? ORDER BY id DESC LIMIT ?", [user, limit]
            )
        )

    def section_at(self, url: str) -> str | None:
        """The section a link to the handbook points at (a document's front-matter url, with the section's
        anchor as its #fragment; without one, the document's first section), or None."""
        wanted, _, anchor = url.partition("#")
        wanted = same_page(wanted)
        for path, page in self.db.execute("SELECT path, url FROM documents WHERE url IS NOT NULL").fetchall():
            if page and same_page(page) == wanted:
                ids = [
                    row[0]
                    for row in self.db.execute(
                        "SELECT id FROM sections WHERE path = ? ORDER BY ordinal", [path]
                    ).fetchall()
                ]
                chosen = f"{path}#{anchor}"
                return chosen if chosen in ids else (ids[0] if ids else None)
        return None

    def popular_topics(self, limit: int = 4, days: int = 90) -> list[Topic]:
        """The sections people were most often answered from (confidently) in the last `days`, most
        asked first: what people ask most, shown without anyone's own words (a question can name a
        secret project). Each comes with the first of its "asked as" phrasings, written by the OSPO."""
        since = iso(datetime.now(UTC) - timedelta(days=days))
        rows = self.db.execute(
            "SELECT a.chunk_id, COUNT(*), MAX(q.id) FROM answers a JOIN questions q ON q.id = a.question_id "
            "WHERE q.confident = 1 AND q.asked_at >= ? GROUP BY a.chunk_id",
            [since],
        ).fetchall()
        asked: dict[str, list[int]] = {}
        for chunk_id, count, newest in rows:
            counts = asked.setdefault(chunk_id.rsplit("~", 1)[0], [0, 0])  # chunk path#anchor~n -> section
            counts[0], counts[1] = counts[0] + count, max(counts[1], newest)
        topics = []
        for section_id, _ in sorted(asked.items(), key=lambda item: (-item[1][0], -item[1][1])):
            path, _, anchor = section_id.partition("#")
            section = self.db.execute("SELECT title, heading FROM sections WHERE id = ?", [section_id]).fetchone()
            if section is None:
                continue  # removed from the knowledge base since
            phrasing = self.db.execute(
                "SELECT text FROM chunks WHERE path = ? AND anchor = ? AND kind = ? ORDER BY ordinal LIMIT 1",
                [path, anchor, ASKED],
            ).fetchone()
            topics.append(Topic(section_id, section[0], section[1], phrasing[0] if phrasing else None))
            if len(topics) == limit:
                break
        return topics

    # -- events, threads ----------------------------------------------------------------
    def claim_event(self, event_id: str) -> bool:
        """True the first time an event id is seen (Slack retries resend the same id)."""
        return claims.claim_event(self.db, event_id)

    def remember_thread(self, channel: str, thread_ts: str) -> None:
        if self.is_bot_thread(channel, thread_ts):  # a follow-up: no turn at the writer lock for nothing
            return
        with self.db.writing():
            self.db.execute(
                "INSERT INTO bot_threads (channel, thread_ts, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [channel, thread_ts, now()],
            )

    def is_bot_thread(self, channel: str, thread_ts: str) -> bool:
        return bool(
            self.db.execute(
                "SELECT 1 FROM bot_threads WHERE channel = ? AND thread_ts = ?", [channel, thread_ts]
            ).fetchone()
        )

    # -- feedback -----------------------------------------------------------------------
    def feedback(self, question_id: int, user: str, vote: int, reason: str | None = None) -> None:
        """One vote per user and question: a second click changes the vote, a reason is added."""
        if vote not in (1, -1):
            raise ValueError("vote must be 1 or -1")
        with self.db.writing():
            existing = self.db.execute(
                "SELECT id FROM feedback WHERE question_id = ? AND user = ?", [question_id, user]
            ).fetchone()
            row = {"question_id": question_id, "user": user, "vote": vote, "at": now()}
            if reason is not None:
                row["reason"] = reason.strip()[:2000]
            if existing:
                self.db["feedback"].update(existing[0], row)
            else:
                self.db["feedback"].insert(row)
        self._learn(question_id, user, vote)

    def _learn(self, question_id: int, user: str, vote: int) -> None:
        """👍 on a quoted section: the question becomes evidence for it; 👎: taken back."""
        if vote < 0:
            self.kb.learning.forget(question_id=question_id)
            return
        row = self.db.execute(
            "SELECT questions.question, answers.chunk_id FROM answers "
            "JOIN questions ON questions.id = answers.question_id WHERE answers.question_id = ?",
            [question_id],
        ).fetchone()
        if row:
            question, chunk_id = row
            try:
                self.kb.learning.add(chunk_id.rsplit("~", 1)[0], question, question_id=question_id, user=user)
            except Busy:  # the vote counts; only this lesson is lost, under overload
                log.info("busy: question %s not learned from its 👍", question_id)

    # -- the human loop -------------------------------------------------------------------
    def escalate(
        self, question_id: int, user: str, channel: str | None, thread_ts: str | None
    ) -> tuple[Escalation, bool]:
        """Open (or find) the escalation of a question; returns (escalation, newly opened)."""
        with self.db.writing():
            cursor = self.db.execute(
                "INSERT INTO escalations (question_id, asker, channel, thread_ts, state, opened_at) "
                "VALUES (?, ?, ?, ?, 'open', ?) ON CONFLICT DO NOTHING",
                [question_id, user, channel, thread_ts, now()],
            )
        escalation = self.escalation(question_id=question_id)
        return escalation, cursor.rowcount == 1

    def posted_to_triage(self, escalation_id: int, channel: str, ts: str) -> None:
        with self.db.writing():
            self.db.execute(
                "UPDATE escalations SET triage_channel = ?, triage_ts = ? WHERE id = ?", [channel, ts, escalation_id]
            )

    def escalation(
        self, escalation_id: int | None = None, *, question_id: int | None = None, triage: tuple[str, str] | None = None
    ) -> Escalation | None:
        where, args = ("e.id = ?", [escalation_id])
        if question_id is not None:
            where, args = ("e.question_id = ?", [question_id])
        elif triage is not None:
            where, args = ("e.triage_channel = ? AND e.triage_ts = ?", list(triage))
        rows = list(
            self.db.query(
                "SELECT e.*, q.question, q.top_path, COALESCE(d.title, q.top_path) AS top_title FROM escalations e "
                f"JOIN questions q ON q.id = e.question_id LEFT JOIN documents d ON d.path = q.top_path WHERE {where}",
                args,
            )
        )
        if not rows:
            return None
        r = rows[0]
        return Escalation(
            r["id"],
            r["question_id"],
            r["question"],
            r["asker"],
            r["channel"],
            r["thread_ts"],
            r["triage_channel"],
            r["triage_ts"],
            r["state"],
            r["answer"],
            r["answered_by"],
            r["top_path"],
            r["top_title"],
        )

    def record_reply(self, escalation_id: int, text: str, user: str) -> None:
        with self.db.writing():
            self.db.execute(
                "UPDATE escalations SET answer = ?, answered_by = ? WHERE id = ?", [text, user, escalation_id]
            )

    def resolve(self, escalation_id: int, user: str) -> bool:
        """Close an open escalation; False if it was closed already (a second click changes nothing)."""
        with self.db.writing():
            cursor = self.db.execute(
                "UPDATE escalations SET state = 'resolved', resolved_at = ?, resolved_by = ? "
                "WHERE id = ? AND state = 'open'",
                [now(), user, escalation_id],
            )
        return cursor.rowcount == 1

    def save_as_knowledge(self, escalation_id: int, user: str) -> str:
        """Write the question and the OSPO's answer as a knowledge entry and index it now.
        Returns the entry's path (learned/...). Saving twice keeps one entry, updated."""
        escalation = self.escalation(escalation_id)
        if escalation is None:
            raise ValueError(f"no escalation {escalation_id}")
        if not escalation.answer:
            raise ValueError("nobody has answered this question in the thread yet")
        name = f"{escalation.id:05d}-{slug(escalation.question)}.md"
        folder = self.settings.learned_dir
        folder.mkdir(parents=True, exist_ok=True)
        title = " ".join(escalation.question.split())[:120]
        front = {
            "title": title,
            "tags": ["learned", "from-slack"],
            "owner": "OSPO",
            "answered_by": escalation.answered_by,
            "saved_by": user,
            "updated": datetime.now(UTC).date().isoformat(),
        }
        # YAML's own quoting: JSON's would write 🙂 as a surrogate pair that YAML reads back as two broken halves.
        body = "---\n" + yaml.safe_dump(front, sort_keys=False, width=1_000_000) + "---\n"
        asked = " ".join(escalation.question.split()).replace("--", "-")  # the question asked, as its "asked as"
        body += f"# {title}\n\n<!-- asked as:\n- {asked}\n-->\n\n{escalation.answer.strip()}\n"
        (folder / name).write_text(body, encoding="utf-8")
        path = LEARNED_PREFIX + name
        with self.db.writing():
            self.db.execute("DELETE FROM learned WHERE escalation_id = ?", [escalation.id])
            self.db["learned"].insert(
                {
                    "escalation_id": escalation.id,
                    "path": path,
                    "question": escalation.question,
                    "answer": escalation.answer,
                    "answered_by": escalation.answered_by,
                    "created_at": now(),
                    "body": body,  # for the other hosts' learned/ folders (bot/search/index.py)
                }
            )
        self.kb.sync()
        return path

    def check_answer(self, question_id: int, text: str | None) -> dict:
        """The question, if `text` can be saved as its answer; ValueError saying what is missing."""
        question = self.question(question_id)
        if question is None or not (text or "").strip():
            raise ValueError("Write the answer to save.")
        return question

    def answer_and_save(self, question_id: int, text: str, user: str) -> Saved:
        """The OSPO answers a question outside any thread (from the digest): the answer is recorded on
        the question's escalation (opened for it if need be), saved as knowledge, and the escalation
        resolved. ValueError when there is no such question or no answer."""
        question = self.check_answer(question_id, text)
        asker = question["user"] or user
        escalation, _ = self.escalate(question_id, asker, asker, None)
        self.record_reply(escalation.id, text, user)
        path = self.save_as_knowledge(escalation.id, user)
        self.resolve(escalation.id, user)
        return Saved(path, question["user"])

    def export_learned(self, destination: Path) -> list[Path]:
        """Copy the saved entries out, for the OSPO to fold into knowledge/."""
        destination.mkdir(parents=True, exist_ok=True)
        written = []
        folder = self.settings.learned_dir
        for source in sorted(folder.glob("*.md")) if folder.is_dir() else []:
            target = destination / source.name
            target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
            written.append(target)
        return written

    # -- policy changed: tell the people who were quoted it ------------------------------
    def queue_notices(self, report: SyncReport) -> int:
        """For every answer of the last 90 days that quoted a section this sync changed or
        removed, queue one DM to its asker (one per person and section). Returns how many."""
        touched = [(cid, "changed") for cid in report.updated_chunks] + [
            (cid, "removed") for cid in report.removed_chunks
        ]
        if not touched:
            return 0
        since = iso(datetime.now(UTC) - timedelta(days=NOTICE_WINDOW_DAYS))
        queued = 0
        with self.db.writing():
            for chunk_id, kind in touched:
                new = self.db.execute("SELECT text FROM chunks WHERE id = ?", [chunk_id]).fetchone()
                rows = self.db.execute(
                    "SELECT q.user, MAX(q.id) FROM answers a JOIN questions q ON q.id = a.question_id "
                    "WHERE a.chunk_id = ? AND q.asked_at >= ? AND q.user IS NOT NULL GROUP BY q.user",
                    [chunk_id, since],
                ).fetchall()
                for user, question_id in rows:
                    self.db["notices"].insert(
                        {
                            "user": user,
                            "question_id": question_id,
                            "chunk_id": chunk_id,
                            "kind": kind,
                            "new_text": new[0] if new else None,
                            "created_at": now(),
                        }
                    )
                    queued += 1
        return queued

    def pending_notices(self) -> list[Notice]:
        rows = self.db.query(
            "SELECT n.id, n.user, n.kind, n.new_text, n.chunk_id, q.question, c.title FROM notices n "
            "JOIN questions q ON q.id = n.question_id LEFT JOIN chunks c ON c.id = n.chunk_id "
            "WHERE n.sent_at IS NULL ORDER BY n.id"
        )
        return [
            Notice(
                r["id"], r["user"], r["question"], r["title"] or r["chunk_id"].split("#")[0], r["kind"], r["new_text"]
            )
            for r in rows
        ]

    def claim_notice(self, notice_id: int) -> str | None:
        """A claim on sending one notice (bot/claims.py): a token for finish_notice, or None when
        another process is sending it or it was sent already."""
        token = claims.claim(self.db, NOTICE, notice_id)
        sent = self.db.execute("SELECT sent_at FROM notices WHERE id = ?", [notice_id]).fetchone()
        if token is not None and (sent is None or sent[0]):  # sent by the claim's last holder
            self.finish_notice(notice_id, token, sent=False)
            return None
        return token

    def finish_notice(self, notice_id: int, token: str, sent: bool) -> None:
        """Release the claim, a sent notice marked sent first; one that failed is tried next round."""
        if sent:
            self.notice_sent(notice_id)
        with self.db.writing():
            claims.release(self.db, NOTICE, notice_id, token)

    def notice_sent(self, notice_id: int) -> None:
        with self.db.writing():
            self.db.execute("UPDATE notices SET sent_at = ? WHERE id = ?", [now(), notice_id])


def same_page(url: str) -> str:
    """A page's address as links to it vary: scheme, host case, a trailing slash, a query string."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # not a URL at all (an unbalanced "[" in the host)
        return url.strip()
    return f"{(parts.hostname or '').lower()}{parts.path.rstrip('/')}"


def slug(text: str, limit: int = 50) -> str:
    words = re.sub(r"[^a-z0-9]+", " ", text.lower()).split()
    return "-".join(words)[:limit].strip("-") or "entry"
