"""`/ospo` and its subcommands. Every path acks at once; answers follow via response_url."""

from __future__ import annotations

from slack_bolt import App

from bot.config import Settings
from bot.helpdesk import HelpDesk
from bot.slack import blocks

COMING = {"approve": "Approval requests", "status": "Request status", "cancel": "Cancelling requests"}


def register(app: App, desk: HelpDesk, settings: Settings) -> None:
    @app.command("/ospo")
    def ospo(ack, command, respond):
        ack()  # within Slack's 3 seconds, before any slow work
        text = " ".join((command.get("text") or "").split())
        word, _, rest = text.partition(" ")
        word = word.lower()
        if word in ("", "help"):
            respond(response_type="ephemeral", text="What ospo-bot can do", blocks=blocks.help_blocks())
        elif word in COMING:
            respond(
                response_type="ephemeral",
                text=f"{COMING[word]} are coming soon. Until then, email ospo@example.com or ask in #ospo.",
            )
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
