"""The primitives every surface builds with, and Slack's limits: 50 blocks a message, 3,000
characters a section, 2,000 a context element or a button value, 75 an option, 24 a modal title.

User text goes through `escape` before it is shown: `<!channel>` stays text.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    InteractiveElement,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.search.answer import Source
from bot.slack.mrkdwn import escape, from_markdown

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_CONTEXT = 2000  # per text element in a context block
MAX_VALUE = 2000  # a button's value
MAX_OPTION = 75
MAX_TITLE = 24  # a modal's title and buttons
MAX_METADATA = 3000


def fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def mrkdwn_from_markdown(text: str, base_url: str | None = None) -> str:
    """The handbook's markdown as Slack mrkdwn (bot/slack/mrkdwn.py); relative links point into base_url."""
    return from_markdown(text, base_url)


def quote(text: str) -> str:
    return "\n".join("> " + line if line.strip() else ">" for line in text.splitlines())


def bullets(lines: list[str]) -> str:
    return "\n".join(f"• {line}" for line in lines)


def link(source: Source) -> str:
    """A source as mrkdwn: a link when the front matter has a url, else its path."""
    label = escape(source.title)
    if source.url and source.url.startswith(("http://", "https://")):
        return f"<{source.location}|{label}>"
    return f"{label} (`{escape(source.location)}`)"


def when(stored: str | None, zone: tzinfo = UTC) -> str:
    """A stored time (ISO 8601, UTC) or date as mrkdwn: Slack's <!date> token, which each reader's
    client shows in their own time zone ("Yesterday at 14:05"), with a fallback in `zone` (the
    reader's, from users.info) for notifications and clients that cannot render it."""
    if not stored:
        return ""
    try:
        moment = datetime.fromisoformat(stored)
    except ValueError:
        return escape(stored)
    if "T" not in stored:  # a date: no time of day, no time zone
        return f"<!date^{int(moment.replace(tzinfo=UTC).timestamp())}^{{date_long}}|{moment:%-d %B %Y}>"
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone)
    fallback = f"{local:%-d %b %Y %H:%M} {local.tzname() or ''}".strip()
    return f"<!date^{int(local.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def section(text: str, accessory: InteractiveElement | None = None) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=fit(text, MAX_SECTION)), accessory=accessory)


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=fit(text, MAX_CONTEXT))])


def plain(text: str, limit: int = MAX_SECTION) -> PlainTextObject:
    return PlainTextObject(text=text[:limit], emoji=True)


def button(text: str, action_id: str, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=plain(text), action_id=action_id, value=value[:MAX_VALUE], style=style)


def option(value: str, label: str | None = None) -> Option:
    return Option(value=value, label=(label or value)[:MAX_OPTION])


def text_input(action_id: str, *, multiline: bool, max_length: int, initial: str | None = None):
    return PlainTextInputElement(
        action_id=action_id,
        multiline=multiline,
        max_length=max_length,
        initial_value=initial[:max_length] if initial else None,
    )


def field(block_id: str, label: str, element, *, optional: bool = False, dispatch: bool = False) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=plain(label, 150),
        element=element,
        optional=optional,
        dispatch_action=dispatch or None,
    )


def modal(
    callback_id: str, title: str, blocks: list[Block], *, submit: str, close: str = "Cancel", metadata: str = ""
) -> dict:
    return View(
        type="modal",
        callback_id=callback_id,
        private_metadata=metadata[:MAX_METADATA],
        title=plain(title, MAX_TITLE),
        submit=plain(submit, MAX_TITLE),
        close=plain(close, MAX_TITLE),
        blocks=blocks[:MAX_BLOCKS],
    ).to_dict()


def notice_modal(text: str, title: str = "ospo-bot") -> dict:
    """A modal that only says something (a Close button, nothing to submit)."""
    return View(
        type="modal", title=plain(title, MAX_TITLE), close=plain("Close", MAX_TITLE), blocks=[section(text)]
    ).to_dict()


def to_dicts(blocks: list[Block]) -> list[dict]:
    return [b.to_dict() for b in blocks[:MAX_BLOCKS]]


def form_values(view: dict) -> dict[str, dict]:
    """A submitted (or changing) modal's state: block_id -> {action_id: element state}."""
    return ((view or {}).get("state") or {}).get("values") or {}


def typed(view: dict, block_id: str, action_id: str) -> str | None:
    """What was typed into one text input of a modal (None when nothing was)."""
    return ((form_values(view).get(block_id) or {}).get(action_id) or {}).get("value")
