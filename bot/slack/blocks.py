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
APPROVAL_TOPICS = ("contributing/", "cla/", "releasing/")  # answers from these offer "Request approval"
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
• *Licenses:* name one ("can we use SSPL code in our SaaS?") and I start with our policy's verdict;
  name two ("can I use Apache-2.0 code in a GPL-2.0-only project?") and I say whether they fit together.
• *Not sure?* I say so and show what might help. *Ask the OSPO team* sends your question to a person;
  their reply comes back to you here.
• *Feedback:* 👍 / 👎 on any answer tells the OSPO what to fix.
• *Approvals:* `/ospo approve [repository URL]` asks to contribute upstream, release a project, sign a
  CLA, get a copyright release or a license exception. `/ospo status [OSPO-42]` shows where your
  requests stand; `/ospo cancel OSPO-42` withdraws one.
• `/ospo help` shows this."""


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
    if reply.compatibility is not None:
        blocks += compatibility_blocks(reply.compatibility)
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
    if answer.confident and answer.sources[0].path.startswith(APPROVAL_TOPICS):
        elements.append(button("Request approval", "approval_open", qid))
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
    rules = ", ".join(dict.fromkeys(v.rule.removeprefix("policy.yaml ") for v in report.verdicts.values()))
    categories = "; ".join(dict.fromkeys(i.category_source for i in report.licenses))
    sources = " · ".join(s.label() for s in report.sources)
    # Inside the section, not a block of its own: the quoted passage stays the second block.
    lines.append(f"_From policy.yaml {escape(rules)}; category: {escape(categories)}. Data: {escape(sources)}._")
    return [section("\n".join(lines))]


COMPATIBILITY_EMOJI = {"compatible": "✅", "review": "🟡", "incompatible": "⛔"}


def compatibility_blocks(answer) -> list[Block]:
    """May code under one license go into a work under another: the direction, the answer, the source."""
    emoji = COMPATIBILITY_EMOJI.get(answer.verdict, "•")
    lines = [f"🔗 *License compatibility:* {emoji} {escape(answer.label)}", escape(answer.reason)]
    for verdict in answer.policy:
        lines.append(f"• Our policy for shipping {escape(verdict.decided_by or '?')}: {escape(verdict.label)}")
    source = answer.source
    lines.append(f"_Source: {escape(source.label())}, {escape(source.license or '')}._")
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


def home_view(recent: list[dict], mine=None, queue=None) -> dict:
    blocks: list[Block] = [section(HELP), DividerBlock()]
    if recent:
        lines = [
            f"• {escape(fit(r['question'], 150))} — {'answered' if r['confident'] else 'not sure'}" for r in recent[:10]
        ]
        blocks.append(section("*Your recent questions*\n" + "\n".join(lines)))
    if mine is not None:
        blocks += approvals_home(mine, queue)
    return View(type="home", blocks=blocks[:MAX_BLOCKS]).to_dict()


# ------------------------------------------------------------------------- approvals

STATE_LABEL = {
    "auto_approved": "✅ auto-approved",
    "approved": "✅ approved",
    "rejected": "⛔ rejected",
    "pending": "⏳ pending",
    "needs_info": "❓ needs info",
    "cancelled": "✖️ cancelled",
    "reopened": "↩️ reopened",
}
TYPE_LABEL = {
    "contribute": "Contribute to an outside project",
    "release": "Release a company project",
    "cla": "Sign a CLA for the company",
    "personal": "Personal project / copyright release",
    "exception": "License exception for a dependency",
}
FIELD_LABEL = {
    "repository_url": "Repository URL",
    "license": "Project license (e.g. Apache 2, MIT, GPLv3)",
    "change_kind": "Kind of change",
    "cla": "CLA or DCO required? (none, DCO, or the CLA's name)",
    "security_fix": "Is it a security fix?",
    "changed_lines": "About how many changed lines?",
    "description": "What do you want to do?",
    "justification": "Why is it good for the company?",
    "all_ours": "Is all the code and every asset ours?",
    "telemetry": "Does it collect telemetry?",
    "cryptography": "Does it contain cryptography?",
    "proposed_license": "Proposed license",
    "proposed_name": "Proposed project name",
    "use": "How will the dependency be used?",
    "confidential": "Does it contain confidential code or data?",
}
CHOICES = {
    "change_kind": ["bugfix", "docs", "tests", "feature", "new-project", "other"],
    "use": ["distribute", "saas", "internal", "contribute"],
}
YES_NO = {"security_fix", "all_ours", "telemetry", "cryptography", "confidential"}
MULTILINE = {"description", "justification"}


def _option(value: str, label: str | None = None) -> dict:
    return {"text": {"type": "plain_text", "text": (label or value)[:75]}, "value": value}


def approval_modal(kind: str, fields_of: dict, values: dict | None = None, metadata: str = "") -> dict:
    """The request form for one type: the type chooser, then only the fields that type needs.
    `fields_of` is approvals.FIELDS; `values` pre-fills (from `/ospo approve URL` or a question)."""
    values = values or {}
    required, optional = fields_of[kind]
    blocks_: list[dict] = [
        {
            "type": "input",
            "block_id": "type",
            "dispatch_action": True,
            "label": {"type": "plain_text", "text": "Request type"},
            "element": {
                "type": "static_select",
                "action_id": "approval_type",
                "options": [_option(t, TYPE_LABEL[t]) for t in TYPE_LABEL],
                "initial_option": _option(kind, TYPE_LABEL[kind]),
            },
        }
    ]
    for name in (*required, *optional):
        initial = values.get(name)
        if name in YES_NO or name in CHOICES:
            choices = ["yes", "no"] if name in YES_NO else CHOICES[name]
            element = {"type": "static_select", "action_id": "value", "options": [_option(c) for c in choices]}
            if isinstance(initial, bool):
                initial = "yes" if initial else "no"
            if initial in choices:
                element["initial_option"] = _option(initial)
        else:
            element = {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": name in MULTILINE,
                "max_length": 3000 if name in MULTILINE else 200,
            }
            if initial:
                element["initial_value"] = str(initial)[: element["max_length"]]
        blocks_.append(
            {
                "type": "input",
                "block_id": name,
                "optional": name in optional,
                "label": {"type": "plain_text", "text": FIELD_LABEL.get(name, name)[:150]},
                "element": element,
            }
        )
    return {
        "type": "modal",
        "callback_id": "approval_request",
        "private_metadata": metadata[:3000],
        "title": {"type": "plain_text", "text": "Request approval"},
        "submit": {"type": "plain_text", "text": "Submit"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks_[:MAX_BLOCKS],
    }


def modal_values(view: dict) -> tuple[str, dict]:
    """(type, {field: value}) from a submitted or changing request form."""
    state = (view.get("state") or {}).get("values") or {}
    kind = ((state.get("type") or {}).get("approval_type") or {}).get("selected_option") or {}
    fields = {}
    for block_id, actions in state.items():
        element = (actions or {}).get("value")
        if block_id == "type" or not element:
            continue
        value = (
            (element.get("selected_option") or {}).get("value")
            if "selected_option" in element
            else element.get("value")
        )
        if value not in (None, ""):
            fields[block_id] = value
    return kind.get("value") or "contribute", fields


def request_summary(request) -> str:
    f = request.fields
    what = f.get("repository_url") or f.get("proposed_name") or "—"
    lines = [
        f"*{request.ref}* · {TYPE_LABEL.get(request.type, request.type)} · "
        f"{STATE_LABEL.get(request.state, request.state)}",
        f"Requested by <@{request.requester}> · {escape(str(what))}",
    ]
    if request.license_expression:
        lines.append(f"License: {escape(request.license_expression)} ({escape(request.license_category or '?')})")
    if f.get("description"):
        lines.append(quote(escape(fit(str(f["description"]), 800))))
    if f.get("justification"):
        lines.append("_Why:_ " + escape(fit(str(f["justification"]), 500)))
    return "\n".join(lines)


def request_blocks(request, *, buttons: bool) -> list[dict]:
    """A request as approvers see it: summary, what the policy flagged, precedent, and (while it
    waits) Approve / Reject / Ask for info. Buttons carry only the request id."""
    built: list[Block] = [section(request_summary(request))]
    if request.auto_reasons:
        built.append(
            section("*Why it was auto-approved*\n" + "\n".join(f"• {escape(r)}" for r in request.auto_reasons))
        )
    if request.flags:
        built.append(section("*Policy flags*\n" + "\n".join(f"• {escape(r)}" for r in request.flags[:15])))
    if request.precedent:
        rows = [
            f"• {escape(str(p.get('ref')))}: {escape(str(p.get('state')))}"
            + (f" by <@{p['decided_by']}>" if p.get("decided_by") else "")
            for p in request.precedent[:5]
        ]
        built.append(context("Precedent for this repository: " + " ".join(rows)))
    if request.decided_by and request.state in ("approved", "rejected", "needs_info"):
        why = f": {escape(request.reason)}" if request.reason else ""
        cond = f"\nConditions: {escape(request.conditions)}" if request.conditions else ""
        blanket = f"\nCovers the project until {escape(request.blanket_until or '')}" if request.blanket else ""
        built.append(
            section(
                f"{STATE_LABEL.get(request.state)} by <@{request.decided_by}> at "
                f"{escape(request.decided_at or '')}{why}{cond}{blanket}"
            )
        )
    if buttons and request.state in ("approved", "rejected"):
        built.append(ActionsBlock(elements=[button("Reopen", "approval_reopen", str(request.id))]))
    if buttons and request.state == "pending":
        value = str(request.id)
        built.append(
            ActionsBlock(
                elements=[
                    button("Approve", "approval_approve", value, style="primary"),
                    button("Reject", "approval_reject", value, style="danger"),
                    button("Ask for info", "approval_needs_info", value),
                ]
            )
        )
    return to_dicts(built)


def decision_modal(action: str, request) -> dict:
    """Approve (optional conditions, blanket for contributions) or Reject / Ask for info (reason)."""
    titles = {"approve": "Approve", "reject": "Reject", "needs_info": "Ask for info"}
    label = {
        "approve": "Conditions (optional)",
        "reject": "Why is it rejected?",
        "needs_info": "What do you need to know?",
    }[action]
    built = [
        {"type": "section", "text": {"type": "mrkdwn", "text": fit(request_summary(request), MAX_SECTION)}},
        {
            "type": "input",
            "block_id": "reason",
            "optional": action == "approve",
            "label": {"type": "plain_text", "text": label},
            "element": {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 2000},
        },
    ]
    if action == "approve" and request.type == "contribute":
        built.append(
            {
                "type": "input",
                "block_id": "blanket",
                "optional": True,
                "label": {"type": "plain_text", "text": "Scope"},
                "element": {
                    "type": "checkboxes",
                    "action_id": "value",
                    "options": [_option("blanket", "Approve the project going forward (12 months)")],
                },
            }
        )
    return {
        "type": "modal",
        "callback_id": f"approval_{action}",
        "private_metadata": str(request.id),
        "title": {"type": "plain_text", "text": f"{titles[action]} {request.ref}"[:24]},
        "submit": {"type": "plain_text", "text": titles[action][:24]},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": built,
    }


def answer_info_modal(request) -> dict:
    return {
        "type": "modal",
        "callback_id": "approval_answer",
        "private_metadata": str(request.id),
        "title": {"type": "plain_text", "text": f"Answer {request.ref}"[:24]},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": fit(f"The OSPO asked: {quote(escape(request.reason or ''))}", MAX_SECTION),
                },
            },
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Your answer"},
                "element": {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 2000},
            },
        ],
    }


def requester_update_blocks(request) -> list[dict]:
    """The DM a requester gets when their request is decided or needs something."""
    built: list[Block] = [section(request_summary(request))]
    if request.state == "auto_approved":
        built.append(section("You can go ahead:\n" + "\n".join(f"• {escape(r)}" for r in request.auto_reasons)))
    elif request.state == "pending":
        built.append(context("The OSPO approvers have it; you'll hear here when it is decided."))
    elif request.state in ("approved", "rejected"):
        why = f"\n{quote(escape(request.reason))}" if request.reason else ""
        cond = f"\n*Conditions:* {escape(request.conditions)}" if request.conditions else ""
        built.append(section(f"{STATE_LABEL[request.state]} by <@{request.decided_by}>{why}{cond}"))
    elif request.state == "needs_info":
        built.append(section(f"<@{request.decided_by}> needs more information:\n{quote(escape(request.reason or ''))}"))
        built.append(ActionsBlock(elements=[button("Answer", "approval_answer", str(request.id), style="primary")]))
    return to_dicts(built)


def status_blocks(requests, events=None) -> list[dict]:
    if not requests:
        return to_dicts([section("You have no approval requests. `/ospo approve` starts one.")])
    if events is not None:
        (request,) = requests
        history = [
            f"• {escape(e.at)} <@{e.actor}>: {escape(e.from_state)} → {escape(e.to_state)}"
            + (f" — {escape(fit(e.reason, 200))}" if e.reason else "")
            for e in events[-20:]
        ]
        return to_dicts([section(request_summary(request)), section("*History*\n" + "\n".join(history))])
    lines = [
        f"• *{r.ref}* {TYPE_LABEL.get(r.type, r.type)} — {STATE_LABEL.get(r.state, r.state)}"
        f" · {escape(str(r.fields.get('repository_url') or r.fields.get('proposed_name') or ''))}"
        for r in requests[:40]
    ]
    return to_dicts([section("*Your requests*\n" + "\n".join(lines))])


def approvals_home(mine, queue) -> list[Block]:
    """App Home sections: my requests; for approvers, the pending queue with the same buttons."""
    built: list[Block] = [DividerBlock(), section(status_blocks(mine)[0]["text"]["text"])]
    if queue is not None:
        built.append(section(f"*Waiting for a decision* ({len(queue)}, oldest first)"))
        for request in queue[:12]:  # 3 blocks each stays well inside 50 with the rest
            built += [
                section(request_summary(request)),
                ActionsBlock(
                    elements=[
                        button("Approve", "approval_approve", str(request.id), style="primary"),
                        button("Reject", "approval_reject", str(request.id), style="danger"),
                        button("Ask for info", "approval_needs_info", str(request.id)),
                    ]
                ),
            ]
    return built


def digest_answer_modal(question_id: int, question: str) -> dict:
    """From the digest: answer an unanswered question; the answer is saved to the knowledge base."""
    return View(
        type="modal",
        callback_id="digest_answer",
        private_metadata=str(question_id),
        title=PlainTextObject(text="Answer & save"),
        submit=PlainTextObject(text="Save"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            section(f"*Question*\n{quote(escape(fit(question, 2500)))}"),
            InputBlock(
                block_id="answer",
                label=PlainTextObject(text="The OSPO's answer (saved to the knowledge base and sent to the asker)"),
                element=PlainTextInputElement(action_id="text", multiline=True, max_length=3000),
            ),
        ],
    ).to_dict()
