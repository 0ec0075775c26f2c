"""What the bot quotes is a whole unit: every section of the handbook and of the public corpus,
matched on each of its pieces, goes through the quoting rules (issue: "the quote is a whole unit")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import REPO_KNOWLEDGE_DIR
from bot.search.documents import knowledge_files, read_document
from bot.search.passages import MAX_QUOTE_CHARS, _blocks, pieces
from bot.search.quote import GAP, quote_section
from bot.slack.blocks.kit import quote as slack_quote
from bot.slack.mrkdwn import from_markdown
from tests.conftest import PUBLIC_CORPUS

CORPORA = [REPO_KNOWLEDGE_DIR] + ([PUBLIC_CORPUS] if PUBLIC_CORPUS.is_dir() else [])
SHOWN = re.compile(r"[ \t]{2,}")


def check_quote(section, matched) -> None:
    text = section.quote_text.strip()
    quote = quote_section(section.quote_text, matched)
    where = f"{section.id} matched on {matched}"
    assert len(SHOWN.sub(" ", quote.text)) <= MAX_QUOTE_CHARS, where
    assert quote.complete == (quote.text == text), where
    assert not quote.text.rstrip().endswith(":"), f"{where}: ends on a lead-in"
    shown = slack_quote(from_markdown(quote.text))
    assert len(shown) <= 2800, f"{where}: {len(shown)} characters of mrkdwn do not fit one Slack section"
    covered = []
    for part in quote.text.split(GAP):
        body = part
        if part.startswith("|") and part not in text:  # rows of a long table under its header
            header_end = part.index("\n", part.index("\n") + 1) + 1
            body = part[header_end:]
        at = text.find(body)
        assert at >= 0, f"{where}: not the section's own words: {body[:80]!r}"
        covered.append((at, at + len(body)))
        before = text[:at].rstrip(" \t")
        assert at == 0 or before.endswith(("\n", ".", "!", "?", ":", '."', ".)", ".*", "._", ".**")), (
            f"{where}: starts mid-sentence: …{text[max(0, at - 40) : at + 40]!r}"
        )
        assert at == 0 or not text[at - 1].isalnum(), f"{where}: starts mid-word"
    for start, end, kind, _ in _blocks(text):
        if kind not in {"list", "table", "code"} or len(SHOWN.sub(" ", text[start:end])) > MAX_QUOTE_CHARS:
            continue
        for a, b in covered:
            overlaps = a < end and start < b
            assert not overlaps or (a <= start and end <= b), f"{where}: splits a {kind} at {start}-{end}"


@pytest.mark.parametrize("root", CORPORA, ids=lambda p: Path(p).name)
def test_every_section_quotes_as_a_whole_unit_whatever_piece_matched(root):
    checked = 0
    for path in knowledge_files(root):
        for section in read_document(path, root).sections:
            spans = pieces(section.text)
            check_quote(section, [])
            for span in spans:
                check_quote(section, [(span.start, span.end)])
            if len(spans) > 2:  # two pieces far apart, the weaker one first
                check_quote(section, [(spans[-1].start, spans[-1].end), (spans[0].start, spans[0].end)])
            checked += 1
    assert checked > 300


def test_a_short_section_is_quoted_whole():
    text = "You must get approval for any of the following:\n\n- A feature.\n- A CLA.\n"
    quote = quote_section(text, [(0, 20)])
    assert quote.complete and quote.text == text.strip()


def test_a_long_section_quotes_the_matching_part_with_its_lead_in_and_whole_list():
    filler = "\n\n".join(f"Paragraph {i} says something long. " + "More words here. " * 40 for i in range(4))
    items = "\n".join(f"- Rule {i} applies." for i in range(5))
    text = f"{filler}\n\nYou need approval for any of the following:\n\n{items}\n\nThe end. " + "Tail. " * 200
    at = text.index("- Rule 2")
    quote = quote_section(text, [(at, at + 10)])
    assert not quote.complete
    assert "You need approval for any of the following:\n\n- Rule 0 applies." in quote.text
    assert "- Rule 4 applies." in quote.text
    assert len(quote.text) <= MAX_QUOTE_CHARS


def test_a_list_too_long_to_quote_is_quoted_by_whole_items():
    items = "\n".join(f"- Item {i}: " + "detail " * 40 for i in range(30))
    text = f"Intro:\n\n{items}"
    at = text.index("- Item 20")
    quote = quote_section(text, [(at, at + 12)])
    assert "- Item 20: " in quote.text
    assert all(line.startswith(("- Item", "Intro:", "…")) for line in quote.text.splitlines() if line)


def test_markdown_reads_right_in_slack():
    shown = from_markdown(
        "Use **only** the [CLA list](../cla/list.md) or [the site](https://example.com/x).\n\n"
        "### Steps\n\n1. Ask.\n2. Wait.\n\n| Term | Meaning |\n|---|---|\n| DCO | Sign-off |\n\n"
        "<!-- hidden --> Say <!channel> & `x < y`.",
        base_url="https://wiki.example.com/ospo/contributing/page",
    )
    assert "*only*" in shown and "**" not in shown
    assert "<https://wiki.example.com/ospo/cla/list.md|CLA list>" in shown
    assert "<https://example.com/x|the site>" in shown
    assert "*Steps*" in shown and "###" not in shown
    assert "1. Ask.\n2. Wait." in shown
    assert "• *DCO* — Sign-off" in shown
    assert "<!channel>" not in shown and "hidden" not in shown
    assert "`x &lt; y`" in shown and "&amp;" in shown


def test_a_relative_link_without_a_base_url_shows_its_text():
    assert from_markdown("See [the CLA page](../cla/list.md).") == "See the CLA page."
