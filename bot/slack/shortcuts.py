"""Shortcuts: "Ask the OSPO about this" on any message (its text becomes the question, answered
privately with Share in channel) and "Request OSPO approval" from the shortcuts menu (the same
form as /ospo approve)."""

from __future__ import annotations

from slack_bolt import App

from bot.slack import approvals, ids
from bot.slack.blocks.answers import answer_blocks, answer_text
from bot.slack.conversation import question_text
from bot.wiring import Core

NO_WORDS = (
    "That message has no words for me to ask about (only files or pictures). Ask me in words instead: "
    "`/ospo ask <your question>`."
)


def register(app: App) -> None:
    app.shortcut(ids.ASK_SHORTCUT)(ask_about_message)
    app.shortcut(ids.APPROVAL_SHORTCUT)(request_approval)


def ask_about_message(ack, shortcut, respond, context, core: Core):
    """The message's words are the question of whoever ran the shortcut; only they see the answer
    (through the response_url, which works in channels the bot is not in), with Share in channel."""
    ack()
    question = question_text((shortcut.get("message") or {}).get("text"), context.bot_user_id)
    if not question:
        respond(response_type="ephemeral", text=NO_WORDS)
        return
    user, channel = shortcut["user"]["id"], (shortcut.get("channel") or {}).get("id")
    with core.desk.answering():  # Busy beyond the bound: the app's error handler says so
        reply = core.desk.ask(question, user=user, channel=channel, source="slack-shortcut")
        respond(response_type="ephemeral", text=answer_text(reply), blocks=answer_blocks(reply, private=True))


def request_approval(ack, shortcut, client):
    ack()
    approvals.open_form(client, shortcut["trigger_id"], {})
