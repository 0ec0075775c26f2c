"""Modals: the optional reason behind a 👎."""

from __future__ import annotations

from slack_bolt import App

from bot.approvals import parse_ref
from bot.config import Settings
from bot.helpdesk import HelpDesk
from bot.slack import blocks


def register(app: App, desk: HelpDesk, settings: Settings, approvals) -> None:
    @app.view("feedback_reason")
    def feedback_reason(ack, body, view):
        ack()
        question_id = parse_ref(view.get("private_metadata"))
        if question_id is None:
            return
        reason = (((view.get("state") or {}).get("values") or {}).get("reason") or {}).get("text", {}).get("value")
        if desk.question(question_id) is not None:
            desk.feedback(question_id, body["user"]["id"], -1, reason or "")

    @app.view("digest_answer")
    def digest_answer(ack, body, view, client):
        """Save the OSPO's answer as knowledge and send it to whoever asked."""
        text = (((view.get("state") or {}).get("values") or {}).get("answer") or {}).get("text", {}).get("value")
        question_id = parse_ref(view.get("private_metadata"))
        if question_id is None:
            ack()
            return
        question = desk.question(question_id)
        if not approvals.is_ospo(body["user"]["id"], client):
            ack(response_action="errors", errors={"answer": "Only the OSPO team (OSPO_APPROVERS) can save answers."})
            return
        if question is None or not (text or "").strip():
            ack(response_action="errors", errors={"answer": "Write the answer to save."})
            return
        ack()
        user = body["user"]["id"]
        asker = question["user"] or user
        escalation, _ = desk.escalate(question_id, asker, asker, None)
        desk.record_reply(escalation.id, text, user)
        path = desk.save_as_knowledge(escalation.id, user)
        desk.resolve(escalation.id, user)
        if question["user"]:
            client.chat_postMessage(
                channel=question["user"],
                text=f"The OSPO team answered: {blocks.escape(text[:2000])}",
                blocks=blocks.relay_blocks(text, user),
            )
        client.chat_postMessage(channel=user, text=f"Saved as {path}", blocks=blocks.saved_blocks(path, user))
