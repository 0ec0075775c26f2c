"""What the bot quotes: a whole section, or for a long one the part that matched, in whole units.

The rules (tests/test_quote.py walks every section of the handbook and the public corpus through
them): a quote is the section's own text; it never starts mid-sentence or mid-word, never ends on
a lead-in (a sentence ending in ":"), and never splits a list, a table or a code block, except
a block that is itself longer than a quote may be, which is quoted by whole items, rows (under
the table's header) or sentences. Parts that are left out between quoted ones show as "…".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.search.passages import MAX_QUOTE_CHARS, Span, units

GAP = "\n\n…\n\n"
_PADDING = re.compile(r"[ \t]{2,}")


@dataclass(frozen=True)
class Quote:
    text: str  # markdown
    complete: bool  # the whole section; otherwise link "read the whole section"


def quote_section(text: str, matched: list[tuple[int, int]] = (), limit: int = MAX_QUOTE_CHARS) -> Quote:
    """The section when it fits in limit characters; otherwise the units that overlap the matched
    spans (best first), each with the lead-in that introduces it, grown with their neighbours
    while the quote fits."""
    text = text.strip()
    if len(_PADDING.sub(" ", text)) <= limit:
        return Quote(text, True)
    parts = units(text, limit)
    if not parts:
        return Quote(text[:limit], False)
    chosen: set[int] = set()
    for start, end in list(matched) or [(parts[0].start, parts[0].end)]:
        group = [i for i, u in enumerate(parts) if u.start < end and start < u.end] or [0]
        # Best with its lead-ins; else the matched units alone; else the first of them alone.
        for candidate in (_with_lead_ins(parts, chosen | set(group)), chosen | set(group), chosen | {group[0]}):
            if _size(text, parts, candidate) <= limit:
                chosen = candidate
                break
        else:
            if not chosen:  # a single unit longer than a quote: one huge sentence or list item
                unit = parts[group[0]]
                return Quote(_cut(text[unit.start : unit.end], limit), False)
    chosen = _grow(text, parts, chosen, limit)
    while len(chosen) > 1 and parts[max(chosen)].lead_in:
        chosen.discard(max(chosen))
    return Quote(_render(text, parts, chosen), len(chosen) == len(parts))


def _with_lead_ins(parts: list[Span], chosen: set[int]) -> set[int]:
    """A unit comes with the lead-in just before it, and a lead-in with the unit it introduces."""
    result = set(chosen)
    for i in chosen:
        if i > 0 and parts[i - 1].lead_in:
            result.add(i - 1)
        if parts[i].lead_in and i + 1 < len(parts):
            result.add(i + 1)
    return result


def _grow(text: str, parts: list[Span], chosen: set[int], limit: int) -> set[int]:
    """Add the units right after, then right before, the quote while it fits."""
    while True:
        grown = False
        for step in (_next, _previous):
            neighbour = step(parts, chosen)
            if neighbour is None:
                continue
            candidate = _with_lead_ins(parts, chosen | {neighbour})
            if _size(text, parts, candidate) <= limit:
                chosen, grown = candidate, True
        if not grown:
            return chosen


def _next(parts: list[Span], chosen: set[int]) -> int | None:
    after = max(chosen) + 1
    return after if after < len(parts) else None


def _previous(parts: list[Span], chosen: set[int]) -> int | None:
    before = min(chosen) - 1
    return before if before >= 0 else None


def _runs(chosen: set[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for i in sorted(chosen):
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def _render(text: str, parts: list[Span], chosen: set[int]) -> str:
    pieces = []
    for first, last in _runs(chosen):
        unit = parts[first]
        header = text[unit.header[0] : unit.header[1]] if unit.header else ""  # rows of a long table
        pieces.append(header + text[unit.start : parts[last].end])
    return GAP.join(pieces)


def _size(text: str, parts: list[Span], chosen: set[int]) -> int:
    """Characters as shown: runs of spaces (a table's padding) count as one."""
    return len(_PADDING.sub(" ", _render(text, parts, chosen))) if chosen else 0


def _cut(text: str, limit: int) -> str:
    """A unit longer than a quote, cut at the last word that fits."""
    window = text[: limit - 2]
    return window[: window.rfind(" ")].rstrip() + " …"
