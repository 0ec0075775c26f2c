"""Request forms the approval tests share: a trivial contribution and a release."""

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
