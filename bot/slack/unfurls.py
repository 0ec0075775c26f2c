"""Requests and handbook pages where people mention them.

- A link to a handbook page (its front-matter `url`, with a section's anchor or not) unfurls into
  the section's quote, wherever it is posted in the organisation (link_shared → chat.unfurl).
- A link to a request (OSPO_REQUEST_URL, e.g. https://ospo.example.com/requests/OSPO-42) unfurls
  into the request's card; `OSPO-42` written in a message the bot reads gets the same card in the
  thread (Slack unfurls only links; this is how a reference in words is shown).

A request is shown only to whom may see it (bot/approvals/shown.py): its requester and the OSPO team
in their DMs with the bot, and the channels it was already shown in. Every card and unfurl of a
request is refreshed when the request changes, so a cancelled one says so where it was shown.
Nothing is unfurled in a Slack Connect channel: the handbook and requests stay inside the company.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.approvals import Request, Showing
from bot.slack.blocks.answers import section_quote_blocks
from bot.slack.blocks.approvals import request_card_blocks, request_card_text
from bot.slack.client import failure, say
from bot.wiring import Core

log = logging.getLogger(__name__)
COMPOSER = "composer"  # link_shared's source while a link is typed, before the message is sent


def register(app: App) -> None:
    app.event("link_shared")(on_link_shared)


def on_link_shared(event, body, client, core: Core):
    if body.get("is_ext_shared_channel"):
        return  # Slack Connect: people of other organisations would see it
    channel, viewer = event.get("channel"), event.get("user")
    private = str(channel).startswith("D") and bool(event.get("is_bot_user_member"))  # the viewer's DM with the bot
    unfurls, requests = {}, {}
    for link in event.get("links") or []:
        url = str(link.get("url") or "")
        request_id = core.settings.request_link(url)
        if request_id is not None:
            request = core.approvals.get(request_id)
            if request is None or event.get("source") == COMPOSER:
                continue  # unknown, or not yet sent anywhere: nobody to judge it for
            if core.shown.may_see(request, channel, viewer=viewer, private=private, approvers=core.approvers.resolve()):
                unfurls[url] = {"blocks": request_card_blocks(request, ZoneInfo(core.settings.timezone))}
                requests[url] = request
            continue
        found = core.kb.section_quote(core.desk.section_at(url) or "")
        if found:
            unfurls[url] = {"blocks": section_quote_blocks(*found)}
    if not unfurls:
        return
    if event.get("source") == COMPOSER:
        client.chat_unfurl(unfurl_id=event["unfurl_id"], source=COMPOSER, unfurls=unfurls)
        return
    client.chat_unfurl(channel=channel, ts=event["message_ts"], unfurls=unfurls)
    for url, request in requests.items():
        core.shown.record(request.id, Showing(channel, event["message_ts"], "unfurl", url, event.get("thread_ts")))


def show_requests(client: WebClient, core: Core, event: dict, refs: list[int], thread_ts: str | None) -> bool:
    """Cards for the requests a message names (`OSPO-42`), in its thread. thread_ts: where the bot would
    answer the message (None: a channel it only reads, where it says nothing it may not show). Returns
    whether the message was about requests and is handled."""
    channel, viewer = event.get("channel"), event.get("user")
    private = event.get("channel_type") == "im"
    addressed = thread_ts is not None
    where = (thread_ts or None) if addressed else (event.get("thread_ts") or event.get("ts"))
    notes, shown = [], False
    for request_id in refs:
        request = core.approvals.get(request_id)
        ref = f"OSPO-{request_id}"
        if request is None:
            notes.append(f"There is no request {ref}.")
        elif not core.shown.may_see(
            request, channel, viewer=viewer, private=private, approvers=core.approvers.resolve()
        ):
            notes.append(
                f"I can't show {ref} here: a request is shown to its requester, the OSPO team, and the channels "
                f"it was posted in. `/ospo status {ref}` shows it to you if it is yours."
            )
        elif private or not core.shown.in_thread(request.id, channel, where):
            post_card(client, core, request, channel, where)
            shown = True
        else:
            shown = True  # already in this thread: once is enough
    if addressed and notes:
        say(client, channel, viewer, " ".join(notes))
    return shown or (addressed and bool(notes))


def post_card(client: WebClient, core: Core, request: Request, channel: str, thread_ts: str | None) -> None:
    zone = ZoneInfo(core.settings.timezone)
    posted = client.chat_postMessage(
        channel=channel, thread_ts=thread_ts, text=request_card_text(request), blocks=request_card_blocks(request, zone)
    )
    core.shown.record(request.id, Showing(channel, posted["ts"], "card", None, thread_ts))


def refresh(client: WebClient, core: Core, request: Request) -> None:
    """Every card and unfurl of the request, redrawn as it is now; one Slack refuses does not stop the rest."""
    blocks = request_card_blocks(request, ZoneInfo(core.settings.timezone))
    for place in core.shown.places(request.id):
        try:
            if place.kind == "unfurl" and place.url:
                client.chat_unfurl(channel=place.channel, ts=place.ts, unfurls={place.url: {"blocks": blocks}})
            elif place.kind == "card":
                client.chat_update(channel=place.channel, ts=place.ts, text=request_card_text(request), blocks=blocks)
        except (SlackApiError, OSError) as error:  # a deleted message, a channel the bot left
            log.info("%s not refreshed in %s: %s", request.ref, place.channel, failure(error))
