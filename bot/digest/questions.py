"""The questions the digest lists: asked in the week, not answered confidently or 👎'd, with
near-duplicates counted once (difflib on a normalised text, or an embedder's cosine similarity)."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

SIMILARITY = 0.8  # difflib ratio of normalised questions at or above which they count as one
EMBED_SIMILARITY = 0.85  # cosine similarity, when an embedder is given
STOPWORDS = frozenset(
    """a an the i im ive id we you my our your me us is are am be been was were do does did can could should
    would will shall may might must to of in on for at by with from about as and or if it its this that these
    those there here what whats which who whos how hows when where wheres why hi hello hey please thanks thank
    any some just so there get got""".split()
)
# Questions of the help desk in [start, end), evaluation runs left out.
ASKED = "asked_at >= ? AND asked_at < ? AND COALESCE(source, '') != 'eval'"


@dataclass
class QuestionGroup:
    """Near-duplicate questions counted once; question_id is the representative (the first asked)."""

    question_id: int
    question: str
    asked: int
    unanswered: int  # how many were not answered confidently
    downvotes: int
    askers: int
    question_ids: list[int] = field(default_factory=list)


def normalise(text: str) -> str:
    """'How do I reset my VPN password?!' -> 'reset vpn password': lower case, no punctuation or stopwords."""
    words = re.findall(r"[a-z0-9]+", text.lower().replace("'", "").replace("’", ""))
    kept = [w for w in words if w not in STOPWORDS]
    return " ".join(kept or words)


def similar(a: str, b: str) -> bool:
    """Near-duplicates: normalised texts with a difflib ratio of at least SIMILARITY."""
    if a == b:
        return True
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return (
        matcher.real_quick_ratio() >= SIMILARITY
        and matcher.quick_ratio() >= SIMILARITY
        and (matcher.ratio() >= SIMILARITY)
    )


def group_questions(
    rows: list[dict[str, Any]], embedder: Callable[[list[str]], Sequence[Sequence[float]]] | None = None
) -> list[QuestionGroup]:
    """Rows (id, question, user, confident, downvotes) in the order asked -> groups, most asked first.
    A question joins the first group whose representative it is similar to (difflib on the normalised
    text, or, with an embedder, a cosine similarity of at least EMBED_SIMILARITY)."""
    keys = [normalise(r["question"]) for r in rows]
    vectors = _unit(embedder([r["question"] for r in rows])) if embedder and rows else None
    groups: list[tuple[int, QuestionGroup, set]] = []  # (row index of representative, group, askers)

    def close(rep: int, i: int) -> bool:
        if similar(keys[rep], keys[i]):
            return True
        return vectors is not None and sum(x * y for x, y in zip(vectors[rep], vectors[i], strict=True)) >= (
            EMBED_SIMILARITY
        )

    for i, r in enumerate(rows):
        found = next((g for g in groups if close(g[0], i)), None)
        if found is None:
            found = (i, QuestionGroup(r["id"], " ".join(r["question"].split()), 0, 0, 0, 0), set())
            groups.append(found)
        _, group, askers = found
        group.asked += 1
        group.unanswered += 0 if r["confident"] else 1
        group.downvotes += r["downvotes"]
        group.question_ids.append(r["id"])
        askers.add(r["user"] or f"?{r['id']}")
        group.askers = len(askers)
    ranked = [g for _, g, _ in groups]
    return sorted(ranked, key=lambda g: (-g.asked, -g.downvotes, g.question_id))


def _unit(vectors) -> list[list[float]]:
    found = []
    for v in vectors:
        v = [float(x) for x in v]
        norm = math.sqrt(sum(x * x for x in v)) or 1.0
        found.append([x / norm for x in v])
    return found


def top_questions(db, start: str, end: str, embedder=None) -> list[QuestionGroup]:
    """Questions asked in the week that were not answered confidently or got a 👎, grouped so that
    near-duplicates count once. Questions whose answer was already saved as knowledge are left out."""
    rows = list(
        db.query(
            f"""
            SELECT q.id, q.question, q.user, q.confident,
                (SELECT COUNT(*) FROM feedback f WHERE f.question_id = q.id AND f.vote < 0) AS downvotes
            FROM questions q
            WHERE {ASKED.replace("asked_at", "q.asked_at").replace("source", "q.source")}
              AND (q.confident = 0 OR EXISTS (SELECT 1 FROM feedback f WHERE f.question_id = q.id AND f.vote < 0))
              AND NOT EXISTS (
                SELECT 1 FROM learned l JOIN escalations x ON x.id = l.escalation_id WHERE x.question_id = q.id
              )
            ORDER BY q.asked_at, q.id
            """,
            [start, end],
        )
    )
    return group_questions(rows, embedder)
