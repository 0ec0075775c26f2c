"""The human loop: a question posted for the OSPO team, their reply relayed to the asker, Resolve,
Save as knowledge, and the digest's "Answer & save" modal."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block

from bot.helpdesk import Escalation
from bot.slack import ids
from bot.slack.blocks.kit import (
    MAX_SECTION,
    button,
    context,
    escape,
    field,
    fit,
    modal,
    quote,
    section,
    text_input,
    to_dicts,
)


def triage_blocks(escalation: Escalation) -> list[dict]:
    blocks: list[Block] = [
        section(f"🙋 *Question for the OSPO team* from <@{escalation.asker}>\n{quote(escape(escalation.question))}"),
    ]
    if escalation.best_guess_title:
        title, path = escape(escalation.best_guess_title), escape(escalation.best_guess or "")
        blocks.append(context(f"The bot's best guess: {title} (`{path}`)"))
    else:
        blocks.append(context("The bot found nothing close in the handbook."))
    blocks.append(context("Reply in this thread: your reply is sent to the asker."))
    blocks.append(ActionsBlock(elements=[button("Resolve", ids.RESOLVE, str(escalation.id))]))
    return to_dicts(blocks)


def triage_text(escalation: Escalation) -> str:
    return fit(f"Question for the OSPO team: {escape(escalation.question)}", MAX_SECTION)


def relay_text(text: str) -> str:
    return f"The OSPO team answered: {escape(text[:2000])}"


def relay_blocks(text: str, responder: str) -> list[dict]:
    return to_dicts([section(f"💬 <@{responder}> from the OSPO team answered:\n{quote(escape(text))}")])


def relayed_blocks(escalation: Escalation) -> list[dict]:
    buttons = [
        button("Save as knowledge", ids.SAVE_KNOWLEDGE, str(escalation.id)),
        button("Resolve", ids.RESOLVE, str(escalation.id), style="primary"),
    ]
    return to_dicts([context(f"Sent to <@{escalation.asker}>."), ActionsBlock(elements=buttons)])


def resolved_blocks(escalation: Escalation, by: str) -> list[dict]:
    return to_dicts([section(f"✅ *Resolved* by <@{by}>\n{quote(escape(escalation.question))}")])


def saved_blocks(path: str, by: str) -> list[dict]:
    return to_dicts(
        [context(f"📚 Saved to the knowledge base as `{escape(path)}` by <@{by}>; the bot answers from it now.")]
    )


def digest_answer_modal(question_id: int, question: str) -> dict:
    """From the digest: answer an unanswered question; the answer is saved to the knowledge base."""
    answer = field(
        ids.ANSWER_BLOCK,
        "The OSPO's answer (saved to the knowledge base and sent to the asker)",
        text_input(ids.ANSWER_TEXT, multiline=True, max_length=3000),
    )
    blocks = [section(f"*Question*\n{quote(escape(fit(question, 2500)))}"), answer]
    return modal(ids.DIGEST_ANSWER_VIEW, "Answer & save", blocks, submit="Save", metadata=str(question_id))
