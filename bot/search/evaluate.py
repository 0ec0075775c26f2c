"""`kb eval`: how often the right document comes back, and whether the section quoted answers.

A question file holds one {"question": str, "expected": [path, ...]} per line, paths
relative to the knowledge folder, and optionally "sections": ["path#anchor", ...], the sections
that answer it. A hit at k = any expected document among the top k distinct documents; the
quoted section is right when it is one of "sections" (a document can be right and its quoted
section answer something else).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.search.retrieve import DocumentHit


class EvalFileError(ValueError):
    """A question file we cannot use; the message names the line."""


@dataclass
class Question:
    question: str
    expected: list[str]
    sections: list[str] = field(default_factory=list)  # path#anchor of the sections that answer it

    def answered_by(self, top: DocumentHit) -> bool:
        """Whether the answer from this top document is right: its quoted section is one that answers
        the question, or (without section labels) the document is an expected one."""
        return top.best.id in self.sections if self.sections else top.path in self.expected


@dataclass
class Miss:
    question: str
    expected: list[str]
    got: list[str]
    rank: int | None  # rank of the first expected document within the top 10, if any


@dataclass
class EvalReport:
    questions: int = 0
    hit_at_1: float = 0.0
    hit_at_3: float = 0.0
    hit_at_5: float = 0.0
    mrr: float = 0.0
    sectioned: int = 0  # questions with section labels
    section_at_1: float | None = None  # of those, the share whose quoted section answers them
    k: int = 3
    misses: list[Miss] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "hit_at_1": round(self.hit_at_1, 4),
            "hit_at_3": round(self.hit_at_3, 4),
            "hit_at_5": round(self.hit_at_5, 4),
            "mrr": round(self.mrr, 4),
            "section_at_1": None if self.section_at_1 is None else round(self.section_at_1, 4),
            "questions": self.questions,
            "misses": [m.__dict__ for m in self.misses],
        }


def read_questions(path: Path, need_expected: bool = True) -> list[Question]:
    questions = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise EvalFileError(f"{path}: cannot read: {error}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{path}, line {number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise EvalFileError(f"{where}: not JSON ({error.msg})") from None
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise EvalFileError(f'{where}: expected {{"question": "...", "expected": ["path.md"]}}')
        expected = item.get("expected", [])
        if need_expected and (
            not isinstance(expected, list) or not expected or not all(isinstance(p, str) for p in expected)
        ):
            raise EvalFileError(f'{where}: "expected" must be a non-empty list of paths')
        sections = item.get("sections", [])
        if not isinstance(sections, list) or not all(isinstance(s, str) and "#" in s for s in sections):
            raise EvalFileError(f'{where}: "sections" must be a list of "path.md#anchor"')
        questions.append(Question(item["question"], list(expected) if need_expected else [], list(sections)))
    if not questions:
        raise EvalFileError(f"{path}: no questions in the file")
    return questions


def evaluate(questions: Iterable[Question], search: Callable[[str], list[DocumentHit]], k: int = 3) -> EvalReport:
    """search(question) -> document hits, best first (at least 10 when there are)."""
    report = EvalReport(k=k)
    hits = {1: 0, 3: 0, 5: 0, k: 0}
    reciprocal = 0.0
    quoted_right = 0
    for item in questions:
        documents = search(item.question)
        got = [d.path for d in documents[:10]]
        if item.sections:
            report.sectioned += 1
            quoted_right += bool(documents) and item.answered_by(documents[0])
        first = next((i for i, path in enumerate(got, 1) if path in item.expected), None)
        report.questions += 1
        for cutoff in hits:
            hits[cutoff] += bool(first and first <= cutoff)
        reciprocal += 1.0 / first if first else 0.0
        if not first or first > k:
            report.misses.append(Miss(item.question, item.expected, got[:k], first))
    n = max(report.questions, 1)
    report.hit_at_1, report.hit_at_3, report.hit_at_5 = (hits[c] / n for c in (1, 3, 5))
    report.mrr = reciprocal / n
    report.section_at_1 = quoted_right / report.sectioned if report.sectioned else None
    return report
