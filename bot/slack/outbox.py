"""What the bot posts once, whatever the number of `serve` processes: a pending request for the
approvers, and a policy-change notice. Each is claimed in the core first (bot/claims.py), so a
replica posts only what it holds; what Slack refuses stays for the housekeeping loop's next round.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.approvals import Request
from bot.slack.blocks.answers import notice_blocks
from bot.slack.blocks.approvals import request_blocks
from bot.slack.client import failure, slack_unavailable
from bot.wiring import Core

log = logging.getLogger(__name__)


def post_request(client: WebClient, core: Core, request: Request) -> Exception | None:
    """Post a pending request to OSPO_APPROVALS_CHANNEL, once, and remember the message (decisions
    update it). Returns the error when Slack did not take it: the request stays in the outbox
    (pending, no approvals message) and housekeeping posts it later."""
    channel = core.settings.approvals_channel
    if not channel:
        log.warning("%s is pending but OSPO_APPROVALS_CHANNEL is not set", request.ref)
        return None
    token = core.approvals.claim_post(request.id)
    if token is None:
        return None  # another process or thread is posting it, or posted it
    ts = None
    try:
        posted = client.chat_postMessage(
            channel=channel,
            text=f"{request.ref} needs a decision",
            blocks=request_blocks(request, buttons=True, zone=ZoneInfo(core.settings.timezone)),
        )
        ts = posted["ts"]
    except (SlackApiError, OSError) as error:  # OSError: timeouts and connection errors
        log.warning("%s not posted for approvers (%s); it stays in the outbox", request.ref, failure(error))
        return error
    finally:
        core.approvals.finish_post(request.id, token, channel, ts)
    return None


def post_outbox(client: WebClient, core: Core) -> int:
    """Post what Slack refused before, oldest first (run by the housekeeping loop). Returns how many
    went out. When Slack itself is failing the round stops there, and the next round tries again."""
    if not core.settings.approvals_channel:
        return 0
    done = 0
    for request_id in core.approvals.unposted():
        request = core.approvals.get(request_id)
        error = post_request(client, core, request) if request else None
        if error is None:
            done += 1
        elif slack_unavailable(error):
            break
        # else Slack refused this one message (e.g. invalid_blocks): the others may still go
    if done:
        log.info("posted %d request(s) from the outbox for approvers", done)
    return done


def outbox_note(request: Request) -> str:
    return f"Saved as {request.ref}; approvers will see it as soon as Slack lets me post it."


def send_notices(client: WebClient, core: Core) -> int:
    """DM everyone whose quoted policy changed; each notice is sent once, whatever the number of
    processes; one Slack refused is tried again next round."""
    sent = 0
    for notice in core.desk.pending_notices():
        token = core.desk.claim_notice(notice.id)
        if token is None:
            continue  # another process is sending it, or sent it
        delivered = False
        try:
            client.chat_postMessage(
                channel=notice.user, text="The policy I quoted you has changed.", blocks=notice_blocks(notice)
            )
            delivered = True
            sent += 1
        except (SlackApiError, OSError) as error:  # OSError: timeouts and connection errors
            log.warning("policy-change notice %s not delivered: %s", notice.id, failure(error))
        finally:
            core.desk.finish_notice(notice.id, token, delivered)
    return sent
