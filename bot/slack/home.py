"""App Home: what the bot does, my recent questions, my requests, and the queue for approvers."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.blocks.home import home_view
from bot.slack.people import time_zone
from bot.wiring import Core


def register(app: App) -> None:
    app.event("app_home_opened")(on_home_opened)


def on_home_opened(event, client, core: Core):
    if event.get("tab") not in (None, "home"):
        return
    user = event["user"]
    queue = core.approvals.pending() if user in core.approvers else None
    mine = core.approvals.list(requester=user)[:10]
    zone = time_zone(client, user, core.settings.timezone)
    client.views_publish(user_id=user, view=home_view(core.desk.recent_questions(user), mine, queue, zone))
