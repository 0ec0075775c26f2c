"""Requests made by a workflow (Workflow Builder's "Request OSPO approval" step): each waits here
until the request is decided, then the workflow goes on with the outcome, or stops with a reason.

What a workflow learns of a request, in plain values (the Slack adapter, bot/slack/functions.py,
hands them to Slack):

    steps = WorkflowSteps(core.database.get)
    steps.start("Fx123", request.id)
    for waiting in steps.waiting(timeout_days=14):
        done = outcome(request, waiting.overdue)  # None: still waiting
        if done and steps.finish(waiting.execution, done.failed):
            ...  # tell Slack, once, whatever the number of processes

A step finishes once: `finish` is a conditional update, so two processes (or the decision and the
housekeeping loop) never both complete it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.approvals.records import Request
from bot.store import iso, now

SUCCEEDED = {"approved", "auto_approved"}


@dataclass(frozen=True)
class Waiting:
    execution: str  # the workflow step's execution id
    request_id: int
    started_at: str
    overdue: bool  # waited longer than the timeout


@dataclass(frozen=True)
class Outcome:
    """How the step ends: outputs for the workflow's next steps, or the reason it failed."""

    outputs: dict[str, str]
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


def outcome(request: Request, overdue: bool = False, timeout_days: int = 0) -> Outcome | None:
    """The step's end for a request as it stands now; None while it is still being decided."""
    if request.state in SUCCEEDED:
        outputs = {"reference": request.ref, "state": request.state, "conditions": request.conditions or ""}
        if request.decided_by and request.state == "approved":
            outputs["decided_by"] = request.decided_by
        return Outcome(outputs)
    reason = f": {request.reason}" if request.reason else ""
    if request.state == "rejected":
        return Outcome({}, f"{request.ref} was rejected by the OSPO{reason}")
    if request.state == "cancelled":
        return Outcome({}, f"{request.ref} was cancelled{reason}")
    if overdue:
        return Outcome(
            {},
            f"{request.ref} was not decided within {timeout_days} days. The request stays open: follow it with "
            f"`/ospo status {request.ref}` and run the workflow again once it is approved.",
        )
    return None  # pending, or waiting for the requester's answer


class WorkflowSteps:
    def __init__(self, db: Callable, clock: Callable[[], str] = now):
        self._db, self.clock = db, clock

    @property
    def db(self):
        return self._db()

    def start(self, execution: str, request_id: int) -> bool:
        """Remember that the step waits for the request; False when this execution is already known
        (Slack delivered its event twice)."""
        with self.db.writing():
            cursor = self.db.execute(
                "INSERT INTO workflow_steps (execution, request_id, started_at) VALUES (?, ?, ?) "
                "ON CONFLICT (execution) DO NOTHING",
                [execution, request_id, self.clock()],
            )
        return cursor.rowcount == 1

    def waiting(self, request_id: int | None = None, timeout_days: int = 0) -> list[Waiting]:
        """The steps not finished yet (of one request, or all), oldest first."""
        where, args = ("AND request_id = ?", [request_id]) if request_id is not None else ("", [])
        rows = self.db.execute(
            f"SELECT execution, request_id, started_at FROM workflow_steps WHERE finished_at IS NULL {where} "
            "ORDER BY started_at, execution",
            args,
        ).fetchall()
        deadline = iso(datetime.fromisoformat(self.clock()) - timedelta(days=timeout_days)) if timeout_days else None
        return [Waiting(e, r, s, deadline is not None and s < deadline) for e, r, s in rows]

    def finish(self, execution: str, failed: bool) -> bool:
        """Claim the step's end: True for the one caller that should tell Slack."""
        with self.db.writing():
            cursor = self.db.execute(
                "UPDATE workflow_steps SET finished_at = ?, outcome = ? WHERE execution = ? AND finished_at IS NULL",
                [self.clock(), "failed" if failed else "completed", execution],
            )
        return cursor.rowcount == 1

    def unfinish(self, execution: str) -> None:
        """Slack could not be told (it was down): the next housekeeping round tries again."""
        with self.db.writing():
            self.db.execute(
                "UPDATE workflow_steps SET finished_at = NULL, outcome = NULL WHERE execution = ?", [execution]
            )
