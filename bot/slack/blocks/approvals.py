"""Approval requests in Slack: the request form (built from bot.approvals' field table), the
decision and answer modals, the request as approvers see it, the requester's DMs (updates and
reminders), and /ospo status."""

from __future__ import annotations

from datetime import UTC, tzinfo

from slack_sdk.models.blocks import ActionsBlock, Block, CheckboxesElement, StaticSelectElement

from bot.approvals import FIELD_SPECS, FIELDS, TYPE_LABELS, Event, Request
from bot.digest import SlaBreach, sla_text
from bot.slack import ids
from bot.slack.blocks.kit import (
    MAX_SECTION,
    bullets,
    button,
    context,
    escape,
    field,
    fit,
    form_values,
    modal,
    option,
    quote,
    section,
    text_input,
    to_dicts,
    when,
)

STATE_LABEL = {
    "auto_approved": "✅ auto-approved",
    "approved": "✅ approved",
    "rejected": "⛔ rejected",
    "pending": "⏳ pending",
    "needs_info": "❓ needs info",
    "cancelled": "✖️ cancelled",
    "reopened": "↩️ reopened",
}
DECISION_TITLE = {"approve": "Approve", "reject": "Reject", "needs_info": "Ask for info"}
DECISION_LABEL = {
    "approve": "Conditions (optional)",
    "reject": "Why is it rejected?",
    "needs_info": "What do you need to know?",
}
ACTION_ID = {action: action_id for action_id, action in ids.DECISIONS.items()}  # "approve" -> its button id


# -- the request form -----------------------------------------------------------------------------
def approval_modal(kind: str, values: dict | None = None) -> dict:
    """The request form for one type: the type chooser, then only the fields that type needs.
    `values` pre-fills (from `/ospo approve URL` or a question)."""
    values = values or {}
    required, optional = FIELDS[kind]
    types = [option(t, label) for t, label in TYPE_LABELS.items()]
    chooser = StaticSelectElement(
        action_id=ids.APPROVAL_TYPE, options=types, initial_option=option(kind, TYPE_LABELS[kind])
    )
    blocks: list[Block] = [field(ids.TYPE_BLOCK, "Request type", chooser, dispatch=True)]
    for name in (*required, *optional):
        spec, initial = FIELD_SPECS[name], values.get(name)
        if spec.choices:
            if isinstance(initial, bool):
                initial = "yes" if initial else "no"
            element = StaticSelectElement(
                action_id=ids.FIELD_VALUE,
                options=[option(c) for c in spec.choices],
                initial_option=option(initial) if initial in spec.choices else None,
            )
        else:
            limit = 3000 if spec.multiline else 200
            initial = str(initial) if initial else None
            element = text_input(ids.FIELD_VALUE, multiline=spec.multiline, max_length=limit, initial=initial)
        blocks.append(field(name, spec.label, element, optional=name in optional))
    return modal(ids.APPROVAL_REQUEST, "Request approval", blocks, submit="Submit")


def modal_values(view: dict) -> tuple[str, dict]:
    """(type, {field: value}) from a submitted or changing request form."""
    state = form_values(view)
    kind = ((state.get(ids.TYPE_BLOCK) or {}).get(ids.APPROVAL_TYPE) or {}).get("selected_option") or {}
    fields = {}
    for block_id, actions in state.items():
        element = (actions or {}).get(ids.FIELD_VALUE)
        if block_id == ids.TYPE_BLOCK or not element:
            continue
        value = (
            (element.get("selected_option") or {}).get("value")
            if "selected_option" in element
            else element.get("value")
        )
        if value not in (None, ""):
            fields[block_id] = value
    return kind.get("value") or "contribute", fields


def blanket_chosen(view: dict) -> bool:
    """Whether the approve modal's "going forward" box was ticked."""
    return bool(((form_values(view).get(ids.BLANKET_BLOCK) or {}).get(ids.FIELD_VALUE) or {}).get("selected_options"))


# -- a request, as approvers and requesters see it -------------------------------------------------
def request_summary(request: Request, zone: tzinfo = UTC, details: bool = True) -> str:
    """zone: the reader's time zone (bot/slack/people.py), for dates; details: with what the requester
    wrote (the description and why)."""
    f = request.fields
    lines = [
        f"*{request.ref}* · {TYPE_LABELS.get(request.type, request.type)} · "
        f"{STATE_LABEL.get(request.state, request.state)}",
        f"Requested by <@{request.requester}> {when(request.created_at, zone)} · {escape(request.subject or '—')}",
    ]
    if request.license_expression:
        lines.append(f"License: {escape(request.license_expression)} ({escape(request.license_category or '?')})")
    if not details:
        return "\n".join(lines)
    if f.get("description"):
        lines.append(quote(escape(fit(str(f["description"]), 800))))
    if f.get("justification"):
        lines.append("_Why:_ " + escape(fit(str(f["justification"]), 500)))
    if f.get("components"):  # an exception: what `deps check` will allow, and until when
        until = f" · until {f['until']}" if f.get("until") else " · for a year from approval"
        lines.append("_Components:_ " + escape(fit(", ".join(str(f["components"]).splitlines()), 500)) + until)
    return "\n".join(lines)


def decision_buttons(request: Request) -> ActionsBlock:
    value = str(request.id)
    return ActionsBlock(
        elements=[
            button("Approve", ids.APPROVE, value, style="primary"),
            button("Reject", ids.REJECT, value, style="danger"),
            button("Ask for info", ids.ASK_FOR_INFO, value),
        ]
    )


def request_blocks(request: Request, *, buttons: bool, zone: tzinfo = UTC) -> list[dict]:
    """A request as approvers see it: summary, what the policy flagged, precedent, and (while it
    waits) Approve / Reject / Ask for info. Buttons carry only the request id."""
    built: list[Block] = [section(request_summary(request, zone))]
    if request.auto_reasons:
        built.append(section("*Why it was auto-approved*\n" + bullets([escape(r) for r in request.auto_reasons])))
    if request.flags:
        built.append(section("*Policy flags*\n" + bullets([escape(r) for r in request.flags[:15]])))
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
        blanket = f"\nCovers the project until {when(request.blanket_until, zone)}" if request.blanket else ""
        built.append(
            section(
                f"{STATE_LABEL.get(request.state)} by <@{request.decided_by}> "
                f"{when(request.decided_at, zone)}{why}{cond}{blanket}"
            )
        )
    if buttons and request.state in ("approved", "rejected"):
        built.append(ActionsBlock(elements=[button("Reopen", ids.REOPEN, str(request.id))]))
    if buttons and request.state == "pending":
        built.append(decision_buttons(request))
    return to_dicts(built)


def request_card_blocks(request: Request, zone: tzinfo = UTC) -> list[dict]:
    """A request where someone named it or linked to it: what it is and where it stands. A cancelled
    request shows only that it was withdrawn: what it asked for is no longer anyone's business."""
    label = TYPE_LABELS.get(request.type, request.type)
    if request.state == "cancelled":
        head = f"*{request.ref}* · {label} · {STATE_LABEL['cancelled']}"
        return to_dicts(
            [section(head), context(f"Withdrawn {when(request.updated_at, zone)}; the OSPO no longer has it.")]
        )
    built: list[Block] = [section(request_summary(request, zone, details=False))]
    if request.decided_by and request.state in ("approved", "rejected", "auto_approved"):
        by = "the policy" if request.state == "auto_approved" else f"<@{request.decided_by}>"
        built.append(context(f"{STATE_LABEL[request.state]} by {by} {when(request.decided_at, zone)}"))
    elif request.state in ("pending", "needs_info"):
        waiting = "the OSPO" if request.state == "pending" else "the requester"
        built.append(context(f"Waiting for {waiting} · `/ospo status {request.ref}`"))
    return to_dicts(built)


def request_card_text(request: Request) -> str:
    return f"{request.ref}: {STATE_LABEL.get(request.state, request.state)}"


def decision_modal(action: str, request: Request, zone: tzinfo = UTC) -> dict:
    """Approve (optional conditions, blanket for contributions) or Reject / Ask for info (reason)."""
    reason = text_input(ids.FIELD_VALUE, multiline=True, max_length=2000)
    built: list[Block] = [
        section(request_summary(request, zone)),
        field(ids.DECISION_BLOCK, DECISION_LABEL[action], reason, optional=action == "approve"),
    ]
    if action == "approve" and request.type == "contribute":
        scope = [option(ids.BLANKET_OPTION, "Approve the project going forward (12 months)")]
        built.append(
            field(
                ids.BLANKET_BLOCK, "Scope", CheckboxesElement(action_id=ids.FIELD_VALUE, options=scope), optional=True
            )
        )
    title = DECISION_TITLE[action]
    return modal(ACTION_ID[action], f"{title} {request.ref}", built, submit=title, metadata=str(request.id))


def answer_info_modal(request: Request) -> dict:
    """The requester answers the OSPO's question (request: with the question, Approvals.with_question)."""
    asked = section(fit(f"The OSPO asked: {quote(escape(request.reason or ''))}", MAX_SECTION))
    answer = field(ids.DECISION_BLOCK, "Your answer", text_input(ids.FIELD_VALUE, multiline=True, max_length=2000))
    return modal(ids.ANSWER_INFO, f"Answer {request.ref}", [asked, answer], submit="Send", metadata=str(request.id))


def answer_button(request: Request) -> ActionsBlock:
    return ActionsBlock(elements=[button("Answer", ids.ANSWER_INFO, str(request.id), style="primary")])


def requester_update_blocks(request: Request, note: str | None = None, zone: tzinfo = UTC) -> list[dict]:
    """The DM a requester gets when their request is decided or needs something (request: with
    the question, Approvals.with_question); note: a line under it; zone: the requester's."""
    built: list[Block] = [section(request_summary(request, zone))]
    if request.state == "auto_approved":
        built.append(section("You can go ahead:\n" + bullets([escape(r) for r in request.auto_reasons])))
    elif request.state == "pending":
        built.append(context("The OSPO approvers have it; you'll hear here when it is decided."))
    elif request.state in ("approved", "rejected"):
        why = f"\n{quote(escape(request.reason))}" if request.reason else ""
        cond = f"\n*Conditions:* {escape(request.conditions)}" if request.conditions else ""
        decided = f"{STATE_LABEL[request.state]} by <@{request.decided_by}> {when(request.decided_at, zone)}"
        built.append(section(f"{decided}{why}{cond}"))
    elif request.state == "needs_info":
        built.append(section(f"<@{request.decided_by}> needs more information:\n{quote(escape(request.reason or ''))}"))
        built.append(answer_button(request))
    if note:
        built.append(context(note))
    return to_dicts(built)


def requester_update_text(request: Request, note: str | None = None) -> str:
    return f"{request.ref}: {request.state}" + (f". {note}" if note else "")


def status_blocks(requests: list[Request], events: list[Event] | None = None, zone: tzinfo = UTC) -> list[dict]:
    if events is not None:
        (request,) = requests
        history = [
            f"• {when(e.at, zone)} <@{e.actor}>: {escape(e.from_state)} → {escape(e.to_state)}"
            + (f" — {escape(fit(e.reason, 200))}" if e.reason else "")
            for e in events[-20:]
        ]
        return to_dicts([section(request_summary(request, zone)), section("*History*\n" + "\n".join(history))])
    return to_dicts([section(status_text(requests))])


def status_text(requests: list[Request]) -> str:
    """My requests, one line each (also App Home's)."""
    if not requests:
        return "You have no approval requests. `/ospo approve` starts one."
    lines = [
        f"*{r.ref}* {TYPE_LABELS.get(r.type, r.type)} — {STATE_LABEL.get(r.state, r.state)} · {escape(r.subject)}"
        for r in requests[:40]
    ]
    return "*Your requests*\n" + bullets(lines)


# -- reminders (the scheduler's, posted by bot/slack/delivery.py) ------------------------------------
def overdue_reminder_text(overdue: list[SlaBreach]) -> str:
    """To approvers: the pending requests past their SLA."""
    lines = [f"*{b.ref}* ({b.type}, {escape(b.subject)}) from <@{b.requester}>: {sla_text(b)}" for b in overdue]
    return f"{len(overdue)} approval request(s) are past their SLA and still pending:\n" + bullets(lines)


def answer_reminder_blocks(request: Request, waited_days: int) -> list[dict]:
    """To a requester whose request has waited in needs_info (request: with the question): the
    question again and the same Answer button as the "Ask for info" DM."""
    return to_dicts(
        [
            section(answer_reminder_text(request, waited_days)),
            section(f"{_who(request.decided_by)} asked:\n{quote(escape(request.reason or ''))}"),
            answer_button(request),
        ]
    )


def answer_reminder_text(request: Request, waited_days: int) -> str:
    return (
        f"Your request *{request.ref}* has waited {waited_days} days for your answer: the OSPO asked for more "
        "information. Answer with the button below so that it can be decided."
    )


def _who(user: str | None) -> str:
    return f"<@{user}>" if user else "The OSPO"
