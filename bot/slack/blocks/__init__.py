"""Block Kit, built with slack_sdk.models: one module per surface (answers, triage, approvals, home,
digest) over the primitives and Slack's limits in kit.py. User text is escaped before it is shown,
and buttons carry only ids (bot/slack/ids.py)."""
