"""Messages: DMs, @mentions, follow-ups in the bot's threads, help channels, and the OSPO team's
replies in triage threads (relayed to the asker). Files shared with the bot go to bot/slack/deps.py,
which checks SBOMs and lockfiles."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack import deps
from bot.slack.blocks.triage import relay_blocks, relay_text, relayed_blocks
from bot.slack.conversation import answer_in, question_text
from bot.wiring import Core

# Message subtypes that are not someone asking something: edits, deletions, joins, bots...
IGNORED_SUBTYPES = {
    "message_changed",
    "message_deleted",
    "channel_join",
    "channel_leave",
    "bot_message",
    "group_join",
    "group_leave",
    "channel_topic",
    "channel_purpose",
    "channel_name",
    "thread_broadcast",
    "message_replied",
    "pinned_item",
    "unpinned_item",
    "ekm_access_denied",
}


def register(app: App) -> None:
    app.event("app_mention")(on_mention)
    app.event("message")(on_message)


def on_mention(event, client, context, core: Core):
    if event.get("bot_id") or event.get("subtype"):
        return
    if event.get("files"):
        deps.on_file_share(event, client, core)
        return
    answer_in(
        client,
        core.desk,
        question=question_text(event.get("text"), context.bot_user_id),
        user=event["user"],
        channel=event["channel"],
        thread_ts=event.get("thread_ts") or event["ts"],
        message_ts=event["ts"],
    )


def on_message(event, client, context, core: Core):
    if event.get("subtype") == "file_share" and not event.get("bot_id"):
        if addressed_to_bot(event, context, core):
            deps.on_file_share(event, client, core)
        return
    if event.get("bot_id") or event.get("subtype") in IGNORED_SUBTYPES or event.get("subtype"):
        return
    user, channel, text = event.get("user"), event.get("channel"), event.get("text") or ""
    if not user or not channel or user == context.bot_user_id:
        return
    thread_ts, settings = event.get("thread_ts"), core.settings
    if event.get("channel_type") == "im":
        answer_in(
            client, core.desk, question=text, user=user, channel=channel, thread_ts=thread_ts, message_ts=event["ts"]
        )
        return
    if context.bot_user_id and f"<@{context.bot_user_id}" in text:
        return  # app_mention answers it
    if thread_ts and channel == settings.triage_channel:
        relay_reply(client, core, channel, thread_ts, text, user)
        return
    if thread_ts and core.desk.is_bot_thread(channel, thread_ts):
        answer_in(
            client, core.desk, question=text, user=user, channel=channel, thread_ts=thread_ts, message_ts=event["ts"]
        )
        return
    if not thread_ts and channel in settings.help_channel_ids:
        answer_in(
            client, core.desk, question=text, user=user, channel=channel, thread_ts=event["ts"], message_ts=event["ts"]
        )


def addressed_to_bot(event: dict, context, core: Core) -> bool:
    """A message the bot answers: in a DM, in its thread, or at the top of a help channel (a mention
    is app_mention's, and a triage thread's replies are the OSPO's)."""
    channel, thread_ts = event.get("channel"), event.get("thread_ts")
    if not event.get("user") or event.get("user") == context.bot_user_id:
        return False
    if event.get("channel_type") == "im":
        return True
    if context.bot_user_id and f"<@{context.bot_user_id}" in (event.get("text") or ""):
        return False
    if thread_ts:
        return channel != core.settings.triage_channel and core.desk.is_bot_thread(channel, thread_ts)
    return channel in core.settings.help_channel_ids


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
