"""What no other listener handles: a button, modal, shortcut or workflow step of an older version of
ospo-bot (a message posted before an upgrade renamed its action id), and events the bot does not
act on. Registered last: Bolt runs the first listener that matches, so these only see the rest.

Without them Bolt answers 404 "unhandled request": people see Slack's error marker on the button,
and Slack retries an unanswered event. Here every one is acknowledged, and a person is told why
nothing happened."""

from __future__ import annotations

import logging
import re

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.slack.blocks.kit import notice_modal
from bot.slack.client import failure, say

log = logging.getLogger(__name__)
ANY = re.compile(".*", re.DOTALL)
OLDER_VERSION = (
    "This button is from an older version of ospo-bot and no longer does anything. Ask me again, or "
    "type `/ospo help` to see what I do now."
)
OLDER_VERSION_STEP = (
    "This step is from an older version of ospo-bot. Open the workflow in Workflow Builder and add the "
    "current OSPO step in its place."
)


def register(app: App) -> None:
    app.action(ANY)(unknown_action)
    app.view(ANY)(unknown_submission)
    app.view_closed(ANY)(closed)
    app.shortcut(ANY)(unknown_shortcut)
    app.options(ANY)(no_options)
    app.function(ANY)(unknown_step)
    app.event(ANY)(other_event)


def unknown_action(ack, body, client, respond):
    """A button, menu or date picker the bot no longer knows."""
    ack()
    action = (body.get("actions") or [{}])[0]
    log.info("unknown action %s from %s: told it is from an older version", action.get("action_id"), who(body))
    container = body.get("container") or {}
    try:
        if body.get("response_url"):
            respond(text=OLDER_VERSION, response_type="ephemeral", replace_original=False)
        elif container.get("type") == "view" and (body.get("view") or {}).get("type") == "modal":
            view = body["view"]
            client.views_update(view_id=view["id"], hash=view.get("hash"), view=notice_modal(OLDER_VERSION))
        else:
            say(client, (body.get("channel") or {}).get("id"), who(body), OLDER_VERSION)
    except (SlackApiError, OSError) as error:  # telling them is a courtesy
        log.warning("could not tell %s about an old button: %s", who(body), failure(error))


def unknown_submission(ack, body):
    """A modal opened by an older version, submitted now: the modal says so instead of Slack's error."""
    log.info("unknown view %s submitted by %s", (body.get("view") or {}).get("callback_id"), who(body))
    ack(response_action="update", view=notice_modal(OLDER_VERSION))


def closed(ack):
    ack()  # a modal closed: nothing to do


def unknown_shortcut(ack, body, client, respond):
    """A shortcut the manifest no longer lists (the app config not yet updated, or an old client)."""
    ack()
    log.info("unknown shortcut %s from %s", body.get("callback_id"), who(body))
    try:
        if body.get("response_url"):
            respond(text=OLDER_VERSION, response_type="ephemeral")
        elif body.get("trigger_id"):
            client.views_open(trigger_id=body["trigger_id"], view=notice_modal(OLDER_VERSION))
    except (SlackApiError, OSError) as error:
        log.warning("could not tell %s about an old shortcut: %s", who(body), failure(error))


def no_options(ack):
    ack(options=[])


def unknown_step(event, fail):
    """A workflow step the bot no longer has: the workflow fails with what to do, not silently."""
    log.info("unknown workflow step %s", (event.get("function") or {}).get("callback_id"))
    fail(OLDER_VERSION_STEP)


def other_event(event):
    """An event the bot is subscribed to but does not act on here: acknowledged, so Slack does not retry it."""
    log.debug("event %s acknowledged, nothing to do", event.get("type"))


def who(body: dict) -> str | None:
    user = body.get("user")
    return user.get("id") if isinstance(user, dict) else body.get("user_id")
