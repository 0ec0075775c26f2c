"""A section's markdown, cut two ways: into *units* a quote never splits, and into small *pieces*
that retrieval embeds and ranks.

A unit is a whole markdown block (a paragraph, a list, a table, a code block, a block quote)
unless the block alone is too long to quote, in which case its units are the block's list items,
table rows (the header repeated when quoted) or sentences. Pieces are groups of consecutive
atoms (list items, table rows, sentences of a long paragraph, or short blocks), at most about
MAX_PIECE_WORDS words, and a lead-in sentence ("… any of the following:") always travels with
what it introduces. Every unit and piece is a span of the section's text, so a quote is the
handbook's own words, character for character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt

# all-MiniLM-L6-v2 reads 256 word pieces; ~1.3 a word plus the title and heading we prepend leaves
# room for ~150 words; 100 measured best (bench/retrieval.py).
MAX_PIECE_WORDS = 100
# The longest quote, in characters of markdown: one Slack section holds 3,000 characters of mrkdwn,
# and mrkdwn links (<url|text>) and the quote markers make the text longer than its markdown.
MAX_QUOTE_CHARS = 2200

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]*_]*\s+(?=[\"'(\[*_`]*[A-Z0-9])")


@dataclass(frozen=True)
class Span:
    start: int  # character offsets into the section's markdown
    end: int
    block: int  # which top-level markdown block it belongs to
    kind: str  # paragraph, list, table, code, quote, html, other
    whole: bool = True  # the whole block, not one item, row or sentence of it
    lead_in: bool = False  # a paragraph ending in ":" that introduces the next block
    header: tuple[int, int] | None = None  # table rows of a long table: the header to repeat


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # Blocks only: where paragraphs, lists and tables start and end; their inline text is not needed.
    return MarkdownIt("commonmark").enable("table").disable(["inline", "text_join"])


_KINDS = {
    "paragraph_open": "paragraph",
    "bullet_list_open": "list",
    "ordered_list_open": "list",
    "table_open": "table",
    "fence": "code",
    "code_block": "code",
    "blockquote_open": "quote",
    "html_block": "html",
}


def _line_offsets(text: str) -> list[int]:
    offsets = [0]
    for line in text.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    return offsets


@lru_cache(maxsize=256)
def _blocks(text: str) -> list[tuple[int, int, str, tuple[list, int]]]:
    """(start, end, kind, (tokens, index of its opening token)) of each top-level block."""
    tokens = _parser().parse(text)
    lines = _line_offsets(text)
    blocks = []
    for index, token in enumerate(tokens):
        if token.level != 0 or token.nesting == -1 or not token.map:
            continue
        first, last = token.map
        start = lines[first]
        end = _trim_end(text, start, lines[min(last, len(lines) - 1)])
        blocks.append((start, end, _KINDS.get(token.type, "other"), (tokens, index)))
    return blocks


def _trim_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def _is_lead_in(text: str) -> bool:
    return text.rstrip().endswith(":")


def _children(text: str, start: int, end: int, kind: str, where) -> list[tuple[int, int]]:
    """The items of a list, the rows of a table (after its header) or the sentences of a
    paragraph, as spans; [] when the block has no such parts."""
    tokens, index = where
    lines = _line_offsets(text)
    if kind in {"list", "table"}:
        wanted = "list_item_open" if kind == "list" else "tr_open"
        level = tokens[index].level + (1 if kind == "list" else 2)
        spans = []
        depth = 0
        for token in tokens[index:]:
            depth += token.nesting
            if token.type == wanted and token.level == level and token.map:
                first, last = token.map
                spans.append((lines[first], _trim_end(text, lines[first], lines[min(last, len(lines) - 1)])))
            if depth == 0:
                break
        if kind == "table":
            spans = spans[1:]  # the header row; see header_span
        return spans
    if kind == "paragraph":
        spans, at = [], start
        for match in _SENTENCE_END.finditer(text, start, end):
            spans.append((at, _trim_end(text, at, match.start())))
            at = match.end()
        spans.append((at, end))
        return [s for s in spans if s[1] > s[0]]
    return []


def _split(text: str, start: int, end: int, kind: str, where, number: int) -> list[Span]:
    """A block as its parts (items, rows or sentences); [] when it has fewer than two."""
    parts = _children(text, start, end, kind, where)
    if len(parts) < 2:
        return []
    header = (start, parts[0][0]) if kind == "table" else None
    last = len(parts) - 1
    return [
        Span(
            s,
            e,
            number,
            kind,
            False,
            lead_in=kind == "paragraph" and i == last and _is_lead_in(text[s:e]),
            header=header,
        )
        for i, (s, e) in enumerate(parts)
    ]


def units(text: str, max_chars: int = MAX_QUOTE_CHARS) -> list[Span]:
    """The section's units, in order: whole blocks, or the parts of a block too long to quote."""
    found: list[Span] = []
    for number, (start, end, kind, where) in enumerate(_blocks(text)):
        parts = _split(text, start, end, kind, where, number) if end - start > max_chars else []
        found.extend(
            parts or [Span(start, end, number, kind, True, kind == "paragraph" and _is_lead_in(text[start:end]))]
        )
    return found


def atoms(text: str, max_words: int = MAX_PIECE_WORDS) -> list[Span]:
    """The smallest spans retrieval groups into pieces: the items, rows or sentences of a block
    longer than max_words, and every other block whole."""
    found: list[Span] = []
    for number, (start, end, kind, where) in enumerate(_blocks(text)):
        long = len(text[start:end].split()) > max_words
        parts = _split(text, start, end, kind, where, number) if long else []
        found.extend(
            parts or [Span(start, end, number, kind, True, kind == "paragraph" and _is_lead_in(text[start:end]))]
        )
    return found


def pieces(text: str, max_words: int = MAX_PIECE_WORDS) -> list[Span]:
    """Runs of consecutive atoms of at most max_words words (an atom longer than that stays
    whole), a lead-in kept with the atom after it. A piece of table rows keeps the table's
    header (to embed with it)."""
    grouped: list[Span] = []
    run: list[Span] = []
    count = 0
    for atom in atoms(text, max_words):
        words = len(text[atom.start : atom.end].split())
        if run and count + words > max_words and not run[-1].lead_in:
            grouped.append(_join(run))
            run, count = [], 0
        run.append(atom)
        count += words
    if run:
        grouped.append(_join(run))
    return grouped


def _join(run: list[Span]) -> Span:
    first = run[0]
    return Span(first.start, run[-1].end, first.block, first.kind, len(run) == 1 and first.whole, header=first.header)


def piece_text(text: str, piece: Span) -> str:
    """What a piece says, for the model and the keyword index (table rows under their header)."""
    body = text[piece.start : piece.end]
    return text[piece.header[0] : piece.header[1]] + body if piece.header else body
