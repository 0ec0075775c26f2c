"""Buttons: 👍/👎, Ask the OSPO team, Share in channel, Resolve, Save as knowledge.
Buttons carry only ids; everything else is read from the database."""

from __future__ import annotations

import logging

from slack_bolt import App

from bot.approvals import parse_ref
from bot.config import Settings
from bot.helpdesk import HelpDesk
from bot.slack import blocks
from bot.slack.approvals import say

log = logging.getLogger(__name__)


def _id(body) -> int | None:
    """The id a button carries: a positive integer that fits SQLite, or None."""
    try:
        return parse_ref(str(body["actions"][0]["value"]))
    except (KeyError, IndexError, TypeError):
        return None


def _where(body) -> tuple[str | None, str | None]:
    """The channel and thread of the message the button is on (None for ephemeral messages)."""
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    if container.get("is_ephemeral"):
        return channel, None
    message = body.get("message") or {}
    return channel, message.get("thread_ts") or message.get("ts") or container.get("message_ts")


ONLY_OSPO = "Only the OSPO team (OSPO_APPROVERS) can do that."


def register(app: App, desk: HelpDesk, settings: Settings, approvals) -> None:
    def _escalation(body):
        """The escalation a Resolve / Save button names, or None."""
        escalation_id = _id(body)
        return desk.escalation(escalation_id) if escalation_id is not None else None

    def say_privately(client, body, text):
        say(client, _where(body)[0], body["user"]["id"], text)

    @app.action("feedback_up")
    def feedback_up(ack, body, client):
        ack()
        question_id = _id(body)
        if question_id is None or desk.question(question_id) is None:
            return
        desk.feedback(question_id, body["user"]["id"], 1)
        say_privately(client, body, blocks.feedback_thanks(1))

    @app.action("feedback_down")
    def feedback_down(ack, body, client):
        ack()
        question_id = _id(body)
        if question_id is None or desk.question(question_id) is None:
            return
        # The modal first: its trigger_id expires 3 seconds after the click.
        client.views_open(trigger_id=body["trigger_id"], view=blocks.feedback_reason_modal(question_id))
        desk.feedback(question_id, body["user"]["id"], -1)

    @app.action("escalate")
    def escalate(ack, body, client):
        ack()
        question_id = _id(body)
        if question_id is None or desk.question(question_id) is None:
            return
        user = body["user"]["id"]
        channel, thread_ts = _where(body)
        if not settings.triage_channel:
            say_privately(client, body, "The OSPO team has no triage channel set up yet; please ask in #ospo.")
            return
        escalation, new = desk.escalate(question_id, user, channel if thread_ts else user, thread_ts)
        if not new:
            say_privately(client, body, "This question is already with the OSPO team.")
            return
        guess = None
        if escalation.best_guess:
            row = desk.db.execute("SELECT title FROM documents WHERE path = ?", [escalation.best_guess]).fetchone()
            guess = row[0] if row else escalation.best_guess
        posted = client.chat_postMessage(
            channel=settings.triage_channel,
            text=blocks.triage_text(escalation),
            blocks=blocks.triage_blocks(escalation, guess),
        )
        desk.posted_to_triage(escalation.id, settings.triage_channel, posted["ts"])
        say_privately(client, body, "I've passed your question to the OSPO team. Their reply will come to you here.")

    @app.action("share")
    def share(ack, body, client, respond):
        ack()
        question_id = _id(body)
        channel, _ = _where(body)
        if question_id is None or not channel:
            return
        row = desk.question(question_id)
        if row is None or row["user"] != body["user"]["id"]:
            return  # only the asker shares their own answer
        reply = desk.ask(row["question"], user=row["user"], channel=channel, source="slack-share")
        posted = client.chat_postMessage(
            channel=channel, text=blocks.answer_text(reply), blocks=blocks.answer_blocks(reply)
        )
        desk.delivered(reply.question_id, channel, posted["ts"])
        respond(delete_original=True)

    @app.action("resolve")
    def resolve(ack, body, client):
        ack()
        escalation = _escalation(body)
        if escalation is None:
            return
        user = body["user"]["id"]
        if user != escalation.asker and not approvals.is_ospo(user, client):
            say_privately(client, body, ONLY_OSPO)
            return
        if not desk.resolve(escalation.id, user):
            return  # already resolved: a second click changes nothing
        if escalation.triage_channel and escalation.triage_ts:
            client.chat_update(
                channel=escalation.triage_channel,
                ts=escalation.triage_ts,
                text="Resolved",
                blocks=blocks.resolved_blocks(escalation, user),
            )
        client.chat_postMessage(
            channel=escalation.channel or escalation.asker,
            thread_ts=escalation.thread_ts,
            text="The OSPO team marked your question as resolved. 👍 Thanks for asking!",
        )

    @app.action("save_knowledge")
    def save_knowledge(ack, body, client):
        ack()
        escalation = _escalation(body)
        if escalation is None:
            return
        user = body["user"]["id"]
        if not approvals.is_ospo(user, client):
            say_privately(client, body, ONLY_OSPO)
            return
        try:
            path = desk.save_as_knowledge(escalation.id, user)
        except ValueError as error:
            say_privately(client, body, f"Not saved: {error}.")
            return
        client.chat_postMessage(
            channel=escalation.triage_channel,
            thread_ts=escalation.triage_ts,
            text=f"Saved as {path}",
            blocks=blocks.saved_blocks(path, user),
        )

    @app.action("digest_answer")
    def digest_answer(ack, body, client):
        """ "Answer & save to knowledge base" on a question the digest lists as unanswered."""
        ack()
        question = desk.question(_id(body) or 0)
        if question is None:
            return
        if not approvals.is_ospo(body["user"]["id"], client):
            say_privately(client, body, ONLY_OSPO)
            return
        client.views_open(
            trigger_id=body["trigger_id"], view=blocks.digest_answer_modal(question["id"], question["question"])
        )
