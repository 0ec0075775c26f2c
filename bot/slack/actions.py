"""Help-desk buttons: 👍/👎, Ask the OSPO team, Share in channel, Show quote (a candidate section when
the bot is not sure), Resolve, Save as knowledge, and the digest's Answer & save. Buttons carry only
ids; everything else is read from the database."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.approvals import parse_ref
from bot.slack import ids
from bot.slack.blocks.answers import (
    answer_blocks,
    answer_text,
    feedback_reason_modal,
    feedback_thanks,
    section_quote_blocks,
)
from bot.slack.blocks.triage import digest_answer_modal, resolved_blocks, saved_blocks, triage_blocks, triage_text
from bot.slack.client import say
from bot.wiring import Core

ONLY_OSPO = "Only the OSPO team (OSPO_APPROVERS) can do that."
NOT_A_MEMBER = ("not_in_channel", "channel_not_found")  # chat.postMessage where the bot is not a member


def register(app: App) -> None:
    app.action(ids.FEEDBACK_UP)(feedback_up)
    app.action(ids.FEEDBACK_DOWN)(feedback_down)
    app.action(ids.ESCALATE)(escalate)
    app.action(ids.SHARE)(share)
    app.action(ids.SHOW_SECTION)(show_section)
    app.action(ids.RESOLVE)(resolve)
    app.action(ids.SAVE_KNOWLEDGE)(save_knowledge)
    app.action(ids.DIGEST_ANSWER)(digest_answer)


def button_id(body) -> int | None:
    """The id a button carries: a positive integer that fits SQLite, or None."""
    try:
        return parse_ref(str(body["actions"][0]["value"]))
    except (KeyError, IndexError, TypeError):
        return None


def where(body) -> tuple[str | None, str | None]:
    """The channel and thread of the message the button is on (None for ephemeral messages)."""
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    if container.get("is_ephemeral"):
        return channel, None
    message = body.get("message") or {}
    return channel, message.get("thread_ts") or message.get("ts") or container.get("message_ts")


def say_privately(client, body, text: str) -> None:
    say(client, where(body)[0], body["user"]["id"], text)


def asked_question(body, core: Core) -> dict | None:
    """The question a button names, or None."""
    question_id = button_id(body)
    return core.desk.question(question_id) if question_id is not None else None


def feedback_up(ack, body, client, core: Core):
    ack()
    question = asked_question(body, core)
    if question is None:
        return
    core.desk.feedback(question["id"], body["user"]["id"], 1)
    say_privately(client, body, feedback_thanks(1))


def feedback_down(ack, body, client, core: Core):
    ack()
    question = asked_question(body, core)
    if question is None:
        return
    # The modal first: its trigger_id expires 3 seconds after the click.
    client.views_open(trigger_id=body["trigger_id"], view=feedback_reason_modal(question["id"]))
    core.desk.feedback(question["id"], body["user"]["id"], -1)


def escalate(ack, body, client, core: Core):
    ack()
    question = asked_question(body, core)
    if question is None:
        return
    user, triage = body["user"]["id"], core.settings.triage_channel
    channel, thread_ts = where(body)
    if not triage:
        say_privately(client, body, "The OSPO team has no triage channel set up yet; please ask in #ospo.")
        return
    escalation, new = core.desk.escalate(question["id"], user, channel if thread_ts else user, thread_ts)
    if not new:
        say_privately(client, body, "This question is already with the OSPO team.")
        return
    posted = client.chat_postMessage(channel=triage, text=triage_text(escalation), blocks=triage_blocks(escalation))
    core.desk.posted_to_triage(escalation.id, triage, posted["ts"])
    say_privately(client, body, "I've passed your question to the OSPO team. Their reply will come to you here.")


def share(ack, body, client, respond, core: Core):
    ack()
    row, (channel, _) = asked_question(body, core), where(body)
    if row is None or not channel or row["user"] != body["user"]["id"]:
        return  # only the asker shares their own answer
    with core.desk.answering():  # Busy beyond the bound: the app's error handler says so
        reply = core.desk.ask(row["question"], user=row["user"], channel=channel, source="slack-share")
        text, blocks = answer_text(reply), answer_blocks(reply)
        try:
            posted = client.chat_postMessage(channel=channel, text=text, blocks=blocks)
            core.desk.delivered(reply.question_id, channel, posted["ts"])
        except SlackApiError as error:
            if error.response.get("error") not in NOT_A_MEMBER:
                raise
            # A channel the bot is not in (an answer from the message shortcut): the response_url may still post.
            respond(response_type="in_channel", replace_original=False, text=text, blocks=blocks)
    respond(delete_original=True)


def show_section(ack, body, client, respond, core: Core):
    """ "Show quote" beside a candidate section: its quote in the thread (or privately, under a private answer)."""
    ack()
    section_id = str((body.get("actions") or [{}])[0].get("value") or "")
    found = core.kb.section_quote(section_id) if section_id else None
    if found is None:
        say_privately(client, body, "That section is no longer in the OSPO handbook. Ask again, or ask the OSPO team.")
        return
    source, quoted = found
    blocks, text = section_quote_blocks(source, quoted), f"From {source.title}: {quoted.text}"[:3000]
    channel, thread_ts = where(body)
    if thread_ts:
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, blocks=blocks)
    else:  # under an answer only the asker sees
        respond(response_type="ephemeral", replace_original=False, text=text, blocks=blocks)


def named_escalation(body, core: Core):
    """The escalation a Resolve / Save button names, or None."""
    escalation_id = button_id(body)
    return core.desk.escalation(escalation_id) if escalation_id is not None else None


def resolve(ack, body, client, core: Core):
    ack()
    escalation, user = named_escalation(body, core), body["user"]["id"]
    if escalation is None:
        return
    if user != escalation.asker and user not in core.approvers:
        say_privately(client, body, ONLY_OSPO)
        return
    if not core.desk.resolve(escalation.id, user):
        return  # already resolved: a second click changes nothing
    if escalation.triage_channel and escalation.triage_ts:
        client.chat_update(
            channel=escalation.triage_channel,
            ts=escalation.triage_ts,
            text="Resolved",
            blocks=resolved_blocks(escalation, user),
        )
    client.chat_postMessage(
        channel=escalation.channel or escalation.asker,
        thread_ts=escalation.thread_ts,
        text="The OSPO team marked your question as resolved. 👍 Thanks for asking!",
    )


def save_knowledge(ack, body, client, core: Core):
    ack()
    escalation, user = named_escalation(body, core), body["user"]["id"]
    if escalation is None:
        return
    if user not in core.approvers:
        say_privately(client, body, ONLY_OSPO)
        return
    try:
        path = core.desk.save_as_knowledge(escalation.id, user)
    except ValueError as error:
        say_privately(client, body, f"Not saved: {error}.")
        return
    client.chat_postMessage(
        channel=escalation.triage_channel,
        thread_ts=escalation.triage_ts,
        text=f"Saved as {path}",
        blocks=saved_blocks(path, user),
    )


def digest_answer(ack, body, client, core: Core):
    """ "Answer & save to knowledge base" on a question the digest lists as unanswered."""
    ack()
    question = asked_question(body, core)
    if question is None:
        return
    if body["user"]["id"] not in core.approvers:
        say_privately(client, body, ONLY_OSPO)
        return
    client.views_open(trigger_id=body["trigger_id"], view=digest_answer_modal(question["id"], question["question"]))
