"""What the approval tests share: request forms (a trivial contribution, a release, a license
exception), a settable clock, and the request form as Slack submits it."""

import itertools
from datetime import UTC, datetime, timedelta

from tests.slackkit import view_submission

SELECTS = {"change_kind", "security_fix", "all_ours", "telemetry", "cryptography", "confidential", "use"}
_n = itertools.count(1)

TRIVIAL = {
    "repository_url": "https://github.com/example/widget",
    "license": "MIT",
    "change_kind": "bugfix",
    "cla": "dco",
    "security_fix": False,
    "description": "Fix a crash on empty input.",
}
RELEASE = {
    "description": "Open-source our YAML linter.",
    "justification": "Customers ask for it.",
    "all_ours": True,
    "telemetry": False,
    "cryptography": False,
    "proposed_license": "Apache 2",
    "proposed_name": "yamlint-pro",
}
EXCEPTION = {
    "repository_url": "https://github.com/mongodb/mongo",
    "license": "SSPL",
    "use": "saas",
    "justification": "Needed for the analytics service.",
}


class Clock:
    """A settable clock for the Approvals, in the ISO format store.now() uses."""

    def __init__(self):
        self.at = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> str:
        self.at += timedelta(seconds=1)
        return self.at.isoformat(timespec="seconds")


# -- the request form in Slack ------------------------------------------------------------------
def form_state(kind: str | None, **fields) -> dict:
    """view.state.values of the request form as Slack sends it."""
    values = {}
    if kind:
        values["type"] = {"approval_type": {"type": "static_select", "selected_option": {"value": kind}}}
    for name, value in fields.items():
        if name in SELECTS:
            values[name] = {"value": {"type": "static_select", "selected_option": {"value": value}}}
        else:
            values[name] = {"value": {"type": "plain_text_input", "value": value}}
    return values


def submission(callback_id: str, metadata: str, values: dict, user: str) -> dict:
    """A view_submission with its own view id, as every modal Slack opens has."""
    payload = view_submission(callback_id, metadata, values, user=user)
    payload["view"] |= {"id": f"VSUB{next(_n):06d}", "hash": f"h{next(_n)}", "title": {"type": "plain_text"}}
    return payload


def contribution(marker: str, **overrides) -> dict:
    fields = {
        "repository_url": f"https://github.com/acme-oss/{marker}",
        "license": "MIT",
        "change_kind": "bugfix",
        "cla": "DCO",
        "security_fix": "no",
        "changed_lines": "12",
        "description": f"Fix the parser crash ({marker})",
    }
    return {**fields, **overrides}
