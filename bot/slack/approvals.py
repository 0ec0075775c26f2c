"""Approval requests in Slack: the request form, approvers deciding with buttons, the requester told,
`/ospo status` and `/ospo cancel`. The rules live in bot.approvals (who may decide, in which state);
this only adapts: it asks the core, and shows the core's refusal as it is."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from slack_bolt import App
from slack_sdk import WebClient

from bot.approvals import FIELDS, ApprovalError, InvalidRequest, NotFound, Request, parse_ref
from bot.slack import functions, ids, unfurls
from bot.slack.blocks import approvals as blocks
from bot.slack.blocks.kit import typed
from bot.slack.client import say
from bot.slack.outbox import outbox_note, post_request
from bot.slack.people import time_zone
from bot.wiring import Core

MAX_ERROR = 150  # Slack shows at most this much under a field


def register(app: App) -> None:
    app.action(ids.APPROVAL_OPEN)(open_from_answer)
    app.action(ids.APPROVAL_TYPE)(change_type)
    app.view(ids.APPROVAL_REQUEST)(submit)
    for decision in ids.DECISIONS:  # Approve, Reject, Ask for info: the button, then its modal
        app.action(decision)(open_decision)
        app.view(decision)(decide)
    app.action(ids.REOPEN)(reopen)
    app.action(ids.ANSWER_INFO)(open_answer)
    app.view(ids.ANSWER_INFO)(answer)


def request_id(body) -> int | None:
    try:
        return parse_ref(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError):
        return None


def error_text(error: ApprovalError) -> str:
    """What to show under the field: the rule's words, without the field name (Slack places it)."""
    if isinstance(error, InvalidRequest):
        return "; ".join(error.errors.values())[:MAX_ERROR]
    return str(error)[:MAX_ERROR]


# -- the form ---------------------------------------------------------------------------------------
def open_form(client: WebClient, trigger_id: str, values: dict) -> None:
    kind = values.pop("type", "contribute")
    client.views_open(trigger_id=trigger_id, view=blocks.approval_modal(kind, values))


def open_from_answer(ack, body, client, core: Core):
    """ "Request approval" under an answer: the form, its description the question."""
    ack()
    question = core.desk.question(request_id(body) or 0)
    open_form(client, body["trigger_id"], {"description": question["question"]} if question else {})


def change_type(ack, body, client):
    ack()
    view = body["view"]
    kind, fields = blocks.modal_values(view)
    client.views_update(view_id=view["id"], hash=view.get("hash"), view=blocks.approval_modal(kind, fields))


def submit(ack, body, view, client, core: Core):
    kind, fields = blocks.modal_values(view)
    errors = core.approvals.validate(kind, fields)
    if errors:
        # Inline, beside the fields; the modal stays open with everything typed in it.
        asked = {name for names in FIELDS.get(kind, ()) for name in names}
        shown = {name: message[:MAX_ERROR] for name, message in errors.items() if name in asked}
        ack(response_action="errors", errors=shown or {"description": "; ".join(errors.values())[:MAX_ERROR]})
        return
    ack()
    if view.get("id") and not core.desk.claim_event(f"view_submission:{view['id']}"):
        return  # a retried delivery of a form already submitted: one request, not two
    request = core.approvals.submit(body["user"]["id"], kind, fields)
    # Stored first: if Slack will not take the post now, the request waits in the outbox.
    failed = post_request(client, core, request) if request.state == "pending" else None
    tell_requester(client, core, request, note=outbox_note(request) if failed else None)


# -- approvers deciding -------------------------------------------------------------------------------
def open_decision(ack, body, client, core: Core):
    """Approve, Reject or Ask for info: the modal, for those the rules let decide now."""
    ack()
    action, user = ids.DECISIONS[body["actions"][0]["action_id"]], body["user"]["id"]
    try:
        request = core.approvals.check_decision(request_id(body) or 0, user, action, core.approvers.resolve())
    except NotFound:
        return
    except ApprovalError as error:
        say(client, (body.get("channel") or {}).get("id"), user, str(error))
        return
    # Dates in OSPO_TIMEZONE's fallback: no users.info lookup before views.open (the trigger lasts 3 s);
    # Slack shows them in the approver's own time zone anyway.
    zone = ZoneInfo(core.settings.timezone)
    client.views_open(trigger_id=body["trigger_id"], view=blocks.decision_modal(action, request, zone))


def decide(ack, body, view, client, core: Core):
    action, reason = ids.DECISIONS[view["callback_id"]], typed(view, ids.DECISION_BLOCK, ids.FIELD_VALUE)
    settle(
        ack,
        client,
        core,
        lambda: core.approvals.decide(
            parse_ref(view.get("private_metadata")) or 0,
            body["user"]["id"],
            action,
            reason=None if action == "approve" else reason,
            conditions=reason if action == "approve" else None,
            blanket=blocks.blanket_chosen(view),
            approvers=core.approvers.resolve(),
        ),
    )


def reopen(ack, body, client, core: Core):
    """Approvers may reopen a decision; it goes back to the queue with its history kept."""
    ack()
    user, channel = body["user"]["id"], (body.get("channel") or {}).get("id")
    try:
        request = core.approvals.decide(
            request_id(body) or 0, user, "reopen", reason="reopened from Slack", approvers=core.approvers.resolve()
        )
    except ApprovalError as error:
        say(client, channel, user, str(error))
        return
    announce(client, core, request)


# -- the requester answering "Ask for info" -----------------------------------------------------------
def open_answer(ack, body, client, core: Core):
    """The requester's Answer button, in the "Ask for info" DM and in the reminder."""
    ack()
    request = core.approvals.get(request_id(body) or 0)
    if request is None or request.requester != body["user"]["id"] or request.state != "needs_info":
        return
    client.views_open(
        trigger_id=body["trigger_id"], view=blocks.answer_info_modal(core.approvals.with_question(request))
    )


def answer(ack, body, view, client, core: Core):
    text = typed(view, ids.DECISION_BLOCK, ids.FIELD_VALUE) or ""
    answered = parse_ref(view.get("private_metadata")) or 0
    settle(ack, client, core, lambda: core.approvals.answer_info(answered, body["user"]["id"], text))


def settle(ack, client: WebClient, core: Core, change: Callable[[], Request]) -> None:
    """A decision or answer modal submitted: the core's refusal shown under its field (the modal
    stays open), or the modal closed and the change announced."""
    try:
        request = change()
    except ApprovalError as error:
        ack(response_action="errors", errors={ids.DECISION_BLOCK: error_text(error)})
        return
    ack()
    announce(client, core, request)


# -- /ospo status | cancel (called by commands.py) ------------------------------------------------------
def status(client: WebClient, core: Core, user: str, ref: str, respond) -> None:
    """One request with its history (the requester's, or anyone's for an approver), or all of mine."""
    if not ref:
        mine = core.approvals.list(requester=user)
        respond(response_type="ephemeral", text="Your requests", blocks=blocks.status_blocks(mine))
        return
    request = core.approvals.get(ref)
    if request is None or (request.requester != user and user not in core.approvers):
        respond(response_type="ephemeral", text=f"No request {ref} of yours.")
        return
    history, zone = core.approvals.events(request.id), time_zone(client, user, core.settings.timezone)
    respond(response_type="ephemeral", text=request.ref, blocks=blocks.status_blocks([request], history, zone))


def cancel(client: WebClient, core: Core, user: str, ref: str, respond) -> None:
    try:
        request = core.approvals.cancel(ref, user, approvers=core.approvers.resolve())
    except ApprovalError as error:
        respond(response_type="ephemeral", text=str(error))
        return
    respond(response_type="ephemeral", text=f"{request.ref} cancelled.")
    refresh_channel_message(client, core, request)


# -- telling people -------------------------------------------------------------------------------------
def announce(client: WebClient, core: Core, request: Request) -> None:
    """A request changed: the approvers' message updated, the requester told."""
    refresh_channel_message(client, core, request)
    tell_requester(client, core, request)


def refresh_channel_message(client: WebClient, core: Core, request: Request) -> None:
    """The approvers' message of the request, updated (and its cards and unfurls elsewhere, and the
    workflow steps waiting for it ended); a request back in the queue that was never posted is posted now."""
    request = core.approvals.with_question(request)
    functions.settle(client, core, request)
    unfurls.refresh(client, core, request)
    posted = core.approvals.posted_message(request.id)
    if posted:
        channel, ts = posted
        blocks_ = blocks.request_blocks(request, buttons=True, zone=ZoneInfo(core.settings.timezone))
        client.chat_update(channel=channel, ts=ts, text=f"{request.ref}: {request.state}", blocks=blocks_)
    elif request.state == "pending":
        post_request(client, core, request)


def tell_requester(client: WebClient, core: Core, request: Request, note: str | None = None) -> None:
    request = core.approvals.with_question(request)
    zone = time_zone(client, request.requester, core.settings.timezone)
    client.chat_postMessage(
        channel=request.requester,
        text=blocks.requester_update_text(request, note),
        blocks=blocks.requester_update_blocks(request, note, zone),
    )
