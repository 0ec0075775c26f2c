"""Answering a question somewhere in Slack: shared by events, commands and actions."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.batching import Busy
from bot.helpdesk import HelpDesk, Reply
from bot.slack.blocks.answers import answer_blocks, answer_text, busy_text

log = logging.getLogger(__name__)

WORKING = "eyes"  # the reaction that shows the bot is on it
SEARCHING = "is searching the OSPO handbook…"  # the assistant pane's status while it works
MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
EMPTY_HELP = (
    "Ask me an open-source question, e.g. “can I fix a typo in an Apache-2.0 project?” Type `/ospo help` for more."
)


def question_text(text: str | None, bot_user: str | None = None) -> str:
    """The question without the bot's own mention (other mentions stay, as text)."""
    text = text or ""
    if bot_user:
        text = re.sub(rf"<@{bot_user}(?:\|[^>]*)?>", " ", text)
    return " ".join(text.split())


def answer_in(
    client: WebClient,
    desk: HelpDesk,
    *,
    question: str,
    user: str,
    channel: str,
    thread_ts: str | None,
    message_ts: str | None,
    note: str | None = None,
    status: Callable[..., object] | None = None,
) -> Reply | None:
    """Answer a message: a reaction while working, the answer in the thread (or DM), recorded.
    note: a line under the answer (e.g. that attached files were not read). status: in the assistant
    pane, its set_status, shown instead of the reaction (Slack clears it when the answer is posted)."""
    if not question_text(question):
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=EMPTY_HELP)
        return None
    if status:
        show_status(status, SEARCHING)
    elif message_ts:
        react(client, "reactions_add", channel, message_ts)
    try:
        try:
            reply = desk.ask(question, user=user, channel=channel, source="slack")
        except Busy:  # overload: said where the answer would have been, so they know to ask again
            log.info("busy: told %s in %s to ask again", user, channel)
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=busy_text())
            return None
        if thread_ts:  # before posting: a follow-up may arrive the moment the answer is seen
            desk.remember_thread(channel, thread_ts)
        posted = client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text=answer_text(reply),
            blocks=answer_blocks(reply, note=note),
            unfurl_links=False,
            unfurl_media=False,
        )
        desk.delivered(reply.question_id, channel, posted["ts"])
        if not thread_ts:
            desk.remember_thread(channel, posted["ts"])
        return reply
    except BaseException:
        if status:  # else the pane says "searching" until Slack gives up on it
            show_status(status, "")
        raise
    finally:
        if message_ts and not status:
            react(client, "reactions_remove", channel, message_ts)


def show_status(set_status: Callable[..., object], text: str) -> None:
    """Best effort, as the reaction: the status must never cost the user the answer."""
    try:
        set_status(text)
    except SlackApiError as error:
        log.info("assistant status not set: %s", error.response.get("error"))
    except OSError as error:
        log.info("assistant status not set: %s", type(error).__name__)


def react(client: WebClient, method: str, channel: str, ts: str) -> None:
    """Best effort: a missing reaction must never cost the user the answer."""
    try:
        getattr(client, method)(channel=channel, timestamp=ts, name=WORKING)
    except SlackApiError as error:
        log.info("%s on %s failed: %s", method, channel, error.response.get("error"))
    except OSError as error:  # a timeout or a connection error: no reaction, still the answer
        log.info("%s on %s failed: %s", method, channel, type(error).__name__)
