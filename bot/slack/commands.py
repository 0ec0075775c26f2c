"""`/ospo` and its subcommands. Every path acks at once; answers follow via response_url."""

from __future__ import annotations

from slack_bolt import App

from bot.config import Settings
from bot.helpdesk import HelpDesk
from bot.slack import blocks

APPROVALS = {"approve", "status", "cancel"}


def register(app: App, desk: HelpDesk, settings: Settings, approvals) -> None:
    @app.command("/ospo")
    def ospo(ack, command, respond, client):
        ack()  # within Slack's 3 seconds, before any slow work
        text = " ".join((command.get("text") or "").split())
        word, _, rest = text.partition(" ")
        word = word.lower()
        if word in ("", "help"):
            respond(response_type="ephemeral", text="What ospo-bot can do", blocks=blocks.help_blocks())
        elif word in APPROVALS:
            approvals.command(word, rest, command, client, respond)
        else:
            question = rest if word == "ask" else text
            if not question.strip():
                respond(response_type="ephemeral", text="Usage: `/ospo ask <your question>`")
                return
            reply = desk.ask(question, user=command["user_id"], channel=command.get("channel_id"), source="slack")
            respond(
                response_type="ephemeral",
                text=blocks.answer_text(reply),
                blocks=blocks.answer_blocks(reply, private=True),
            )
