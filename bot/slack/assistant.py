"""Slack's assistant pane (Agents & AI apps), through slack-bolt's Assistant middleware.

ospo-bot is a help desk, not a language model: in the pane it answers exactly as in a DM (the
handbook quoted, the license verdict, 👍 / 👎 / Ask the OSPO team), with the pane's own touches:
a greeting and suggested prompts when a thread opens (the handbook sections people ask about most,
bot.helpdesk.popular_topics; DEFAULT_PROMPTS until there are any), "is searching the OSPO
handbook…" while it works, and the thread titled with its first question. The channel the person
is viewing (the thread's context) is kept for the thread; answers come from the handbook only.

Where a workspace has no assistant pane, DMs arrive as plain `message.im` events and events.py
answers them as before. The middleware also receives replies in threads of an ordinary DM; a
thread the pane did not open is handed back to events.py.
"""

from __future__ import annotations

import logging

from slack_bolt import App, Assistant
from slack_sdk.errors import SlackApiError

from bot.slack import events
from bot.slack.blocks.answers import assistant_greeting, suggested_prompts
from bot.slack.blocks.kit import fit
from bot.slack.client import failure
from bot.slack.conversation import question_text
from bot.wiring import Core

log = logging.getLogger(__name__)
MAX_TITLE = 80  # a thread title Slack shows in the pane's history


def register(app: App) -> None:
    assistant = Assistant()
    assistant.thread_started(thread_started)
    assistant.thread_context_changed(context_changed)
    assistant.user_message(user_message)
    app.assistant(assistant)


def thread_started(event, client, set_suggested_prompts, core: Core):
    """A greeting, and prompts drawn from what people ask most."""
    thread = event["assistant_thread"]
    channel, thread_ts = thread["channel_id"], thread["thread_ts"]
    core.threads.start(channel, thread_ts, thread.get("user_id"), thread.get("context"))
    client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=assistant_greeting())
    prompts = suggested_prompts(core.desk.popular_topics())
    try:
        set_suggested_prompts(prompts=prompts, title="People often ask")
    except (SlackApiError, OSError) as error:  # the greeting says what to ask anyway
        log.warning("suggested prompts not set in %s: %s", channel, failure(error))


def context_changed(event, core: Core):
    """The person moved to another channel with the pane open: remembered for the thread."""
    thread = event["assistant_thread"]
    core.threads.save_context(
        thread["channel_id"], thread["thread_ts"], thread.get("context") or {}, thread.get("user_id")
    )


def user_message(event, client, context, set_status, set_title, core: Core):
    """A question in a thread of the pane: answered as in a DM, with the pane's status and title."""
    channel, thread_ts = event.get("channel"), event.get("thread_ts")
    if not core.threads.known(channel, thread_ts):
        events.on_message(event, client, context, core)  # a thread of an ordinary DM
        return
    question = question_text(event.get("text"), context.bot_user_id)
    if question and core.threads.claim_title(channel, thread_ts):
        try:
            set_title(fit(question, MAX_TITLE))
        except (SlackApiError, OSError) as error:
            log.info("thread title not set in %s: %s", channel, failure(error))
    if event.get("subtype") == "file_share":
        events.on_file_share(event, client, context, core, status=set_status)
    elif not events.ignored_because(event):
        events.answer_message(event, client, context, core, status=set_status)
