"""What the Slack app must be granted and subscribed to, and why: the manifests list exactly these
(tests/test_manifest.py keeps them, the listeners and this module in line), and `ospo-bot doctor`
compares the scopes Slack granted (auth.test) with SCOPES, naming what is missing and what it is for."""

from __future__ import annotations

SCOPES = {
    "app_mentions:read": "@ospo-bot in channels",
    "assistant:write": "the assistant pane: status while searching, thread titles, suggested prompts",
    "channels:history": "follow-ups in its threads, help channels, triage replies",
    "groups:history": "the same in private channels it is invited to",
    "im:history": "DMs to the bot",
    "links:read": "link_shared: handbook and request links posted where the bot is",
    "links:write": "chat.unfurl: those links shown as the section's quote or the request's card",
    "chat:write": "answers, triage posts, relayed replies, notices",
    "commands": "/ospo",
    "files:read": "SBOMs and lockfiles shared with the bot, checked (files.info, url_private)",
    "files:write": "the weekly digest's chart, a dependency check's table",
    "reactions:write": "the 👀 while it works",
    "usergroups:read": "OSPO_APPROVERS may name a user group",
    "users:read": "each person's time zone (users.info), for dates",
}

# The bot events (settings.event_subscriptions.bot_events) and the scope each needs.
EVENTS = {
    "app_home_opened": None,
    "app_mention": "app_mentions:read",
    "assistant_thread_context_changed": "assistant:write",
    "assistant_thread_started": "assistant:write",
    "function_executed": None,  # Workflow Builder steps (the manifest's functions)
    "link_shared": "links:read",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
}


def missing(granted: str | None) -> dict[str, str]:
    """The scopes the app needs but Slack did not grant ({scope: what it is for}), from auth.test's
    x-oauth-scopes header ("a,b,c"); None (the header absent) is taken as nothing to compare."""
    if granted is None:
        return {}
    have = {scope.strip() for scope in granted.split(",")}
    return {scope: why for scope, why in SCOPES.items() if scope not in have}
