"""Modals: the optional reason behind a 👎."""

from __future__ import annotations

from slack_bolt import App

from bot.config import Settings
from bot.helpdesk import HelpDesk


def register(app: App, desk: HelpDesk, settings: Settings) -> None:
    @app.view("feedback_reason")
    def feedback_reason(ack, body, view):
        ack()
        try:
            question_id = int(view.get("private_metadata") or "")
        except ValueError:
            return
        reason = (((view.get("state") or {}).get("values") or {}).get("reason") or {}).get("text", {}).get("value")
        if desk.question(question_id) is not None:
            desk.feedback(question_id, body["user"]["id"], -1, reason or "")
