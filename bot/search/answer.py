"""An Answer: the best section quoted verbatim, its sources, whether we are confident and why.

Nothing here paraphrases policy: the answer text is the section (or, for a long one, the part
that matched, in whole paragraphs and lists: bot/search/quote.py), or a plain "I'm not sure"
with the candidate sections the asker can open.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from bot.search.confidence import Confidence
from bot.search.quote import quote_section
from bot.search.retrieve import SearchResult, SectionHit

MAX_QUESTION_CHARS = 2000  # longer questions are cut for search (and said so in the record)
RELATED = 2
CANDIDATES = 3  # sections offered when the bot is not sure

NOT_SURE = (
    "I'm not sure: nothing in the OSPO knowledge base clearly answers that. "
    "One of these sections might, or ask the OSPO team (#ospo, ospo@example.com)."
)
NOT_SURE_NOTHING_NEAR = (
    "I'm not sure: nothing in the OSPO knowledge base clearly answers that. "
    "Ask the OSPO team (#ospo, ospo@example.com)."
)


@dataclass
class Source:
    path: str  # relative to the knowledge folder
    title: str
    heading: str
    anchor: str
    score: float  # cosine similarity of the section's best piece or phrasing to the question
    url: str | None = None
    updated: str | None = None
    line: str = ""  # the section's first sentence, for a list of candidates

    @property
    def location(self) -> str:
        """Where a reader finds it: the front-matter url, else the path, with the section anchor."""
        base = self.url or self.path
        return f"{base}#{self.anchor}" if self.anchor and self.anchor != "top" else base

    @property
    def section_id(self) -> str:
        return f"{self.path}#{self.anchor}"


@dataclass
class Answer:
    question: str
    confident: bool
    answer: str
    quote: str | None = None  # the verbatim section (or its matching part), markdown, when confident
    sources: list[Source] = field(default_factory=list)
    degraded: bool = False
    complete: bool = True  # the quote is the whole section; else link "read the whole section"
    why: dict = field(default_factory=dict)  # the signals behind `confident` (bot/search/confidence.py)

    @property
    def candidates(self) -> list[Source]:
        """What the asker can open when the bot is not sure: the best sections of the top documents."""
        return [] if self.confident else self.sources[:CANDIDATES]

    def to_dict(self) -> dict:
        keys = {"path", "title", "heading", "score", "url"}
        return {
            "question": self.question,
            "answer": self.answer,
            "confident": self.confident,
            "complete": self.complete,
            "sources": [{k: v for k, v in asdict(s).items() if k in keys} for s in self.sources],
            "why": self.why,
        }


def first_sentence(markdown: str, limit: int = 160) -> str:
    """One line of a section, for a list of candidates: its first sentence, in plain words."""
    text = re.sub(r"<!--.*?-->", " ", markdown, flags=re.DOTALL)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[*_`#>|]+", "", text)
    text = " ".join(text.split())
    match = re.search(r"(?<=[.!?:])\s", text)
    line = text[: match.start()] if match else text
    return line if len(line) <= limit else line[: limit - 1].rsplit(" ", 1)[0] + "…"


def build_answer(
    result: SearchResult,
    confidence: Confidence,
    documents: dict[str, dict],
    section_text: Callable[[str], str | None],
) -> Answer:
    """documents: path -> {"url", "updated"} from the index, for the sources' links and dates;
    section_text: a section id -> the text quotes are taken from."""
    hits = result.documents
    verdict = confidence.judge(result)
    sources = []
    for hit in hits[: max(1 + RELATED, CANDIDATES)]:
        meta = documents.get(hit.path, {})
        text = section_text(hit.best.id) or ""
        sources.append(_source(hit.best, meta, first_sentence(text)))
    if verdict.confident and hits:
        top = hits[0].best
        quote = quote_section(section_text(top.id) or "", top.matched)
        return Answer(
            result.question, True, quote.text, quote.text, sources, result.degraded, quote.complete, verdict.why
        )
    text = NOT_SURE if sources else NOT_SURE_NOTHING_NEAR
    return Answer(result.question, False, text, None, sources, result.degraded, True, verdict.why)


def _source(hit: SectionHit, meta: dict, line: str) -> Source:
    return Source(
        path=hit.path,
        title=hit.title,
        heading=hit.heading,
        anchor=hit.anchor,
        score=round(hit.similarity, 4),
        url=meta.get("url"),
        updated=meta.get("updated"),
        line=line,
    )
