"""Workflow Builder custom steps (the manifest's `functions`, `function_executed` events), through
Bolt's app.function: teams put OSPO approval and license checks inside their own workflows.

- "Request OSPO approval" (ids.APPROVAL_STEP): the inputs are the request form's fields and the
  person the request is for. An auto-approved request completes the step at once; a pending one goes
  to the approvers like any other (the requester gets the usual DM) and the step waits. It completes
  with the request's reference and final state once approved, and fails with the reason when the
  request is rejected, cancelled, or still undecided after OSPO_STEP_TIMEOUT_DAYS. Inputs the form
  would refuse fail the step at once, saying what to fix in Workflow Builder.
- "Check a license" (ids.LICENSE_STEP): the license policy's verdict for one use, at once.

A step that waits is ended later with the bot's own token (functions.completeSuccess needs no scope),
by whoever changes the request (a decision, a cancellation) or by the housekeeping loop (timeouts,
and a completion Slack could not take the first time). Each step is ended once (bot/approvals/steps.py).
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import licenses
from bot.approvals import FIELD_SPECS, TYPES, Outcome, Request, outcome
from bot.approvals.steps import Waiting
from bot.slack import approvals, ids
from bot.slack.client import failure
from bot.slack.outbox import outbox_note, post_request
from bot.wiring import Core

log = logging.getLogger(__name__)
FIX_IT = "Edit the step in Workflow Builder and run the workflow again."
ALREADY_ENDED = {"execution_not_in_running_state", "function_execution_not_found"}  # the workflow was stopped


def register(app: App) -> None:
    app.function(ids.APPROVAL_STEP)(request_approval)
    app.function(ids.LICENSE_STEP)(check_license)


# -- Request OSPO approval ---------------------------------------------------------------------------
def request_approval(event, inputs, client, fail, core: Core):
    execution = event["function_execution_id"]
    requester = str(inputs.get("requester") or "").strip()
    kind = str(inputs.get("type") or "").strip().lower()
    fields = {name: value for name, value in inputs.items() if name in FIELD_SPECS and value not in (None, "")}
    problem = input_problem(core, requester, kind, fields)
    if problem:
        fail(problem)
        return
    if not core.desk.claim_event(f"function_executed:{execution}"):
        return  # the same execution delivered again: one request, not two
    request = core.approvals.submit(requester, kind, fields)
    core.steps.start(execution, request.id)
    log.info("workflow step %s asked for %s (%s)", execution, request.ref, request.state)
    failed = post_request(client, core, request) if request.state == "pending" else None
    approvals.tell_requester(client, core, request, note=outbox_note(request) if failed else None)
    settle(client, core, request)  # auto-approved: the workflow goes on now


def input_problem(core: Core, requester: str, kind: str, fields: dict) -> str | None:
    """What is wrong with the step's inputs, in the form's words; None when it can be submitted."""
    if not requester.startswith(("U", "W")):
        return f"The step needs the person the request is for (a user, e.g. the person who ran the workflow). {FIX_IT}"
    if kind not in TYPES:
        return f"The request type must be one of {', '.join(TYPES)}, not {kind[:40]!r}. {FIX_IT}"
    errors = core.approvals.validate(kind, fields)
    if errors:
        listed = "; ".join(f"{name}: {message}" for name, message in errors.items())
        return f"The OSPO cannot take this {kind} request: {listed} {FIX_IT}"
    return None


def settle(client: WebClient, core: Core, request: Request) -> None:
    """The steps waiting for this request, ended if its new state ends them (approved, rejected, cancelled)."""
    for waiting in core.steps.waiting(request.id):
        end(client, core, waiting, outcome(request))


def settle_waiting(client: WebClient, core: Core) -> int:
    """Housekeeping: every waiting step whose request is decided, gone, or past the timeout. Returns how many ended."""
    days, ended = core.settings.step_timeout_days, 0
    for waiting in core.steps.waiting(timeout_days=days):
        request = core.approvals.get(waiting.request_id)
        done = outcome(request, waiting.overdue, days) if request else Outcome({}, "The request no longer exists.")
        ended += end(client, core, waiting, done)
    return ended


def end(client: WebClient, core: Core, waiting: Waiting, done: Outcome | None) -> bool:
    """Tell Slack how the step ended, once; a call Slack could not take is tried again by housekeeping."""
    if done is None or not core.steps.finish(waiting.execution, done.failed):
        return False
    try:
        if done.failed:
            client.functions_completeError(function_execution_id=waiting.execution, error=done.error)
        else:
            client.functions_completeSuccess(function_execution_id=waiting.execution, outputs=done.outputs)
    except (SlackApiError, OSError) as error:  # OSError: timeouts and connection errors
        if isinstance(error, SlackApiError) and error.response.get("error") in ALREADY_ENDED:
            log.info("workflow step %s had already ended in Slack", waiting.execution)
            return True
        core.steps.unfinish(waiting.execution)
        log.warning("workflow step %s not ended (%s); tried again later", waiting.execution, failure(error))
        return False
    log.info("workflow step %s %s", waiting.execution, "failed" if done.failed else "completed")
    return True


# -- Check a license ---------------------------------------------------------------------------------
def check_license(inputs, complete, fail, core: Core):
    text, use = str(inputs.get("license") or "").strip(), str(inputs.get("use") or "").strip().lower()
    if not text:
        fail(f'The step needs the license to check, e.g. "Apache 2" or "GPL-3.0-only". {FIX_IT}')
        return
    if use not in core.policy.uses:
        fail(f"The use must be one of {', '.join(core.policy.uses)}, not {use[:40]!r}. {FIX_IT}")
        return
    report = licenses.check(text[:500], core.policy, use)
    verdict = report.verdicts[use]
    complete(
        outputs={
            "verdict": verdict.verdict,
            "verdict_label": verdict.label,
            "allowed": verdict.verdict in ("allowed", "conditions"),
            "expression": report.expression or "",
            "reason": verdict.reason,
        }
    )
