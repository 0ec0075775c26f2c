"""Threads of Slack's assistant pane: the person who opened each, the channel they were viewing when
they did (Slack calls it the thread's context, and tells when it changes), and whether the thread
has its title yet. Plain SQL; the Slack adapter (bot/slack/assistant.py) calls it.

    threads = AssistantThreads(core.database.get)
    threads.start("D0123", "1726133698.626339", "U0123", {"channel_id": "C0456"})
    threads.known("D0123", "1726133698.626339")  # True: answer with the pane's status and title
"""

from __future__ import annotations

import json
from collections.abc import Callable

from bot.store import now


class AssistantThreads:
    def __init__(self, db: Callable):
        self._db = db

    @property
    def db(self):
        return self._db()

    def start(self, channel: str, thread_ts: str, user: str | None, context: dict | None) -> None:
        """A thread was opened (assistant_thread_started); starting it again keeps its title."""
        with self.db.writing():
            self.db.execute(
                "INSERT INTO assistant_threads (channel, thread_ts, user, context, started_at, titled) "
                "VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (channel, thread_ts) DO UPDATE SET context = excluded.context",
                [channel, thread_ts, user, json.dumps(context or {}), now()],
            )

    def known(self, channel: str, thread_ts: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM assistant_threads WHERE channel = ? AND thread_ts = ?", [channel, thread_ts]
        ).fetchone()
        return row is not None

    def context(self, channel: str, thread_ts: str) -> dict | None:
        """What the person was viewing: {"channel_id", "team_id", ...} as Slack sent it, or None."""
        row = self.db.execute(
            "SELECT context FROM assistant_threads WHERE channel = ? AND thread_ts = ?", [channel, thread_ts]
        ).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def save_context(self, channel: str, thread_ts: str, context: dict, user: str | None = None) -> None:
        """The person moved to another channel with the pane open (assistant_thread_context_changed)."""
        self.start(channel, thread_ts, user, context)

    def claim_title(self, channel: str, thread_ts: str) -> bool:
        """True once per thread: its first question becomes its title."""
        with self.db.writing():
            return (
                self.db.execute(
                    "UPDATE assistant_threads SET titled = 1 WHERE channel = ? AND thread_ts = ? AND titled = 0",
                    [channel, thread_ts],
                ).rowcount
                == 1
            )
