"""Approval requests in Slack: the request form, approvers deciding with buttons, the requester
told, `/ospo status` and `/ospo cancel`. The rules live in bot/approvals.py; this only adapts."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import approvals as core
from bot import claims
from bot.config import Settings
from bot.helpdesk import HelpDesk
from bot.slack import blocks

log = logging.getLogger(__name__)
GROUP_CACHE_SECONDS = 300
OUTBOX = "approval_post"  # claims.what: posting a request to the approvals channel


class Approvers:
    """OSPO_APPROVERS: user ids, and user groups resolved through the Web API (cached briefly)."""

    def __init__(self, ids: set[str]):
        self.users = {i for i in ids if not i.startswith("S")}
        self.groups = {i for i in ids if i.startswith("S")}
        self._cache: tuple[float, frozenset[str]] | None = None
        self._lock = threading.Lock()

    def resolve(self, client: WebClient) -> frozenset[str]:
        with self._lock:
            if self._cache and time.monotonic() - self._cache[0] < GROUP_CACHE_SECONDS:
                return self._cache[1]
            members = set(self.users)
            for group in self.groups:
                try:
                    members |= set(client.usergroups_users_list(usergroup=group)["users"])
                except SlackApiError as error:
                    log.error("cannot read approver group %s: %s", group, error.response.get("error"))
            self._cache = (time.monotonic(), frozenset(members))
            return self._cache[1]


def error_text(error: core.ApprovalError) -> str:
    """What to show under the field: the rule's words, without the field name (Slack places it)."""
    if isinstance(error, core.InvalidRequest):
        return "; ".join(error.errors.values())[:150]
    return str(error)[:150]


def request_id(body) -> int | None:
    try:
        return core.parse_ref(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError):
        return None


class ApprovalsSurface:
    """What the other surfaces need from this one: `/ospo approve|status|cancel` and App Home."""

    def __init__(self, command, home, is_ospo):
        self.command = command
        self.home = home
        self.is_ospo = is_ospo  # (user, client) -> bool: an approver, i.e. on the OSPO team


def register(app: App, desk: HelpDesk, settings: Settings, ledger: core.Approvals) -> ApprovalsSurface:
    approvers = Approvers(settings.approver_ids)

    def post_for_approvers(client, request) -> Exception | None:
        return post_request(client, desk.db, settings, request)

    def with_question(request):
        """A needs_info request with who asked what: the rules keep the question in the audit trail only."""
        if request.state != "needs_info":
            return request
        asked = [e for e in ledger.events(request.id) if e.to_state == "needs_info"]
        return dataclasses.replace(request, decided_by=asked[-1].actor, reason=asked[-1].reason) if asked else request

    def refresh_channel_message(client, request) -> None:
        request = with_question(request)
        row = desk.db.execute("SELECT channel, ts FROM approval_messages WHERE request_id = ?", [request.id]).fetchone()
        if row:
            client.chat_update(
                channel=row[0],
                ts=row[1],
                text=f"{request.ref}: {request.state}",
                blocks=blocks.request_blocks(request, buttons=True),
            )
        elif request.state == "pending":
            post_for_approvers(client, request)

    def tell_requester(client, request, note: str | None = None) -> None:
        request = with_question(request)
        extra = [blocks.context(note).to_dict()] if note else []
        client.chat_postMessage(
            channel=request.requester,
            text=f"{request.ref}: {request.state}" + (f". {note}" if note else ""),
            blocks=blocks.requester_update_blocks(request) + extra,
        )

    def open_form(client, trigger_id: str, values: dict) -> None:
        kind = values.pop("type", "contribute")
        client.views_open(trigger_id=trigger_id, view=blocks.approval_modal(kind, core.FIELDS, values))

    # -- /ospo approve | status | cancel (called by commands.py) --------------------------
    def command(word: str, rest: str, command_payload: dict, client, respond) -> None:
        user = command_payload["user_id"]
        if word == "approve":
            values = {"repository_url": rest.split()[0]} if rest.strip() else {}
            open_form(client, command_payload["trigger_id"], values)  # first: trigger_id lives 3 s
        elif word == "status":
            if rest.strip():
                request = ledger.get(rest.strip())
                if request is None or (request.requester != user and user not in approvers.resolve(client)):
                    respond(response_type="ephemeral", text=f"No request {rest.strip()} of yours.")
                    return
                respond(
                    response_type="ephemeral",
                    text=request.ref,
                    blocks=blocks.status_blocks([request], ledger.events(request.id)),
                )
            else:
                respond(
                    response_type="ephemeral",
                    text="Your requests",
                    blocks=blocks.status_blocks(ledger.list(requester=user)),
                )
        elif word == "cancel":
            try:
                request = ledger.cancel(rest.strip(), user, approvers=approvers.resolve(client))
            except core.ApprovalError as error:
                respond(response_type="ephemeral", text=str(error))
                return
            respond(response_type="ephemeral", text=f"{request.ref} cancelled.")
            refresh_channel_message(client, request)

    def home(user: str, client) -> tuple[list, list | None]:
        """(my requests, the pending queue if I am an approver) for App Home."""
        queue = ledger.pending() if user in approvers.resolve(client) else None
        return ledger.list(requester=user)[:10], queue

    # -- the form -------------------------------------------------------------------------
    @app.action("approval_open")
    def open_from_answer(ack, body, client):
        ack()
        question = desk.question(request_id(body) or 0)
        values = {"description": question["question"]} if question else {}
        open_form(client, body["trigger_id"], values)

    @app.action("approval_type")
    def change_type(ack, body, client):
        ack()
        view = body["view"]
        kind, fields = blocks.modal_values(view)
        client.views_update(
            view_id=view["id"], hash=view.get("hash"), view=blocks.approval_modal(kind, core.FIELDS, fields)
        )

    @app.view("approval_request")
    def submit(ack, body, view, client):
        kind, fields = blocks.modal_values(view)
        errors = ledger.validate(kind, fields)
        shown = {
            name: message[:150]
            for name, message in errors.items()
            if name in core.FIELDS[kind][0] or name in core.FIELDS[kind][1]
        }
        if errors:
            # Inline, beside the fields; the modal stays open with everything typed in it.
            ack(response_action="errors", errors=shown or {"description": "; ".join(errors.values())[:150]})
            return
        ack()
        if view.get("id") and not desk.claim_event(f"view_submission:{view['id']}"):
            return  # a retried delivery of a form already submitted: one request, not two
        request = ledger.submit(body["user"]["id"], kind, fields)
        # Stored first: if Slack will not take the post now, the request waits in the outbox.
        failed = post_for_approvers(client, request) if request.state == "pending" else None
        tell_requester(client, request, note=outbox_note(request) if failed else None)

    # -- approvers deciding -----------------------------------------------------------------
    def start_decision(action: str):
        def handler(ack, body, client):
            ack()
            request = ledger.get(request_id(body) or 0)
            user = body["user"]["id"]
            if request is None:
                return
            channel = (body.get("channel") or {}).get("id")
            if user not in approvers.resolve(client):
                say(client, channel, user, "Only OSPO approvers can decide requests.")
                return
            if user == request.requester:  # the rules refuse every decision on one's own request
                verb = {"needs_info": "ask for info on"}.get(action, action)
                say(client, channel, user, f"You cannot {verb} your own request {request.ref}; another approver must.")
                return
            if request.state != "pending":
                who = f" by <@{request.decided_by}>" if request.decided_by else ""
                say(client, channel, user, f"{request.ref} is already {request.state}{who}.")
                return
            client.views_open(trigger_id=body["trigger_id"], view=blocks.decision_modal(action, request))

        return handler

    for action in ("approve", "reject", "needs_info"):
        app.action(f"approval_{action}")(start_decision(action))

    def finish_decision(action: str):
        def handler(ack, body, view, client):
            reason = reason_text(view)
            blanket = bool(((view["state"]["values"].get("blanket") or {}).get("value") or {}).get("selected_options"))
            user = body["user"]["id"]
            try:
                request = ledger.decide(
                    core.parse_ref(view.get("private_metadata")) or 0,
                    user,
                    action,
                    reason=None if action == "approve" else reason,
                    conditions=reason if action == "approve" else None,
                    blanket=blanket,
                    approvers=approvers.resolve(client),
                )
            except core.ApprovalError as error:
                ack(response_action="errors", errors={"reason": error_text(error)})
                return
            ack()
            refresh_channel_message(client, request)
            tell_requester(client, request)

        return handler

    for action in ("approve", "reject", "needs_info"):
        app.view(f"approval_{action}")(finish_decision(action))

    @app.action("approval_reopen")
    def reopen(ack, body, client):
        """Approvers may reopen a decision; it goes back to the queue with its history kept."""
        ack()
        user, channel = body["user"]["id"], (body.get("channel") or {}).get("id")
        try:
            request = ledger.decide(
                request_id(body) or 0, user, "reopen", reason="reopened from Slack", approvers=approvers.resolve(client)
            )
        except core.ApprovalError as error:
            say(client, channel, user, str(error))
            return
        refresh_channel_message(client, request)
        tell_requester(client, request)

    # -- the requester answering "Ask for info" -------------------------------------------
    @app.action("approval_answer")
    def open_answer(ack, body, client):
        ack()
        request = ledger.get(request_id(body) or 0)
        if request is None or request.requester != body["user"]["id"] or request.state != "needs_info":
            return
        client.views_open(trigger_id=body["trigger_id"], view=blocks.answer_info_modal(with_question(request)))

    @app.view("approval_answer")
    def answer(ack, body, view, client):
        text = reason_text(view) or ""
        try:
            request = ledger.answer_info(core.parse_ref(view.get("private_metadata")) or 0, body["user"]["id"], text)
        except core.ApprovalError as error:
            ack(response_action="errors", errors={"reason": error_text(error)})
            return
        ack()
        refresh_channel_message(client, request)
        tell_requester(client, request)

    def is_ospo(user: str, client) -> bool:
        return user in approvers.resolve(client)

    return ApprovalsSurface(command, home, is_ospo)


# -- the outbox: pending requests the approvers have not been shown ----------------------------
def post_request(client, db, settings: Settings, request) -> Exception | None:
    """Post a pending request to OSPO_APPROVALS_CHANNEL, once whatever the number of processes, and
    remember the message (so decisions update it). Returns the error when Slack did not take it:
    the request stays in the outbox (pending, no approvals message) and housekeeping posts it later."""
    if not settings.approvals_channel:
        log.warning("%s is pending but OSPO_APPROVALS_CHANNEL is not set", request.ref)
        return None
    token = claims.claim(db, OUTBOX, request.id)
    if token is None:
        return None  # another process or thread is posting it right now
    posted = None
    try:
        if unposted(db, request.id):  # checked under the claim: whoever held it before may have posted it
            posted = client.chat_postMessage(
                channel=settings.approvals_channel,
                text=f"{request.ref} needs a decision",
                blocks=blocks.request_blocks(request, buttons=True),
            )
    except (SlackApiError, OSError) as error:  # OSError: timeouts and connection errors
        log.warning("%s not posted for approvers (%s); it stays in the outbox", request.ref, failure(error))
        return error
    finally:
        with db.conn:  # the message and the release together: the next claimer sees it posted
            if posted is not None:
                db.execute(
                    "INSERT OR REPLACE INTO approval_messages (request_id, channel, ts) VALUES (?, ?, ?)",
                    [request.id, settings.approvals_channel, posted["ts"]],
                )
            claims.release(db, OUTBOX, request.id, token)
    return None


def unposted(db, request_id: int | None = None) -> list[int]:
    """Pending requests without an approvals-channel message (all, or just request_id), oldest first."""
    where = "AND id = ?" if request_id is not None else ""
    rows = db.execute(
        "SELECT id FROM approval_requests WHERE state = 'pending' "
        f"AND id NOT IN (SELECT request_id FROM approval_messages) {where} ORDER BY created_at, id",
        [request_id] if request_id is not None else [],
    ).fetchall()
    return [r[0] for r in rows]


def post_outbox(client, db, settings: Settings, ledger: core.Approvals) -> int:
    """Post what Slack refused before, oldest first (run by the housekeeping loop). Returns how many
    went out. When Slack itself is failing the round stops there, and the next round tries again."""
    if not settings.approvals_channel:
        return 0
    done = 0
    for request_id in unposted(db):
        request = ledger.get(request_id)
        error = post_request(client, db, settings, request) if request else None
        if error is None:
            done += 1
        elif slack_unavailable(error):
            break
        # else Slack refused this one message (e.g. invalid_blocks): the others may still go
    if done:
        log.info("posted %d request(s) from the outbox for approvers", done)
    return done


def outbox_note(request) -> str:
    return f"Saved as {request.ref}; approvers will see it as soon as Slack lets me post it."


def slack_unavailable(error: Exception) -> bool:
    """Slack itself failing (a timeout, no connection, 429 or 5xx after the client's retries), rather
    than refusing one call with ok: false."""
    return not isinstance(error, SlackApiError) or error.response.status_code != 200


def failure(error: Exception) -> str:
    """What went wrong with a Web API call, without anything the message said."""
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or f"HTTP {error.response.status_code}")
    return type(error).__name__


def reason_text(view: dict) -> str | None:
    """What was typed in a decision or answer modal's "reason" field."""
    return (((view.get("state") or {}).get("values") or {}).get("reason") or {}).get("value", {}).get("value")


def say(client, channel: str | None, user: str, text: str) -> None:
    if channel:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
    else:
        client.chat_postMessage(channel=user, text=text)
