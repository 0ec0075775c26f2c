"""App Home: what the bot does, my recent questions, my requests, and for approvers the queue with
the same buttons as the approvals channel."""

from __future__ import annotations

from datetime import UTC, tzinfo

from slack_sdk.models.blocks import Block, DividerBlock
from slack_sdk.models.views import View

from bot.approvals import Request
from bot.slack.blocks.answers import HELP
from bot.slack.blocks.approvals import decision_buttons, request_summary, status_text
from bot.slack.blocks.kit import MAX_BLOCKS, escape, fit, section

QUEUE_SHOWN = 12  # 2 blocks each stays well inside 50 with the rest


def home_view(
    recent: list[dict], mine: list[Request] | None = None, queue: list[Request] | None = None, zone: tzinfo = UTC
) -> dict:
    """recent: my last questions (question, confident); mine: my requests; queue: the pending
    requests, for approvers only (None for everyone else); zone: the reader's, for dates."""
    blocks: list[Block] = [section(HELP), DividerBlock()]
    if recent:
        lines = [
            f"• {escape(fit(r['question'], 150))} — {'answered' if r['confident'] else 'not sure'}" for r in recent[:10]
        ]
        blocks.append(section("*Your recent questions*\n" + "\n".join(lines)))
    if mine is not None:
        blocks += [DividerBlock(), section(status_text(mine))]
    if queue is not None:
        blocks.append(section(f"*Waiting for a decision* ({len(queue)}, oldest first)"))
        for request in queue[:QUEUE_SHOWN]:
            blocks += [section(request_summary(request, zone)), decision_buttons(request)]
    return View(type="home", blocks=blocks[:MAX_BLOCKS]).to_dict()
