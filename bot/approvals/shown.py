"""Where a request may be shown, and where it has been: besides the approvals channel, a card the
bot posts where someone names OSPO-42, or the unfurl of a link to it.

Who may see a request: its requester, the OSPO team, and the channels it was already shown in. A
conversation that is one person's DM with the bot is theirs alone, so a request is shown there to
its requester or an approver; the approvals channel is the OSPO team's; anywhere else, only where it
already is. Every place it was shown is
refreshed when it changes (a decision, a cancellation), so no stale "pending" is left behind.

    shown = Shown(core.database.get, team_channel="C0APPROVALS")
    shown.may_see(request, "C0TEAM", viewer="U0ME", private=False, approvers=core.approvers.resolve())
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from bot.approvals.records import Request
from bot.store import now

KEEP = 50  # places remembered per request (refreshed on change); the oldest are forgotten


@dataclass(frozen=True)
class Showing:
    """One place a request is shown: a card (a message of the bot) or an unfurl (of a link at url)."""

    channel: str
    ts: str
    kind: str  # card, unfurl
    url: str | None = None
    thread_ts: str | None = None


class Shown:
    def __init__(self, db: Callable, team_channel: str | None = None):
        """team_channel: the OSPO team's channel (OSPO_APPROVALS_CHANNEL), where every request may be shown."""
        self._db = db
        self.team_channel = team_channel

    @property
    def db(self):
        return self._db()

    def may_see(
        self, request: Request, channel: str | None, *, viewer: str | None, private: bool, approvers: Collection[str]
    ) -> bool:
        """private: `channel` is the viewer's own DM with the bot."""
        if private:
            return viewer is not None and (viewer == request.requester or viewer in approvers)
        if channel is None:
            return False
        return channel == self.team_channel or channel in self.channels(request.id)

    def channels(self, request_id: int) -> set[str]:
        rows = self.db.execute(
            "SELECT channel FROM approval_messages WHERE request_id = ? "
            "UNION SELECT channel FROM request_shown WHERE request_id = ?",
            [request_id, request_id],
        ).fetchall()
        return {row[0] for row in rows}

    def in_thread(self, request_id: int, channel: str, thread_ts: str) -> bool:
        """Whether the request is already in this thread: a card there, or the approvals message it is."""
        return bool(
            self.db.execute(
                "SELECT 1 FROM request_shown WHERE request_id = ? AND channel = ? AND (thread_ts = ? OR ts = ?) "
                "UNION SELECT 1 FROM approval_messages WHERE request_id = ? AND channel = ? AND ts = ?",
                [request_id, channel, thread_ts, thread_ts, request_id, channel, thread_ts],
            ).fetchone()
        )

    def record(self, request_id: int, showing: Showing) -> None:
        with self.db.writing():
            self.db.execute(
                "INSERT INTO request_shown (request_id, channel, ts, thread_ts, kind, url, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (request_id, channel, ts) DO UPDATE SET url = excluded.url",
                [request_id, showing.channel, showing.ts, showing.thread_ts, showing.kind, showing.url, now()],
            )
            self.db.execute(
                "DELETE FROM request_shown WHERE request_id = ? AND ts NOT IN "
                "(SELECT ts FROM request_shown WHERE request_id = ? ORDER BY at DESC, ts DESC LIMIT ?)",
                [request_id, request_id, KEEP],
            )

    def places(self, request_id: int) -> list[Showing]:
        """Where the request was shown (besides the approvals channel), newest first."""
        rows = self.db.execute(
            "SELECT channel, ts, kind, url, thread_ts FROM request_shown WHERE request_id = ? "
            "ORDER BY at DESC, ts DESC",
            [request_id],
        ).fetchall()
        return [Showing(*row) for row in rows]
