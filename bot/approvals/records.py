"""What the ledger keeps: a request and its audit events, and the refusals people are shown."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bot.approvals.forms import subject

STATES = ("pending", "auto_approved", "approved", "rejected", "needs_info", "cancelled")  # stored states
TRANSITIONS = {
    "submitted": {"auto_approved", "pending"},
    "pending": {"approved", "rejected", "needs_info", "cancelled"},
    "needs_info": {"pending", "cancelled"},
    "approved": {"reopened"},
    "rejected": {"reopened"},
    "reopened": {"pending"},
}
DECIDED = {"auto_approved", "approved", "rejected"}


class ApprovalError(Exception):
    """Base class: the message is written for the person who clicked."""


class InvalidRequest(ApprovalError, ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class NotFound(ApprovalError, LookupError):
    pass


class NotAllowed(ApprovalError, PermissionError):
    pass


class InvalidTransition(ApprovalError):
    def __init__(self, message: str, state: str):
        super().__init__(message)
        self.state = state


class AlreadyDecided(InvalidTransition):
    def __init__(self, message: str, state: str, decided_by: str | None, decided_at: str | None):
        super().__init__(message, state)
        self.decided_by, self.decided_at = decided_by, decided_at


@dataclass
class Event:
    id: int
    request_id: int
    actor: str
    at: str
    from_state: str
    to_state: str
    reason: str | None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Request:
    id: int
    ref: str
    type: str
    requester: str
    state: str
    fields: dict[str, Any]
    repo: str | None  # normalised repository URL
    license_expression: str | None
    license_category: str | None
    auto_reasons: list[str]  # why it was auto-approved
    flags: list[str]  # what the policy flagged, and why
    precedent: list[dict[str, Any]]  # earlier decisions for the same repository, newest first
    blanket: bool
    blanket_until: str | None
    decided_by: str | None
    decided_at: str | None
    reason: str | None
    conditions: str | None
    created_at: str
    updated_at: str

    @property
    def subject(self) -> str:
        """What it is about: the repository, else the proposed name, else the description."""
        return subject(self.repo, self.fields)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
