"""Messages: DMs, @mentions, follow-ups in the bot's threads, help channels, messages with files,
and the OSPO team's replies in triage threads (relayed to the asker).

Every message event is either answered or ignored for a reason named in IGNORED (README, "Which
messages are answered"); Slack's message subtypes are listed at
https://docs.slack.dev/reference/events/message#subtypes.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient

from bot.approvals import find_refs
from bot.slack import deps, unfurls
from bot.slack.blocks.answers import FILES_NOT_READ, FILES_ONLY
from bot.slack.blocks.triage import relay_blocks, relay_text, relayed_blocks
from bot.slack.conversation import answer_in, question_text
from bot.wiring import Core

log = logging.getLogger(__name__)

# Subtypes that are a person writing, answered like a plain message (subtype None).
ANSWERED = {
    "file_share": "a message with files: its words are the question (on_file_share)",
    "thread_broadcast": "a thread reply also sent to the channel: answered in the thread, as without the tick",
    "me_message": "/me text: still a person writing",
}
# Subtypes that are not someone asking something, and why they get no answer.
IGNORED = {
    "message_changed": "an edit: the message was answered when it was first posted",
    "message_deleted": "a deletion",
    "message_replied": "Slack's notice that a thread has a new reply; the reply comes as its own event",
    "bot_message": "another app's message: bots do not ask the help desk",
    "channel_join": "a join notice",
    "group_join": "a join notice",
    "channel_leave": "a leave notice",
    "group_leave": "a leave notice",
    "channel_topic": "a topic change",
    "group_topic": "a topic change",
    "channel_purpose": "a description change",
    "group_purpose": "a description change",
    "channel_name": "a rename",
    "group_name": "a rename",
    "channel_archive": "an archive notice",
    "group_archive": "an archive notice",
    "channel_unarchive": "an unarchive notice",
    "group_unarchive": "an unarchive notice",
    "channel_convert_to_private": "a channel made private",
    "channel_convert_to_public": "a channel made public",
    "channel_posting_permissions": "a change of who may post",
    "pinned_item": "a pin",
    "unpinned_item": "an unpin",
    "reminder_add": "a reminder set with /remind",
    "ekm_access_denied": "a message hidden by Enterprise Key Management: there is nothing to read",
    "huddle_thread": "a huddle's notice",
    "channel_canvas_updated": "a canvas edit",
    "assistant_app_thread": "the root of an assistant-pane thread, written by Slack",
}


def register(app: App) -> None:
    app.event("app_mention")(on_mention)
    app.event("message")(on_message)


def ignored_because(event: dict) -> str | None:
    """Why a message event gets no answer, or None when it is a person writing."""
    subtype = event.get("subtype")
    if event.get("bot_id"):
        return IGNORED["bot_message"]
    if subtype is None or subtype in ANSWERED:
        return None
    return IGNORED.get(subtype, f"subtype {subtype}: not a message a person writes")


def on_mention(event, client, context, core: Core):
    if ignored_because(event):
        return
    thread_ts = event.get("thread_ts") or event["ts"]
    refs = find_refs(event.get("text"))
    if refs and unfurls.show_requests(client, core, event, refs, thread_ts):
        return  # a question about requests: their cards, not the handbook
    words = question_text(event.get("text"), context.bot_user_id)
    if event.get("files") and files_answered(event, client, core, words, thread_ts):
        return
    answer_in(
        client,
        core.desk,
        question=words,
        user=event["user"],
        channel=event["channel"],
        thread_ts=thread_ts,
        message_ts=event["ts"],
        note=FILES_NOT_READ if event.get("files") else None,
        react_after=core.settings.working_reaction_ms / 1000,
    )


def on_message(event, client, context, core: Core):
    why = ignored_because(event)
    if why:
        log.debug("message %s in %s ignored: %s", event.get("ts"), event.get("channel"), why)
        return
    if event.get("subtype") == "file_share":
        on_file_share(event, client, context, core)
        return
    answer_message(event, client, context, core)


def on_file_share(event, client, context, core: Core, status=None):
    """A message with files (a LICENSE, a lockfile, a screenshot), wherever the bot would answer its
    words, in a DM, a channel or the assistant pane (status: the pane's set_status). Its words are the
    question, answered as usual with a note that files are not read; a file alone gets FILES_ONLY.
    SBOMs and lockfiles are checked first (bot/slack/deps.py): their check is the answer."""
    words = question_text(event.get("text"), context.bot_user_id)
    thread_ts = thread_to_answer(event, context, core)
    if thread_ts is not None and files_answered(event, client, core, words, thread_ts):
        return
    if words:
        answer_message(event, client, context, core, note=FILES_NOT_READ, status=status)


def files_answered(event: dict, client: WebClient, core: Core, words: str, thread_ts: str) -> bool:
    """Whether a message's files are its whole answer: SBOMs and lockfiles checked (bot/slack/deps.py),
    or, with no words, each file told what the bot reads (FILES_ONLY when none could be fetched).
    False when it has words and no file was an SBOM: the words are answered, with FILES_NOT_READ."""
    if deps.on_file_share(event, client, core, say_not_sbom=not words):
        return True
    if words:
        return False
    client.chat_postMessage(channel=event["channel"], thread_ts=thread_ts or None, text=FILES_ONLY)
    return True


def thread_to_answer(event: dict, context, core: Core) -> str | None:
    """Where a message addressed to the bot is answered: its thread's ts ("" for the DM itself), or None
    when it is not addressed to the bot (a channel it only reads, or a mention, which app_mention answers)."""
    channel, thread_ts = event.get("channel"), event.get("thread_ts")
    if event.get("channel_type") == "im":
        return thread_ts or ""
    if mentions_bot(event.get("text"), context):
        return None  # app_mention answers it
    if thread_ts and channel != core.settings.triage_channel and core.desk.is_bot_thread(channel, thread_ts):
        return thread_ts
    if not thread_ts and channel in core.settings.help_channel_ids:
        return event["ts"]
    return None


def mentions_bot(text: str | None, context) -> bool:
    return bool(context.bot_user_id and f"<@{context.bot_user_id}" in (text or ""))


def answer_message(event, client, context, core: Core, note: str | None = None, status=None):
    """status: in the assistant pane, its set_status (shown instead of the 👀 reaction)."""
    user, channel, text = event.get("user"), event.get("channel"), event.get("text") or ""
    if not user or not channel or user == context.bot_user_id:
        return
    if event.get("channel_type") != "im" and mentions_bot(text, context):
        return  # app_mention answers it
    if event.get("thread_ts") and channel == core.settings.triage_channel:
        relay_reply(client, core, channel, event["thread_ts"], text, user)
        return
    thread_ts = thread_to_answer(event, context, core)
    refs = find_refs(text)
    if refs and unfurls.show_requests(client, core, event, refs, thread_ts):
        return  # a message about requests: their cards, not the handbook
    if thread_ts is None:
        return
    answer_in(
        client,
        core.desk,
        question=question_text(text, context.bot_user_id),
        user=user,
        channel=channel,
        thread_ts=thread_ts or None,
        message_ts=event["ts"],
        note=note,
        status=status,
        react_after=core.settings.working_reaction_ms / 1000,
    )


def relay_reply(client: WebClient, core: Core, channel: str, thread_ts: str, text: str, user: str) -> None:
    """An OSPO member replied under a triage post: send it to the asker, offer save/resolve."""
    escalation = core.desk.escalation(triage=(channel, thread_ts))
    if escalation is None or not text.strip():
        return
    core.desk.record_reply(escalation.id, text, user)
    client.chat_postMessage(
        channel=escalation.channel or escalation.asker,
        thread_ts=escalation.thread_ts,
        text=relay_text(text),
        blocks=relay_blocks(text, user),
    )
    client.chat_postMessage(
        channel=channel, thread_ts=thread_ts, text="Sent to the asker.", blocks=relayed_blocks(escalation)
    )
