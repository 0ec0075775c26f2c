"""Approval requests: the form (forms), the policy applied on submission (rules), decisions and the
append-only audit trail (ledger, audit), and who the approvers are (approvers).

Plain Python over SQLite; the Slack modal and buttons (and the CLI) call it and render what it
returns. Nothing here knows Slack.
"""

from bot.approvals.approvers import Approvers
from bot.approvals.forms import (
    FIELD_SPECS,
    FIELDS,
    KINDS,
    PREFIX,
    TYPE_LABELS,
    TYPES,
    Field,
    find_refs,
    normalise_url,
    parse_ref,
    ref,
    subject,
)
from bot.approvals.ledger import ACTIONS, BLANKET_MONTHS, BOT, OUTBOX, VERBS, Approvals, plus_months
from bot.approvals.records import (
    DECIDED,
    STATES,
    TRANSITIONS,
    AlreadyDecided,
    ApprovalError,
    Event,
    InvalidRequest,
    InvalidTransition,
    NotAllowed,
    NotFound,
    Request,
)
from bot.approvals.shown import Showing, Shown
from bot.approvals.steps import Outcome, WorkflowSteps, outcome

__all__ = [
    "ACTIONS",
    "BLANKET_MONTHS",
    "BOT",
    "DECIDED",
    "FIELDS",
    "FIELD_SPECS",
    "KINDS",
    "OUTBOX",
    "PREFIX",
    "STATES",
    "TRANSITIONS",
    "TYPES",
    "TYPE_LABELS",
    "VERBS",
    "AlreadyDecided",
    "ApprovalError",
    "Approvals",
    "Approvers",
    "Event",
    "Field",
    "InvalidRequest",
    "InvalidTransition",
    "NotAllowed",
    "NotFound",
    "Request",
    "Outcome",
    "Shown",
    "Showing",
    "WorkflowSteps",
    "find_refs",
    "normalise_url",
    "outcome",
    "parse_ref",
    "plus_months",
    "ref",
    "subject",
]
