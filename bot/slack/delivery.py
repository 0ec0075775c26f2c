"""What the scheduler (bot/scheduler.py) hands to Slack: the weekly digest (the message, its details
and its chart in the thread) and the daily reminders. The scheduler decides what is due and claims
it; this only renders and posts.

    delivery = SlackDelivery(web_client(settings), settings.digest_channel)
    Scheduler(core, delivery).start()
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.approvals import Request
from bot.digest import Digest, SlaBreach
from bot.slack.blocks.approvals import answer_reminder_blocks, answer_reminder_text, overdue_reminder_text
from bot.slack.blocks.digest import digest_blocks, digest_detail_blocks, digest_text, has_details
from bot.slack.client import failure

log = logging.getLogger(__name__)


class SlackDelivery:
    def __init__(self, client: WebClient, digest_channel: str | None):
        self.client = client
        self.channel = digest_channel

    # -- the digest
    def post_digest(self, digest: Digest, late: bool) -> str:
        """The digest message in OSPO_DIGEST_CHANNEL; its ts. Raises when Slack does not take it."""
        text, blocks = digest_text(digest, late), digest_blocks(digest, late)
        return self.client.chat_postMessage(channel=self.channel, text=text, blocks=blocks)["ts"]

    def post_details(self, digest: Digest, thread_ts: str) -> None:
        """The whole lists, in the digest's thread, when the message could not show them all."""
        if has_details(digest):
            self.client.chat_postMessage(
                channel=self.channel,
                thread_ts=thread_ts,
                text=f"Details for {digest.week.label}",
                blocks=digest_detail_blocks(digest),
            )

    def post_chart(self, png: bytes, label: str, thread_ts: str) -> None:
        """The chart in the digest's thread (files.getUploadURLExternal, the upload, files.completeUploadExternal)."""
        self.client.files_upload_v2(
            content=png,
            filename=f"ospo-digest-{label}.png",
            title=f"OSPO digest {label}",
            channel=self.channel,
            thread_ts=thread_ts,
        )

    # -- reminders: each returns the number of DMs Slack took
    def remind_approvers(self, approvers: list[str], overdue: list[SlaBreach]) -> int:
        text = overdue_reminder_text(overdue)
        return sum(self._dm(user, text) for user in approvers)

    def remind_requester(self, request: Request, waited_days: int) -> int:
        """request: with the OSPO's question (Approvals.with_question); the DM has the Answer button."""
        text = answer_reminder_text(request, waited_days)
        return self._dm(request.requester, text, answer_reminder_blocks(request, waited_days))

    def _dm(self, user: str, text: str, blocks: list[dict] | None = None) -> int:
        try:
            self.client.chat_postMessage(channel=user, text=text, blocks=blocks)
        except SlackApiError as error:
            log.warning("reminder to %s not delivered: %s", user, failure(error))
            return 0
        return 1
