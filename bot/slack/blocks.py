"""Every Block Kit message and modal the bot sends, built with slack_sdk.models, within
Slack's limits (50 blocks a message, 3,000 characters a section, 2,000 a button value).

User text is escaped before it is shown (`<!channel>` stays text), and buttons carry only ids.
"""

from __future__ import annotations

import re

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.helpdesk import Escalation, Notice, Reply
from bot.search.answer import Source

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_CONTEXT = 2000  # per text element in a context block
VERDICT_EMOJI = {"allowed": "✅", "conditions": "☑️", "review": "🟡", "forbidden": "⛔"}
USE_LABEL = {
    "contribute": "Contributing",
    "distribute": "Distributed products",
    "saas": "SaaS / hosted",
    "internal": "Internal tools",
}

HELP = """*I answer open-source questions from the OSPO handbook, quoting it word for word.*
• *Ask me* in a DM, mention me (`@ospo-bot …`) in a channel, or type `/ospo ask <question>`.
  Mentions are answered in a thread; ask follow-ups in the same thread, no mention needed.
• *Licenses:* name one ("can we use SSPL code in our SaaS?") and I start with our policy's verdict.
• *Not sure?* I say so and show what might help. *Ask the OSPO team* sends your question to a person;
  their reply comes back to you here.
• *Feedback:* 👍 / 👎 on any answer tells the OSPO what to fix.
• `/ospo help` shows this. Approvals (`/ospo approve`) and `/ospo status` are coming next."""


def escape(text: str) -> str:
    """User text made inert for mrkdwn: mentions, channel pings and links are shown, not acted on."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def mrkdwn_from_markdown(text: str) -> str:
    """The handbook's markdown as Slack mrkdwn: escaped, links as <url|text>, **bold** as *bold*."""
    text = escape(text)
    text = re.sub(r"\[([^\]]+)\]\((https?://[^)\s]+)\)", r"<\2|\1>", text)
    text = re.sub(r"\*\*(.+?)\*\*", r"*\1*", text)
    return re.sub(r"^#{1,6}\s+", "", text, flags=re.MULTILINE)


def quote(text: str) -> str:
    return "\n".join("> " + line if line.strip() else ">" for line in text.splitlines())


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=fit(text, MAX_SECTION)))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=fit(text, MAX_CONTEXT))])


def button(text: str, action_id: str, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=text, emoji=True), action_id=action_id, value=value[:2000], style=style
    )


def link(source: Source) -> str:
    """A source as mrkdwn: a link when the front matter has a url, else its path."""
    label = escape(source.title)
    if source.url and source.url.startswith(("http://", "https://")):
        return f"<{source.location}|{label}>"
    return f"{label} (`{escape(source.location)}`)"


def to_dicts(blocks: list[Block]) -> list[dict]:
    return [b.to_dict() for b in blocks[:MAX_BLOCKS]]


def answer_blocks(reply: Reply, *, private: bool = False) -> list[dict]:
    answer = reply.answer
    blocks: list[Block] = []
    if reply.license is not None:
        blocks += license_blocks(reply.license)
    if answer.confident:
        top = answer.sources[0]
        where = f"{escape(top.title)} › {escape(top.heading)}" if top.heading else escape(top.title)
        blocks.append(section(f"*{where}*\n{quote(mrkdwn_from_markdown(answer.quote or ''))}"))
        reviewed = f" · last reviewed {escape(top.updated)}" if top.updated else ""
        blocks.append(context(f"📄 From {link(top)}{reviewed}"))
        related = answer.sources[1:]
        if related:
            blocks.append(context("Related: " + " · ".join(link(s) for s in related)))
    else:
        blocks.append(
            section("🤔 *I'm not sure.* Nothing in the OSPO handbook clearly answers that, and I'd rather not guess.")
        )
        if answer.sources:
            blocks.append(context("Might help: " + " · ".join(link(s) for s in answer.sources)))
    if answer.degraded:
        blocks.append(context("⚠️ Search is running in a reduced mode; answers may be less precise."))
    qid = str(reply.question_id)
    elements = [
        button("👍", "feedback_up", qid),
        button("👎", "feedback_down", qid),
        button("Ask the OSPO team", "escalate", qid, style=None if answer.confident else "primary"),
    ]
    if private:
        elements.append(button("Share in channel", "share", qid))
    blocks.append(ActionsBlock(elements=elements))
    return to_dicts(blocks)


def answer_text(reply: Reply) -> str:
    """The notification / fallback text of an answer."""
    if reply.answer.confident:
        return fit(escape(f"From {reply.answer.sources[0].title}: {reply.answer.quote}"), 3000)
    return "I'm not sure; nothing in the OSPO handbook clearly answers that."


def license_blocks(report) -> list[Block]:
    if report.unknown:
        hint = f" Did you mean {', '.join(report.suggestions[:3])}?" if report.suggestions else ""
        return [
            section(
                f"⚖️ *License policy:* I don't recognise that license, so treat it as not allowed "
                f"until the OSPO reviews it.{escape(hint)}"
            )
        ]
    names = ", ".join(f"{i.spdx_id} ({i.category})" for i in report.licenses)
    lines = [f"⚖️ *License policy for {escape(report.expression)}* — {escape(names)}"]
    for use, verdict in report.verdicts.items():
        emoji = VERDICT_EMOJI.get(verdict.verdict, "•")
        lines.append(f"{emoji} *{USE_LABEL.get(use, use)}:* {escape(verdict.label)}. {escape(verdict.reason)}")
    return [section("\n".join(lines))]


def help_blocks() -> list[dict]:
    return to_dicts([section(HELP)])


def feedback_thanks(vote: int) -> str:
    return "Thanks for the 👍!" if vote > 0 else "Thanks, the OSPO will look at this answer."


def feedback_reason_modal(question_id: int) -> dict:
    return View(
        type="modal",
        callback_id="feedback_reason",
        private_metadata=str(question_id),
        title=PlainTextObject(text="What was wrong?"),
        submit=PlainTextObject(text="Send"),
        close=PlainTextObject(text="Skip"),
        blocks=[
            InputBlock(
                block_id="reason",
                optional=True,
                label=PlainTextObject(text="Tell the OSPO what was wrong or missing (optional)"),
                element=PlainTextInputElement(action_id="text", multiline=True, max_length=2000),
            )
        ],
    ).to_dict()


def triage_blocks(escalation: Escalation, best_guess_title: str | None) -> list[dict]:
    blocks: list[Block] = [
        section(f"🙋 *Question for the OSPO team* from <@{escalation.asker}>\n{quote(escape(escalation.question))}"),
    ]
    if best_guess_title:
        blocks.append(
            context(f"The bot's best guess: {escape(best_guess_title)} (`{escape(escalation.best_guess or '')}`)")
        )
    else:
        blocks.append(context("The bot found nothing close in the handbook."))
    blocks.append(context("Reply in this thread: your reply is sent to the asker."))
    blocks.append(ActionsBlock(elements=[button("Resolve", "resolve", str(escalation.id))]))
    return to_dicts(blocks)


def triage_text(escalation: Escalation) -> str:
    return fit(f"Question for the OSPO team: {escape(escalation.question)}", 3000)


def escalated_blocks() -> list[dict]:
    return to_dicts([section("📨 I've passed your question to the OSPO team. Their reply will come here.")])


def relay_blocks(text: str, responder: str) -> list[dict]:
    return to_dicts([section(f"💬 <@{responder}> from the OSPO team answered:\n{quote(escape(text))}")])


def relayed_blocks(escalation: Escalation) -> list[dict]:
    return to_dicts(
        [
            context(f"Sent to <@{escalation.asker}>."),
            ActionsBlock(
                elements=[
                    button("Save as knowledge", "save_knowledge", str(escalation.id)),
                    button("Resolve", "resolve", str(escalation.id), style="primary"),
                ]
            ),
        ]
    )


def resolved_blocks(escalation: Escalation, by: str) -> list[dict]:
    return to_dicts(
        [
            section(f"✅ *Resolved* by <@{by}>\n{quote(escape(escalation.question))}"),
        ]
    )


def saved_blocks(path: str, by: str) -> list[dict]:
    return to_dicts(
        [context(f"📚 Saved to the knowledge base as `{escape(path)}` by <@{by}>; the bot answers from it now.")]
    )


def notice_blocks(notice: Notice) -> list[dict]:
    head = (
        f"📝 *The policy I quoted you has changed.* You asked: _{escape(fit(notice.question, 300))}_\n"
        f"The section of *{escape(notice.title)}* I quoted "
    )
    if notice.kind == "removed" or not notice.new_text:
        return to_dicts([section(head + "was removed. Ask again, or ask the OSPO team.")])
    return to_dicts([section(head + "now reads:\n" + quote(mrkdwn_from_markdown(fit(notice.new_text, 2500))))])


def apology_text() -> str:
    return "Sorry, something went wrong on my side and I could not answer. Please try again, or ask in #ospo."


def home_view(recent: list[dict]) -> dict:
    blocks: list[Block] = [section(HELP), DividerBlock()]
    if recent:
        lines = [
            f"• {escape(fit(r['question'], 150))} — {'answered' if r['confident'] else 'not sure'}" for r in recent[:10]
        ]
        blocks.append(section("*Your recent questions*\n" + "\n".join(lines)))
    return View(type="home", blocks=blocks[:MAX_BLOCKS]).to_dict()
