"""The handbook's markdown as Slack mrkdwn, so a quote reads right in Slack.

markdown-it-py (which rich already brings) parses; this renders its tokens: **bold** becomes
*bold*, [text](url) becomes <url|text> (a relative link is resolved against the document's url,
or shown as text when there is none), headings become bold lines, lists get bullets, tables
become one line per row, code stays code, HTML is dropped, and &, <, > are escaped so nothing in
the handbook can mention or link by accident.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urljoin

from markdown_it import MarkdownIt
from markdown_it.token import Token

BULLETS = ("•", "◦", "▪")
INDENT = "    "


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def escape(text: str) -> str:
    """Text made inert for mrkdwn: mentions, channel pings and links are shown, not acted on."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Slack's markup in what people type: <url|label>, <#C123|channel>, <@U123>, <!here>, <!subteam^S1|@team>.
_SLACK_MARKUP = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def to_plain(text: str) -> str:
    """A message as Slack sends it -> as its reader sees it: a link is its label (and its address, when
    the label does not say it), a mention "@name", a channel "#name", and &amp; &lt; &gt; unescaped.
    What is searched and recorded is then the words people typed, not user ids and escapes."""

    def plain(m: re.Match) -> str:
        target, label = m[1], (m[2] or "").strip()
        if target.startswith(("@", "#")):  # a user or a channel
            return target[0] + label.lstrip("@#") if label else target
        if target.startswith("!"):  # <!here>, <!channel>, <!subteam^S1|@team>, <!date^...|fallback>
            return label or "@" + target[1:].split("^")[0]
        address = target.removeprefix("mailto:")
        if not label or label.rstrip("/") in (address.rstrip("/"), re.sub(r"^https?://", "", address).rstrip("/")):
            return address
        return f"{label} ({address})"

    return _SLACK_MARKUP.sub(plain, text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@lru_cache(maxsize=1024)  # the same sections are quoted again and again
def from_markdown(text: str, base_url: str | None = None) -> str:
    """Slack mrkdwn for a piece of markdown; base_url: where relative links point (http(s) only)."""
    base = base_url if base_url and base_url.startswith(("http://", "https://")) else None
    lines = _Renderer(base).render(_parser().parse(text))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class _Renderer:
    def __init__(self, base: str | None):
        self.base = base

    def render(self, tokens: list[Token]) -> list[str]:
        out: list[str] = []
        self._blocks(tokens, 0, len(tokens), out, depth=0)
        return out

    def _blocks(self, tokens: list[Token], start: int, stop: int, out: list[str], depth: int) -> None:
        i = start
        while i < stop:
            token = tokens[i]
            kind = token.type
            if kind == "heading_open":
                out += [f"*{self.inline(tokens[i + 1], plain_emphasis=True)}*", ""]
                i += 3
            elif kind == "paragraph_open":
                text = self.inline(tokens[i + 1])
                out += [text] if token.hidden else [text, ""]  # hidden: a tight list's item
                i += 3
            elif kind in {"bullet_list_open", "ordered_list_open"}:
                end = _close(tokens, i)
                self._list(tokens, i, end, out, depth)
                if depth == 0:
                    out.append("")
                i = end + 1
            elif kind == "table_open":
                end = _close(tokens, i)
                out += self._table(tokens[i:end]) + [""]
                i = end + 1
            elif kind in {"fence", "code_block"}:
                out += ["```", escape(token.content.rstrip("\n")), "```", ""]
                i += 1
            elif kind == "blockquote_open":
                end = _close(tokens, i)
                inner: list[str] = []
                self._blocks(tokens, i + 1, end, inner, depth)
                out += [f"_{line}_" if line.strip() else line for line in inner]
                i = end + 1
            elif kind == "html_block":
                words = _strip_html(token.content)
                out += [escape(words), ""] if words else []
                i += 1
            elif kind == "hr":
                out += ["———", ""]
                i += 1
            else:
                i += 1

    def _list(self, tokens: list[Token], start: int, stop: int, out: list[str], depth: int) -> None:
        ordered = tokens[start].type == "ordered_list_open"
        number = int(tokens[start].attrs.get("start", 1) or 1)
        i = start + 1
        while i < stop:
            if tokens[i].type != "list_item_open":
                i += 1
                continue
            end = _close(tokens, i)
            inner: list[str] = []
            self._blocks(tokens, i + 1, end, inner, depth + 1)
            while inner and not inner[-1].strip():
                inner.pop()
            marker = f"{number}." if ordered else BULLETS[depth % len(BULLETS)]
            pad = INDENT * depth
            for k, line in enumerate(inner or [""]):
                if k == 0:
                    out.append(f"{pad}{marker} {line}")
                elif line.startswith(INDENT * (depth + 1)) or not line.strip():
                    out.append(line)  # a nested list renders its own indentation
                else:
                    out.append(f"{pad}{INDENT}{line}")
            number += 1
            i = end + 1

    def _table(self, tokens: list[Token]) -> list[str]:
        rows: list[list[str]] = []
        for token in tokens:
            if token.type == "tr_open":
                rows.append([])
            elif token.type == "inline" and rows:
                rows[-1].append(self.inline(token))
        if not rows:
            return []
        header, body = rows[0], rows[1:]
        lines = []
        for row in body:
            cells = row
            first = f"*{cells[0]}*" if cells and cells[0] else ""
            rest = [
                f"{header[k]}: {c}" if len(header) > 2 and k < len(header) and header[k] else c
                for k, c in enumerate(cells[1:], start=1)
                if c
            ]
            lines.append("• " + " — ".join(part for part in [first, *rest] if part))
        return lines or ["*" + "* · *".join(header) + "*"]

    def inline(self, token: Token, plain_emphasis: bool = False) -> str:
        parts: list[str] = []
        links: list[str | None] = []
        for child in token.children or []:
            kind = child.type
            if kind == "text":
                parts.append(escape(child.content))
            elif kind in {"strong_open", "strong_close"}:
                parts.append("" if plain_emphasis else "*")
            elif kind in {"em_open", "em_close"}:
                parts.append("" if plain_emphasis else "_")
            elif kind in {"s_open", "s_close"}:
                parts.append("~")
            elif kind == "code_inline":
                parts.append(f"`{escape(child.content)}`")
            elif kind == "softbreak":
                parts.append(" ")
            elif kind == "hardbreak":
                parts.append("\n")
            elif kind == "image":
                parts.append(escape(child.content or ""))
            elif kind == "link_open":
                links.append(self._href(child.attrs.get("href", "")))
                parts.append("\x00link\x00")
            elif kind == "link_close":
                href = links.pop() if links else None
                at = len(parts) - 1 - parts[::-1].index("\x00link\x00")
                label = "".join(parts[at + 1 :]).strip() or (href or "")
                del parts[at:]
                parts.append(f"<{href}|{label.replace('|', '¦')}>" if href else label)
            # html_inline and anything else: dropped
        return re.sub(r"[ \t]+", " ", "".join(parts)).strip()

    def _href(self, href: str) -> str | None:
        href = href.strip()
        if href.startswith(("http://", "https://", "mailto:")):
            return escape(href)
        if self.base and href:
            return escape(urljoin(self.base, href))
        return None  # a relative link with nowhere to point: shown as its text


def _close(tokens: list[Token], start: int) -> int:
    """Index of the token that closes the one at start."""
    depth = 0
    for i in range(start, len(tokens)):
        depth += tokens[i].nesting
        if depth == 0:
            return i
    return len(tokens) - 1


def _strip_html(html: str) -> str:
    text = re.sub(r"<!--.*?-->", " ", html, flags=re.DOTALL)
    text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(text.split())
