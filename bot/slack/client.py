"""The Web API client and the small things every surface does with it: the WebClient (base URL
from SLACK_API_URL, retrying 429s and 5xx), a user group's members, a private word to one person,
and what went wrong with a call (said without anything the message held)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Settings

log = logging.getLogger(__name__)


def web_client(settings: Settings, token: str | None = None) -> WebClient:
    """The bot's client; with SLACK_TOKEN_ROTATION, one that takes the current rotating token for every call."""
    options = {
        "base_url": settings.slack_api_url,
        "timeout": settings.slack_api_timeout,
        "retry_handlers": [
            RateLimitErrorRetryHandler(max_retry_count=3),  # waits for Retry-After
            ServerErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=1),
        ],
    }
    if settings.slack_token_rotation and token is None:
        from bot.slack.tokens import RotatingClient, TokenKeeper

        return RotatingClient(TokenKeeper(settings, WebClient(**options)), **options)
    return WebClient(token=token or settings.slack_bot_token, **options)


def group_members(client: WebClient) -> Callable[[str], list[str]]:
    """A user group's members, as bot.approvals.Approvers expands OSPO_APPROVERS' groups (S...)."""

    def members(group: str) -> list[str]:
        try:
            return list(client.usergroups_users_list(usergroup=group)["users"])
        except SlackApiError as error:
            log.error("cannot read approver group %s: %s", group, error.response.get("error"))
            return []

    return members


def say(client: WebClient, channel: str | None, user: str, text: str) -> None:
    """To `user` alone: an ephemeral message where they are, else a DM."""
    if channel:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
    else:
        client.chat_postMessage(channel=user, text=text)


def failure(error: Exception) -> str:
    """What went wrong with a Web API call, without anything the message said."""
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or f"HTTP {error.response.status_code}")
    return type(error).__name__


def slack_unavailable(error: Exception) -> bool:
    """Slack itself failing (a timeout, no connection, 429 or 5xx after the client's retries), rather
    than refusing one call with ok: false."""
    return not isinstance(error, SlackApiError) or error.response.status_code != 200
