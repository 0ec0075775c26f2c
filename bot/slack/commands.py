"""`/ospo` and its subcommands. Every path acks at once; answers follow via response_url."""

from __future__ import annotations

from slack_bolt import App

from bot.batching import Busy
from bot.slack import approvals, deps, ids
from bot.slack.blocks.answers import answer_blocks, answer_text, busy_text, help_blocks
from bot.slack.mrkdwn import to_plain
from bot.wiring import Core


def register(app: App) -> None:
    app.command(ids.COMMAND)(ospo)


def ospo(ack, command, respond, client, core: Core):
    ack()  # within Slack's 3 seconds, before any slow work
    text = " ".join(to_plain(command.get("text") or "").split())  # with "escape links" on, Slack sends markup
    word, _, rest = text.partition(" ")
    word = word.lower()
    if word in ("", "help"):
        respond(response_type="ephemeral", text="What ospo-bot can do", blocks=help_blocks())
    elif word == "approve":
        approvals.open_form(client, command["trigger_id"], {"repository_url": rest.split()[0]} if rest else {})
    elif word == "status":
        approvals.status(client, core, command["user_id"], rest, respond)
    elif word == "check":
        deps.check_command(client, core, command["user_id"], rest, respond)
    elif word == "cancel":
        approvals.cancel(client, core, command["user_id"], rest, respond)
    else:
        question = rest if word == "ask" else text
        if not question.strip():
            respond(response_type="ephemeral", text="Usage: `/ospo ask <your question>`")
            return
        try:
            with core.desk.answering():
                user, channel = command["user_id"], command.get("channel_id")
                reply = core.desk.ask(question, user=user, channel=channel, source="slack")
                respond(response_type="ephemeral", text=answer_text(reply), blocks=answer_blocks(reply, private=True))
        except Busy:
            respond(response_type="ephemeral", text=busy_text())
