"""Build the Bolt app: one WebClient, listeners in two lanes (bot/slack/lanes.py), the core in every
listener's arguments, our-workspace-only and no-bots, event dedupe, an error handler that apologises
instead of staying silent, and every surface.

Each surface module registers its listeners in `register(app)`, as Bolt's starter template does; a
listener asks for `core` (bot.wiring.Core) beside Bolt's own arguments (ack, body, client...).
"""

from __future__ import annotations

import json
import logging

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.batching import Busy
from bot.slack import (
    actions,
    approvals,
    assistant,
    commands,
    deps,
    events,
    fallbacks,
    functions,
    home,
    shortcuts,
    unfurls,
    views,
)
from bot.slack.blocks.answers import apology_text, busy_text
from bot.slack.client import say, web_client
from bot.slack.lanes import Lanes
from bot.store import storage_error
from bot.wiring import Core

log = logging.getLogger(__name__)
# The assistant first (a middleware: it takes the pane's events before any listener); fallbacks last.
SURFACES = (
    assistant, events, unfurls, home, commands, shortcuts, functions, actions, views, approvals, deps, fallbacks,
)  # fmt: skip


def build_app(core: Core, client: WebClient | None = None, process_before_response: bool = False) -> App:
    """process_before_response=True runs each listener to the end before answering Slack (what the
    tests' fuzzing uses to see every failure); the server acks first and works after."""
    settings = core.settings
    client = client or web_client(settings)
    lanes = Lanes(settings)  # what Slack waits on never queues behind answers (bot/slack/lanes.py)
    keeper = getattr(client, "keeper", None)  # token rotation (bot/slack/tokens.py): each request's token, fresh
    app = App(
        client=client,
        authorize=(lambda enterprise_id, team_id: keeper.authorize()) if keeper else None,
        signing_secret=settings.slack_signing_secret or "",
        # Socket Mode requests come over the app's own authenticated socket, unsigned.
        request_verification_enabled=not settings.socket_mode,
        token_verification_enabled=True,  # calls auth.test at start-up: a bad token fails now
        process_before_response=process_before_response,
        listener_executor=lanes,
    )

    @app.middleware
    def choose_lane(body, next):
        """Before any listener is queued: which lane this request's listeners take."""
        lanes.choose(body)
        return next()

    @app.middleware
    def with_the_core(context, next):
        """Bolt hands context values to listeners as arguments: every listener may ask for `core`."""
        context["core"] = core
        return next()

    @app.middleware
    def only_our_workspace_and_people(body, context, next):
        """Refuse what comes from another workspace or from a bot before any listener sees it: the
        approvers list names people of our workspace, and the bot must never act on its own echo."""
        ours = context.authorize_result  # from auth.test of our token (SingleTeamAuthorization)
        if ours is None or not isinstance(body, dict):
            return next()
        if is_foreign(body, ours.team_id, ours.enterprise_id):
            return refuse(body, context, f"not our workspace {ours.team_id}", OTHER_WORKSPACE)
        if is_from_bot(body, context.user_id, ours.bot_user_id):
            return refuse(body, context, "sent by a bot", None)
        return next()

    @app.middleware
    def drop_retried_events(body, next):
        """Slack resends an event it thinks we missed (X-Slack-Retry-Num, same event_id);
        SQLite remembers every event id, so a retry or a restart never answers twice."""
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if event_id and not core.desk.claim_event(event_id):
            return BoltResponse(status=200, body="")
        return next()

    @app.error
    def apologise(error, body, logger):
        if isinstance(error, Busy):  # overload (e.g. a shared answer re-asked): not a failure; they are told
            logger.info("busy: %s refused", describe(body))
            text = busy_text()
        else:
            # a locked or full database, or PostgreSQL unreachable: one plain line
            storage = storage_error(error, settings.data_dir, settings.database_url)
            logger.error(
                "failed to handle %s: %s",
                describe(body),
                storage or error,
                exc_info=not isinstance(error, SlackApiError) and storage is None,
            )
            text = apology_text()
        user, channel = who_and_where(body)
        if not user:
            return
        try:
            say(app.client, channel, user, text)
        except SlackApiError as second:
            logger.error("could not tell %s about the failure either: %s", user, second.response.get("error"))

    for surface in SURFACES:
        surface.register(app)
    return app


def describe(body) -> str:
    """A payload named without its text (logs must not carry what people typed)."""
    if not isinstance(body, dict):
        return "request"
    event = body.get("event") if isinstance(body.get("event"), dict) else {}
    pressed = body.get("actions") if isinstance(body.get("actions"), list) else []
    action = pressed[0].get("action_id") if pressed and isinstance(pressed[0], dict) else None
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    parts = (body.get("type"), body.get("command"), event.get("type"), action, view.get("callback_id"))
    parts += (body.get("event_id"),)
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


OTHER_WORKSPACE = "Sorry, ospo-bot only works for people in the workspace it is installed in."


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None


def payload_teams(body: dict) -> set[str]:
    """Every team id a payload gives for where it (or the person acting) comes from: Slack puts it
    in `team.id` (interactions), `team_id` (commands, events), `user.team_id`, `event.user_team`."""
    event = body.get("event") if isinstance(body.get("event"), dict) else {}
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    found = (_id(body.get("team")), body.get("team_id"), user.get("team_id"), event.get("user_team"), event.get("team"))
    return {t for t in map(_text, found) if t}


def is_foreign(body: dict, home_team: str | None, home_enterprise: str | None) -> bool:
    """True when the payload names a team other than ours. In an Enterprise Grid org, the org's other
    workspaces are colleagues: accepted when every enterprise id in the payload is ours and it does not
    come from a Slack Connect (externally shared) channel. People of other organisations are refused."""
    others = payload_teams(body) - {home_team, home_enterprise}
    if not others or home_team is None:
        return False
    if home_enterprise and not body.get("is_ext_shared_channel"):
        enterprises = {e for e in map(_text, (_id(body.get("enterprise")), body.get("enterprise_id"))) if e}
        return enterprises != {home_enterprise}
    return True


def is_from_bot(body: dict, user: str | None, bot_user: str | None) -> bool:
    """Our own bot user, or any bot's message (Slack marks those with bot_id)."""
    event = body.get("event") if isinstance(body.get("event"), dict) else {}
    return bool(user and user == bot_user) or bool(event.get("bot_id")) or event.get("subtype") == "bot_message"


def refuse(body: dict, context, why: str, message: str | None) -> BoltResponse:
    """Log the refusal (who, what kind, never the text) and, to a person, say so where Slack shows it:
    the command's own response, the modal, or the button's response_url. Events get nothing."""
    events = body.get("type") == "event_callback"
    level = logging.WARNING
    if events:  # bots' messages come back all day long; a person elsewhere is worth a line at INFO
        level = logging.INFO if message else logging.DEBUG
    teams = ",".join(sorted(payload_teams(body))) or "?"
    log.log(level, "refused %s from user %s of team %s: %s", describe(body), context.user_id, teams, why)
    if message is None or events:
        return BoltResponse(status=200, body="")
    if body.get("command"):
        return BoltResponse(status=200, body=message)  # Slack shows it to the user, ephemeral
    if body.get("type") == "view_submission":
        view = {
            "type": "modal",
            "title": {"type": "plain_text", "text": "ospo-bot"},
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": message}}],
        }
        return BoltResponse(
            status=200,
            body=json.dumps({"response_action": "update", "view": view}),
            headers={"content-type": "application/json"},
        )
    if _text(body.get("response_url")) and context.respond:
        try:
            context.respond(text=message, response_type="ephemeral", replace_original=False)
        except OSError as error:  # telling them is a courtesy; the refusal stands either way
            log.warning("could not tell %s about the refusal: %s", context.user_id, error)
    return BoltResponse(status=200, body="")
