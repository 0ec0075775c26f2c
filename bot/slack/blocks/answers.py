"""Answers: the quoted passage with its source, the license verdict, the buttons under an answer,
the 👎 reason modal, /ospo help, and the DM sent when a quoted policy changes."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block

from bot.helpdesk import Notice, Reply, Topic
from bot.slack import ids
from bot.slack.blocks.kit import (
    MAX_SECTION,
    button,
    context,
    escape,
    field,
    fit,
    link,
    modal,
    mrkdwn_from_markdown,
    quote,
    section,
    text_input,
    to_dicts,
)

APPROVAL_TOPICS = ("contributing/", "cla/", "releasing/")  # answers from these offer "Request approval"
VERDICT_EMOJI = {"allowed": "✅", "conditions": "☑️", "review": "🟡", "forbidden": "⛔"}
COMPATIBILITY_EMOJI = {"compatible": "✅", "review": "🟡", "incompatible": "⛔"}
USE_LABEL = {
    "contribute": "Contributing",
    "distribute": "Distributed products",
    "saas": "SaaS / hosted",
    "internal": "Internal tools",
}

# Files shared with the bot that are not SBOMs or lockfiles (bot/slack/deps.py checks those): their
# words are answered, the files not opened. Change these two when the bot learns to read more.
FILES_NOT_READ = (
    "📎 I answered your words; I only read SBOMs and lockfiles (CycloneDX, SPDX, npm package-lock.json), "
    "so I haven't looked at the file itself."
)
FILES_ONLY = (
    "📎 I got your file, but I can't open it. I check SBOMs and lockfiles (CycloneDX, SPDX, npm "
    "package-lock.json) shared with me; for anything else, tell me in words what you want to know, e.g. "
    "“can we ship a product that uses GPL-3.0 code?”, or name the file's license and I'll give you "
    "our policy's verdict. `/ospo help` shows what else I do."
)

HELP = """*I answer open-source questions from the OSPO handbook, quoting it word for word.*
• *Ask me* in a DM, mention me (`@ospo-bot …`) in a channel, or type `/ospo ask <question>`.
  Mentions are answered in a thread; ask follow-ups in the same thread, no mention needed.
• *Licenses:* name one ("can we use SSPL code in our SaaS?") and I start with our policy's verdict;
  name two ("can I use Apache-2.0 code in a GPL-2.0-only project?") and I say whether they fit together.
• *Not sure?* I say so and show what might help. *Ask the OSPO team* sends your question to a person;
  their reply comes back to you here.
• *Feedback:* 👍 / 👎 on any answer tells the OSPO what to fix.
• *Approvals:* `/ospo approve [repository URL]` asks to contribute upstream, release a project, sign a
  CLA, get a copyright release or a license exception. `/ospo status [OSPO-42]` shows where your
  requests stand; `/ospo cancel OSPO-42` withdraws one.
• *Dependencies:* share an SBOM or lockfile with me (CycloneDX, SPDX, npm `package-lock.json`), say
  “for saas” if it isn't shipped, and I check every component against the policy; or
  `/ospo check <link to a shared file>`.
• `/ospo help` shows this."""


def answer_blocks(reply: Reply, *, private: bool = False, note: str | None = None) -> list[dict]:
    """note: a line under the answer, above its buttons."""
    answer = reply.answer
    blocks: list[Block] = []
    if reply.license is not None:
        blocks += license_blocks(reply.license)
    if reply.compatibility is not None:
        blocks += compatibility_blocks(reply.compatibility)
    if answer.confident:
        top = answer.sources[0]
        blocks.append(
            section(f"*{title_and_heading(top)}*\n{quote(mrkdwn_from_markdown(answer.quote or '', top.url))}")
        )
        reviewed = f" · last reviewed {escape(top.updated)}" if top.updated else ""
        whole = "" if answer.complete else " · part of the section: read the whole section there"
        blocks.append(context(f"📄 From {link(top)}{whole}{reviewed}"))
        related = answer.sources[1:]
        if related:
            blocks.append(context("Related: " + " · ".join(link(s) for s in related)))
    else:
        blocks.append(
            section("🤔 *I'm not sure.* Nothing in the OSPO handbook clearly answers that, and I'd rather not guess.")
        )
        if answer.candidates:
            blocks.append(context("These sections might; *Show quote* puts one in this thread:"))
        for candidate in answer.candidates:
            line = f"\n_{escape(candidate.line)}_" if candidate.line else ""
            blocks.append(
                section(
                    f"*{title_and_heading(candidate)}*{line}\n{link(candidate)}",
                    accessory=button("Show quote", ids.SHOW_SECTION, candidate.section_id),
                )
            )
    if answer.degraded:
        blocks.append(context("⚠️ Search is running in a reduced mode; answers may be less precise."))
    if note:
        blocks.append(context(note))
    qid = str(reply.question_id)
    elements = [
        button("👍", ids.FEEDBACK_UP, qid),
        button("👎", ids.FEEDBACK_DOWN, qid),
        button("Ask the OSPO team", ids.ESCALATE, qid, style=None if answer.confident else "primary"),
    ]
    if answer.confident and answer.sources[0].path.startswith(APPROVAL_TOPICS):
        elements.append(button("Request approval", ids.APPROVAL_OPEN, qid))
    if private:
        elements.append(button("Share in channel", ids.SHARE, qid))
    blocks.append(ActionsBlock(elements=elements))
    return to_dicts(blocks)


def title_and_heading(source) -> str:
    """Document › heading, as mrkdwn."""
    return f"{escape(source.title)} › {escape(source.heading)}" if source.heading else escape(source.title)


def section_quote_blocks(source, quoted) -> list[dict]:
    """A candidate section the asker chose to see: its quote and where it comes from."""
    body = quote(mrkdwn_from_markdown(quoted.text, source.url))
    whole = "" if quoted.complete else " · part of the section: read the whole section there"
    return to_dicts([section(f"*{title_and_heading(source)}*\n{body}"), context(f"📄 From {link(source)}{whole}")])


def answer_text(reply: Reply) -> str:
    """The notification / fallback text of an answer."""
    if reply.answer.confident:
        return fit(escape(f"From {reply.answer.sources[0].title}: {reply.answer.quote}"), MAX_SECTION)
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
    rules = ", ".join(dict.fromkeys(v.rule.removeprefix("policy.yaml ") for v in report.verdicts.values()))
    categories = "; ".join(dict.fromkeys(i.category_source for i in report.licenses))
    sources = " · ".join(s.label() for s in report.sources)
    # Inside the section, not a block of its own: the quoted passage stays the second block.
    lines.append(f"_From policy.yaml {escape(rules)}; category: {escape(categories)}. Data: {escape(sources)}._")
    return [section("\n".join(lines))]


def compatibility_blocks(answer) -> list[Block]:
    """May code under one license go into a work under another: the direction, the answer, the source."""
    emoji = COMPATIBILITY_EMOJI.get(answer.verdict, "•")
    lines = [f"🔗 *License compatibility:* {emoji} {escape(answer.label)}", escape(answer.reason)]
    for verdict in answer.policy:
        lines.append(f"• Our policy for shipping {escape(verdict.decided_by or '?')}: {escape(verdict.label)}")
    source = answer.source
    lines.append(f"_Source: {escape(source.label())}, {escape(source.license or '')}._")
    return [section("\n".join(lines))]


# The assistant pane's prompts until people have asked enough for popular_topics to say what they ask.
DEFAULT_PROMPTS = (
    ("Use a license", "Can we use GPL-3.0 code in our SaaS product?"),
    ("Contribute upstream", "Can I fix a bug in an open source project from work?"),
    ("Release a project", "How do I open-source one of our projects?"),
    ("Ask for approval", "How do I get the OSPO to approve a contribution?"),
)
MAX_PROMPTS = 4  # assistant.threads.setSuggestedPrompts takes up to four


def assistant_greeting() -> str:
    return (
        "Hi! Ask me about open source here: using a license, contributing upstream, releasing a project, "
        "signing a CLA. I answer from the OSPO handbook, quoting it, and pass what I can't answer to the OSPO team."
    )


def suggested_prompts(topics: list[Topic]) -> list[dict]:
    """The pane's prompts: the sections people ask about most, each as one of its "asked as" phrasings;
    DEFAULT_PROMPTS fill what is missing."""
    prompts = []
    for topic in topics[:MAX_PROMPTS]:
        if topic.phrasing:
            message = topic.phrasing[0].upper() + topic.phrasing[1:]
            message += "" if message.endswith(("?", ".")) else "?"
        else:
            message = f"What does the handbook say about “{topic.heading or topic.title}”?"
        prompts.append({"title": fit(topic.heading or topic.title, 75), "message": fit(message, 500)})
    for title, message in DEFAULT_PROMPTS:
        if len(prompts) < MAX_PROMPTS and all(p["message"] != message for p in prompts):
            prompts.append({"title": title, "message": message})
    return prompts


def help_blocks() -> list[dict]:
    return to_dicts([section(HELP)])


def feedback_thanks(vote: int) -> str:
    return "Thanks for the 👍!" if vote > 0 else "Thanks, the OSPO will look at this answer."


def feedback_reason_modal(question_id: int) -> dict:
    reason = field(
        ids.REASON_BLOCK,
        "Tell the OSPO what was wrong or missing (optional)",
        text_input(ids.REASON_TEXT, multiline=True, max_length=2000),
        optional=True,
    )
    return modal(
        ids.FEEDBACK_REASON, "What was wrong?", [reason], submit="Send", close="Skip", metadata=str(question_id)
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


def busy_text() -> str:
    """Overload (bot.batching.Busy): nothing went wrong, there are just too many questions at once."""
    return "⏳ I'm busy answering a lot of questions right now and could not take yours. Please ask again in a minute."
