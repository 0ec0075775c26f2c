"""An Answer: the best passage quoted verbatim, its sources, and whether we are confident.

Nothing here paraphrases policy: the answer text is a passage of the knowledge base,
trimmed on sentence boundaries, or a plain "I don't know" with the nearest documents.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from bot.search.retrieve import DocumentHit, SearchResult

MAX_QUOTE_CHARS = 900  # comfortably inside one Slack section (3,000) with room for markup
MAX_QUESTION_CHARS = 2000  # longer questions are cut for search (and said so in the record)
RELATED = 2

NOT_SURE = (
    "I'm not sure: nothing in the OSPO knowledge base clearly answers that. "
    "The documents below might help, or ask the OSPO team (#ospo, ospo@example.com)."
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
    score: float  # cosine similarity of the document's best passage to the question
    url: str | None = None
    updated: str | None = None

    @property
    def location(self) -> str:
        """Where a reader finds it: the front-matter url, else the path, with the section anchor."""
        base = self.url or self.path
        return f"{base}#{self.anchor}" if self.anchor and self.anchor != "top" else base


@dataclass
class Answer:
    question: str
    confident: bool
    answer: str
    quote: str | None = None  # the verbatim passage when confident
    sources: list[Source] = field(default_factory=list)
    degraded: bool = False

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answer": self.answer,
            "confident": self.confident,
            "sources": [
                {k: v for k, v in asdict(s).items() if k in {"path", "title", "heading", "score", "url"}}
                for s in self.sources
            ],
        }


def trim_passage(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """The passage cut at the last sentence end (or paragraph end) that fits the limit."""
    text = text.strip()
    if len(text) <= limit:
        return text
    window = text[:limit]
    ends = [m.end() for m in re.finditer(r"[.!?:](?=\s)|\n\n", window)]
    cut = ends[-1] if ends and ends[-1] > limit // 3 else window.rfind(" ")
    return window[: cut if cut > 0 else limit].rstrip() + " …"


def build_answer(
    result: SearchResult, threshold: float, documents: dict[str, dict], keyword_threshold: float
) -> Answer:
    """documents: path -> {"url", "updated"} from the index, for the sources' links and dates.
    threshold: the cosine similarity a confident answer needs; keyword_threshold: the keyword
    score (-bm25) it needs when dense search was unavailable (degraded)."""
    hits = result.documents
    top: DocumentHit | None = hits[0] if hits else None
    if top is None:
        confident = False
    elif result.degraded:
        # Without embeddings only keyword evidence is left: SQLite's bm25() is negative, lower is stronger.
        confident = top.best.bm25 is not None and -top.best.bm25 >= keyword_threshold
    else:
        confident = top.similarity >= threshold
    sources = [
        Source(
            path=hit.path,
            title=hit.title,
            heading=hit.best.heading,
            anchor=hit.best.anchor,
            score=round(hit.similarity, 4),
            url=documents.get(hit.path, {}).get("url"),
            updated=documents.get(hit.path, {}).get("updated"),
        )
        for hit in hits[: 1 + RELATED]
    ]
    if confident:
        quote = trim_passage(top.best.text)
        return Answer(result.question, True, quote, quote, sources, result.degraded)
    text = NOT_SURE if sources else NOT_SURE_NOTHING_NEAR
    return Answer(result.question, False, text, None, sources, result.degraded)
