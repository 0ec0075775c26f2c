"""Build the Bolt app: one WebClient (base URL from SLACK_API_URL, retrying 429s and 5xx),
event dedupe, an error handler that apologises instead of staying silent, and every surface."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.approvals import Approvals
from bot.config import Settings
from bot.helpdesk import HelpDesk
from bot.licenses import default_policy_path, load_policy
from bot.slack import actions, approvals, blocks, commands, events, views

log = logging.getLogger(__name__)


def web_client(settings: Settings, token: str | None = None) -> WebClient:
    return WebClient(
        token=token or settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=3),  # waits for Retry-After
            ServerErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=1),
        ],
    )


def build_app(
    settings: Settings, desk: HelpDesk, client: WebClient | None = None, process_before_response: bool = False
) -> App:
    """process_before_response=True runs each listener to the end before answering Slack (what the
    tests' fuzzing uses to see every failure); the server acks first and works after."""
    app = App(
        client=client or web_client(settings),
        signing_secret=settings.slack_signing_secret or "",
        # Socket Mode requests come over the app's own authenticated socket, unsigned.
        request_verification_enabled=not settings.socket_mode,
        token_verification_enabled=True,  # calls auth.test at start-up: a bad token fails now
        process_before_response=process_before_response,
    )

    @app.middleware
    def drop_retried_events(body, next):
        """Slack resends an event it thinks we missed (X-Slack-Retry-Num, same event_id);
        SQLite remembers every event id, so a retry or a restart never answers twice."""
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if event_id and not desk.claim_event(event_id):
            return BoltResponse(status=200, body="")
        return next()

    @app.error
    def apologise(error, body, logger):
        logger.error("failed to handle %s: %s", describe(body), error, exc_info=not isinstance(error, SlackApiError))
        user, channel = who_and_where(body)
        if not user:
            return
        try:
            if channel:
                app.client.chat_postEphemeral(channel=channel, user=user, text=blocks.apology_text())
            else:
                app.client.chat_postMessage(channel=user, text=blocks.apology_text())
        except SlackApiError as second:
            logger.error("could not tell %s about the failure either: %s", user, second.response.get("error"))

    ledger = Approvals(lambda: desk.db, load_policy(default_policy_path()))
    approvals_surface = approvals.register(app, desk, settings, ledger)
    events.register(app, desk, settings, approvals_surface)
    commands.register(app, desk, settings, approvals_surface)
    actions.register(app, desk, settings, approvals_surface)
    views.register(app, desk, settings, approvals_surface)
    return app


def describe(body) -> str:
    """A payload named without its text (logs must not carry what people typed)."""
    if not isinstance(body, dict):
        return "request"
    event = body.get("event") if isinstance(body.get("event"), dict) else {}
    parts = (body.get("type"), body.get("command"), event.get("type"), body.get("event_id"))
    return " ".join(str(p) for p in parts if p) or "request"


def _id(value) -> str | None:
    return value.get("id") if isinstance(value, dict) else value


def who_and_where(body) -> tuple[str | None, str | None]:
    """The user to apologise to and the channel they were in, from any kind of payload."""
    if not isinstance(body, dict):
        return None, None
    event = body.get("event") if isinstance(body.get("event"), dict) else {}
    user = body.get("user_id") or _id(body.get("user")) or event.get("user")
    channel = body.get("channel_id") or _id(body.get("channel")) or event.get("channel")
    return user, channel
