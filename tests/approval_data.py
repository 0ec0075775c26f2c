"""What the approval tests share: request forms (a trivial contribution, a release, a license
exception) and a settable clock."""

from datetime import UTC, datetime, timedelta

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
