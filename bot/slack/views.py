"""Help-desk modals: the optional reason behind a 👎, and the OSPO's answer from the digest."""

from __future__ import annotations

from slack_bolt import App

from bot.approvals import parse_ref
from bot.slack import ids
from bot.slack.blocks.kit import typed
from bot.slack.blocks.triage import relay_blocks, relay_text, saved_blocks
from bot.wiring import Core

ONLY_OSPO_SAVES = "Only the OSPO team (OSPO_APPROVERS) can save answers."


def register(app: App) -> None:
    app.view(ids.FEEDBACK_REASON)(feedback_reason)
    app.view(ids.DIGEST_ANSWER_VIEW)(digest_answer)


def feedback_reason(ack, body, view, core: Core):
    ack()
    question_id = parse_ref(view.get("private_metadata"))
    if question_id is None or core.desk.question(question_id) is None:
        return
    reason = typed(view, ids.REASON_BLOCK, ids.REASON_TEXT)
    core.desk.feedback(question_id, body["user"]["id"], -1, reason or "")


def digest_answer(ack, body, view, client, core: Core):
    """Save the OSPO's answer as knowledge and send it to whoever asked."""
    question_id, user = parse_ref(view.get("private_metadata")), body["user"]["id"]
    if question_id is None:
        ack()
        return
    if user not in core.approvers:
        ack(response_action="errors", errors={ids.ANSWER_BLOCK: ONLY_OSPO_SAVES})
        return
    text = typed(view, ids.ANSWER_BLOCK, ids.ANSWER_TEXT) or ""
    try:
        core.desk.check_answer(question_id, text)
    except ValueError as error:
        ack(response_action="errors", errors={ids.ANSWER_BLOCK: str(error)})
        return
    ack()  # before the slow part: saving indexes the answer
    saved = core.desk.answer_and_save(question_id, text, user)
    if saved.asker:
        client.chat_postMessage(channel=saved.asker, text=relay_text(text), blocks=relay_blocks(text, user))
    client.chat_postMessage(channel=user, text=f"Saved as {saved.path}", blocks=saved_blocks(saved.path, user))
