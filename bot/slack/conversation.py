"""Answering a question somewhere in Slack: shared by events, commands and actions."""

from __future__ import annotations

import heapq
import itertools
import logging
import re
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.batching import Busy
from bot.helpdesk import HelpDesk, Reply
from bot.slack.blocks.answers import answer_blocks, answer_text, busy_text
from bot.slack.mrkdwn import to_plain

log = logging.getLogger(__name__)

WORKING = "eyes"  # the reaction that shows the bot is on it
SEARCHING = "is searching the OSPO handbook…"  # the assistant pane's status while it works
MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
EMPTY_HELP = (
    "Ask me an open-source question, e.g. “can I fix a typo in an Apache-2.0 project?” Type `/ospo help` for more."
)


def question_text(text: str | None, bot_user: str | None = None) -> str:
    """The question as its asker reads it (bot/slack/mrkdwn.py: to_plain), without the bot's own
    mention (other mentions stay, as "@name" text)."""
    text = text or ""
    if bot_user:
        text = re.sub(rf"<@{bot_user}(?:\|[^>]*)?>", " ", text)
    return " ".join(to_plain(text).split())


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
    react_after: float = 0.0,
) -> Reply | None:
    """Answer a message: the answer in the thread (or DM), recorded, and a reaction on the message
    while working once that takes `react_after` seconds (OSPO_WORKING_REACTION_MS).
    note: a line under the answer (e.g. that attached files were not read). status: in the assistant
    pane, its set_status, shown at once instead of the reaction (Slack clears it when the answer is posted)."""
    if not question_text(question):
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=EMPTY_HELP)
        return None
    working = None
    if status:
        show_status(status, SEARCHING)
    elif message_ts:
        working = Working(client, channel, message_ts, after=react_after)
    try:
        try:
            with desk.answering():
                reply = desk.ask(question, user=user, channel=channel, source="slack")
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
                desk.delivered(reply.question_id, channel, posted["ts"], new_thread=not thread_ts)
                return reply
        except Busy:  # overload: said where the answer would have been, so they know to ask again
            log.info("busy: told %s in %s to ask again", user, channel)
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=busy_text())
            return None
    except BaseException:
        if status:  # else the pane says "searching" until Slack gives up on it
            show_status(status, "")
        raise
    finally:
        if working:
            working.end()


class Later:
    """Calls made after a delay, all on one thread: a threading.Timer per answer would be a thread per
    answer, hundreds of them asleep at once under load. A call due while another runs waits for it."""

    def __init__(self):
        self._due: list[tuple[float, int, Callable[[], object]]] = []  # a heap: soonest first
        self._changed = threading.Condition()
        self._order = itertools.count()  # ties in time keep their order (and never compare functions)
        self._thread: threading.Thread | None = None

    def call(self, delay: float, function: Callable[[], object]) -> None:
        with self._changed:
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._order), function))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ospo-later", daemon=True)
                self._thread.start()
            self._changed.notify()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._changed.wait(self._due[0][0] - time.monotonic() if self._due else None)
                _, _, function = heapq.heappop(self._due)
            try:
                function()
            except Exception:  # one failed call must not stop the ones after it
                log.exception("a delayed call failed")


LATER = Later()


class Working:
    """The 👀 reaction on a message while the bot answers it, added only once the answer has taken
    `after` seconds (0: at once), and taken off at the end if it was added."""

    def __init__(self, client: WebClient, channel: str, ts: str, after: float):
        self.client, self.channel, self.ts = client, channel, ts
        self._lock = threading.Lock()  # held while adding: the end waits for an add under way
        self._ended = self._shown = False
        if after <= 0:
            self._show()
        else:
            LATER.call(after, self._show)  # a no-op by then if the answer was quicker

    def _show(self) -> None:
        with self._lock:
            if not self._ended:
                react(self.client, "reactions_add", self.channel, self.ts)
                self._shown = True

    def end(self) -> None:
        with self._lock:
            self._ended = True
            if self._shown:
                react(self.client, "reactions_remove", self.channel, self.ts)


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
