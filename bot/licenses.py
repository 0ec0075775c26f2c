"""License policy checks: turn what people type into SPDX licenses and verdicts.

    >>> report = check("Apache 2 OR GPLv3")
    >>> report.verdicts["distribute"].label
    'allowed with conditions'

One verdict per license whatever its spelling: SPDX ids in any case or spacing, deprecated ids
(including "GPL-2.0-with-classpath-exception", read as its `WITH` form), SPDX names, ScanCode keys
and the aliases in policy.yaml (bot/spelling.py). `WITH` exceptions follow the written rule in policy.yaml
(`exceptions`). Every verdict says which rule of the policy decided it and where the license's
category comes from. The policy itself lives in knowledge/policy.yaml (read by bot/policy.py);
license data (ids, names, ScanCode categories) comes from bot/spdx.py.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import Any

from license_expression import OR, LicenseSymbol, LicenseWithExceptionSymbol

from bot import spelling
from bot.policy import (  # noqa: F401 - re-exported: callers import the policy from here too
    LINKING_RELAXES,
    UNKNOWN,
    VERDICTS,
    Category,
    ExceptionRule,
    LicenseRule,
    Policy,
    Rule,
    default_policy_path,
    load_policy,
)
from bot.spdx import SPECIAL_IDS, DataSource, is_spdx_exception, spdx_entry, tables
from bot.spdx import sources as _data_sources


@dataclass(frozen=True)
class LicenseInfo:
    spdx_id: str
    name: str
    category: str
    scancode_category: str | None
    osi_approved: bool
    fsf_libre: bool
    is_exception: bool
    category_source: str = ""  # why this category: "ScanCode LicenseDB: Copyleft" or "policy.yaml licenses.X"


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
    decided_by: str | None  # the license (or exception) whose terms decided the verdict
    category: str = UNKNOWN  # the category whose rule decided
    rule: str = ""  # where that rule is written: "policy.yaml categories.weak-copyleft.distribute"
    category_source: str = ""  # why that category: "ScanCode LicenseDB: Copyleft Limited", "policy.yaml ..."


@dataclass
class LicenseReport:
    """Verdicts for one typed license or expression. Reports are cached and shared: read, don't change."""

    input: str
    expression: str | None
    licenses: tuple[LicenseInfo, ...]
    verdicts: dict[str, Verdict]
    unknown: bool
    suggestions: tuple[str, ...]
    sources: tuple[DataSource, ...] = ()  # the policy and the license data the verdicts rest on

    def to_dict(self, provenance: bool = False) -> dict[str, Any]:
        """JSON-ready. With provenance: where each verdict and category comes from, and the data's versions."""
        licenses = [
            {k: getattr(lic, k) for k in ("spdx_id", "name", "category", "osi_approved")}
            | ({"category_source": lic.category_source} if provenance else {})
            for lic in self.licenses
        ]
        keys = ("verdict", "label", "reason") + (("category", "rule", "category_source") if provenance else ())
        data = {
            "input": self.input,
            "expression": self.expression,
            "licenses": licenses,
            "verdicts": {use: {k: getattr(v, k) for k in keys} for use, v in self.verdicts.items()},
            "unknown": self.unknown,
            "suggestions": list(self.suggestions),
        }
        if provenance:
            from bot.references import labels

            data["sources"] = [s.to_dict() for s in self.sources]
            # What independent classifications say about each license (README, "License references").
            data["references"] = {
                lic.spdx_id: [{"source": x.source, "says": x.says} for x in labels(lic.spdx_id)]
                for lic in self.licenses
            }
        return data


def _leaves(node: Any):
    if isinstance(node, LicenseWithExceptionSymbol):
        yield node.license_symbol
        yield node.exception_symbol
    elif isinstance(node, LicenseSymbol):
        yield node
    else:
        for arg in node.args:
            yield from _leaves(arg)


def _category(spdx_id: str, policy: Policy) -> tuple[str, str]:
    """(our category, where it comes from) for one license or exception id."""
    override = policy.licenses.get(spdx_id)
    if override:
        return override.category, f"policy.yaml licenses.{spdx_id}"
    exception = policy.exceptions.get(spdx_id)
    if exception and exception.effect == "linking":
        return "weak-copyleft", f"policy.yaml exceptions.{spdx_id} (linking)"
    if exception and exception.effect in ("output", "none"):
        return "permissive", f"policy.yaml exceptions.{spdx_id} ({exception.effect}: adds permissions only)"
    if spdx_id in SPECIAL_IDS:
        return UNKNOWN, f"SPDX {spdx_id}"
    sc_cat = tables().scancode_category.get(spdx_id)
    if sc_cat is None:
        return UNKNOWN, "not in the ScanCode LicenseDB index"
    return policy.scancode_categories.get(sc_cat, UNKNOWN), f"ScanCode LicenseDB: {sc_cat}"


def _info(spdx_id: str, policy: Policy) -> LicenseInfo:
    override = policy.licenses.get(spdx_id)
    spdx = spdx_entry(spdx_id)
    category, source = _category(spdx_id, policy)
    name = (override and override.name) or (spdx and spdx.name) or SPECIAL_IDS.get(spdx_id, spdx_id)
    return LicenseInfo(
        spdx_id=spdx_id,
        name=name,
        category=category,
        scancode_category=tables().scancode_category.get(spdx_id),
        osi_approved=bool(getattr(spdx, "osi_approved", False)),
        fsf_libre=bool(getattr(spdx, "fsf_libre", False)),
        is_exception=is_spdx_exception(spdx_id),
        category_source=source,
    )


# ---------------------------------------------------------------- public API


@functools.lru_cache(maxsize=1)
def default_policy() -> Policy:
    """knowledge/policy.yaml, read once per process."""
    return load_policy(default_policy_path())


_default_policy = default_policy


def resolve(text: str, policy: Policy | None = None) -> Resolution:
    """Resolve what someone typed ("GPLv3", "MIT OR Apache-2.0") to SPDX licenses."""
    policy = policy or _default_policy()
    text = text if isinstance(text, str) else str(text)
    t = tables()
    tree = None
    if text.strip():
        try:
            tree = t.licensing.parse(spelling.to_spdx(text, policy))
        except Exception:  # noqa: BLE001 - the parser raises many types (even IndexError)
            tree = None
    if tree is None:
        unresolved = [text.strip()] if text.strip() else []
        return Resolution(text, None, [], True, unresolved, spelling.suggest(text, policy) if unresolved else [])
    keys = list(dict.fromkeys(sym.key for sym in _leaves(tree)))
    own = spelling.own_ids(policy)
    unresolved = [k for k in keys if k.lower() not in own and k.lower() not in t.ids]
    infos = [_info(k, policy) for k in keys if k not in unresolved]
    suggestions = list(dict.fromkeys(s for k in unresolved for s in spelling.suggest(k, policy)))[:5]
    # An SPDX exception we have not classified only adds permissions: it makes nothing unknown. An
    # expression of nothing but exceptions names no license at all.
    alone = bool(infos) and all(_adds_permissions(i.spdx_id, policy) for i in infos)
    if alone:  # shown as what it is here, not as the "permissive" it counts as beside a license
        infos = [replace(i, category=UNKNOWN, category_source="an exception without its license") for i in infos]
    unknown = bool(unresolved) or alone or any(i.category == UNKNOWN and not i.is_exception for i in infos)
    expression = None if unresolved else str(tree)
    return Resolution(text, expression, infos, unknown, unresolved, suggestions, tree)


@dataclass(frozen=True)
class _Outcome:
    """What decided one part of an expression for one use."""

    rank: int  # index in VERDICTS: lower is more favourable
    subject: str  # the part, as named in the reason: "MIT", "GPL-2.0-only WITH Classpath-exception-2.0"
    decided_by: str  # the id whose category decided
    rule: Rule
    category: str
    where: str  # the rule's place in policy.yaml
    category_source: str
    note: str = ""  # said before the rule's reason: an exception's effect, a reference note


def _leaf(key: str, use: str, policy: Policy, infos: dict[str, LicenseInfo]) -> _Outcome:
    info = infos[key]
    rule = policy.rule(key, info.category, use)
    override = policy.licenses.get(key)
    note = (override.reference_note or "") if override else ""
    where = policy.rule_path(key, info.category, use)
    return _Outcome(VERDICTS.index(rule.verdict), key, key, rule, info.category, where, info.category_source, note)


def _with(node: Any, use: str, policy: Policy, infos: dict[str, LicenseInfo]) -> _Outcome:
    """The written rule for `L WITH E` (policy.yaml, exceptions)."""
    lic, exc = node.license_symbol.key, node.exception_symbol.key
    base, subject = _leaf(lic, use, policy, infos), f"{lic} WITH {exc}"
    rule = policy.exceptions.get(exc)
    if rule is None and not is_spdx_exception(exc):  # a LicenseRef- or unknown "exception": fail safe
        return replace(_stricter(base, _leaf(exc, use, policy, infos), policy), subject=subject)
    if rule is None:
        note = f"{exc} is not in our list of exceptions; exceptions only add permissions, so {lic}'s verdict applies."
        return replace(base, subject=subject, note=f"{base.note} {note}".strip())
    if rule.effect == "restricts":
        return replace(_stricter(base, _leaf(exc, use, policy, infos), policy), subject=subject, note=rule.reason)
    relaxed = LINKING_RELAXES.get(base.category) if rule.effect == "linking" else None
    if relaxed in policy.categories and base.where.startswith("categories."):  # no per-license decision
        weak = policy.categories[relaxed].rules[use]
        return _Outcome(
            VERDICTS.index(weak.verdict),
            subject,
            exc,
            weak,
            relaxed,
            f"categories.{relaxed}.{use}, by exceptions.{exc} (linking)",
            f"{base.category_source}; policy.yaml exceptions.{exc} (linking)",
            rule.reason,
        )
    where = f"{base.where}, with exceptions.{exc} ({rule.effect})"
    return replace(base, subject=subject, where=where, note=rule.reason)


def _adds_permissions(key: str, policy: Policy) -> bool:
    """An exception that only adds permissions to a license (every SPDX exception but one listed as
    `restricts`). Written on its own, "Autoconf-exception-3.0", it says nothing of the license it goes with."""
    rule = policy.exceptions.get(key)
    return rule.effect != "restricts" if rule else is_spdx_exception(key)


def _exception_alone(key: str, use: str, policy: Policy) -> _Outcome:
    rule = policy.categories[UNKNOWN].rules[use]
    note = (
        f"{key} is an exception that adds permissions to a license, not a license, and no license is named "
        f'with it. Find the license it goes with and write it as "LICENSE WITH {key}".'
    )
    where = f"categories.{UNKNOWN}.{use}"
    return _Outcome(
        VERDICTS.index(rule.verdict), key, key, rule, UNKNOWN, where, "an exception without its license", note
    )


def _evaluate(node: Any, use: str, policy: Policy, infos: dict[str, LicenseInfo]) -> _Outcome:
    """OR takes the most favourable option; AND the least favourable part; WITH follows the exception rule.
    An exception written beside licenses rather than WITH one changes nothing; written alone, no license is known."""
    if isinstance(node, LicenseWithExceptionSymbol):
        return _with(node, use, policy, infos)
    if isinstance(node, LicenseSymbol):
        if _adds_permissions(node.key, policy):
            return _exception_alone(node.key, use, policy)
        return _leaf(node.key, use, policy, infos)
    licensed = [n for n in node.args if not (isinstance(n, LicenseSymbol) and _adds_permissions(n.key, policy))]
    parts = [_evaluate(n, use, policy, infos) for n in licensed or node.args]
    pick = min if isinstance(node, OR) else max
    return pick(parts, key=lambda p: _severity(p, policy))


def _severity(outcome: _Outcome, policy: Policy) -> tuple[int, int]:
    """Verdict first; on equal verdicts the stricter category (later in policy.yaml) decides, so its
    conditions are the ones shown ("MIT AND LGPL-2.1-only": the LGPL's conditions, not only MIT's)."""
    order = list(policy.categories)
    return outcome.rank, order.index(outcome.category) if outcome.category in order else len(order)


def _stricter(a: _Outcome, b: _Outcome, policy: Policy) -> _Outcome:
    return max((a, b), key=lambda o: _severity(o, policy))


_CACHE_LIMIT = 20_000


def check(text: str, policy: Policy | None = None, use: str | None = None) -> LicenseReport:
    """Verdicts for every use (or just `use`) of software under the license(s) in `text`.

    Cached per policy and (text, use): checking thousands of components that share a few dozen
    licenses costs one evaluation per license."""
    policy = policy or _default_policy()
    if use is not None and use not in policy.uses:
        raise ValueError(f"unknown use {use!r}; expected one of {', '.join(policy.uses)}")
    key = ("check", text if isinstance(text, str) else str(text), use)
    if (cached := policy.cache.get(key)) is None:
        if len(policy.cache) > _CACHE_LIMIT:
            policy.cache.clear()
        cached = policy.cache[key] = _check(text, policy, use)
    return replace(cached, verdicts=dict(cached.verdicts))


def _check(text: str, policy: Policy, use: str | None) -> LicenseReport:
    res = resolve(text, policy)
    infos = {i.spdx_id: i for i in res.licenses}
    verdicts = {}
    for u in [use] if use else list(policy.uses):
        if res.tree is None or res.unresolved:
            rule = policy.categories[UNKNOWN].rules[u]
            hint = f" Did you mean {', '.join(res.suggestions)}?" if res.suggestions else ""
            what = (
                f"We could not recognise {', '.join(repr(x[:60]) for x in res.unresolved)} as a license."
                if res.unresolved
                else "No license was given."
            )
            source = "not recognised" if res.unresolved else "no license given"
            where = f"categories.{UNKNOWN}.{u}"
            verdicts[u] = Verdict(
                u, rule.verdict, policy.verdict_labels[rule.verdict], f"{what}{hint} {rule.reason}", None, UNKNOWN,
                f"policy.yaml {where}", source,
            )  # fmt: skip
            continue
        outcome = _evaluate(res.tree, u, policy, infos)
        reason = f"{outcome.note} {outcome.rule.reason}".strip()
        if not isinstance(res.tree, (LicenseSymbol, LicenseWithExceptionSymbol)):  # AND / OR; a WITH has its note
            how = (
                "is the most favourable option you may choose"
                if isinstance(res.tree, OR)
                else "is the least favourable part, so its terms decide"
            )
            reason = f"{outcome.subject} {how} in {res.expression}. {reason}"
        verdicts[u] = Verdict(
            u,
            outcome.rule.verdict,
            policy.verdict_labels[outcome.rule.verdict],
            reason,
            outcome.decided_by,
            outcome.category,
            f"policy.yaml {outcome.where}",
            outcome.category_source,
        )
    return LicenseReport(
        res.input, res.expression, tuple(res.licenses), verdicts, res.unknown, tuple(res.suggestions), sources(policy)
    )


def sources(policy: Policy | None = None) -> tuple[DataSource, ...]:
    """The policy and license data every verdict rests on, with their versions and dates."""
    policy = policy or _default_policy()
    data = _data_sources()
    return (policy.source(), data["scancode"], data["spdx"], data["ort"])


# ------------------------------------------------------------ licenses named in a question


def find_in_text(text: str, policy: Policy | None = None) -> LicenseReport | None:
    """The policy report for the first license a free-text question names ("can I use SSPL code
    in our SaaS?"), or None when it names none. Longest phrase wins ("apache 2" over "apache")."""
    found = find_phrase_in_text(text, policy)
    return found[1] if found else None


def find_phrase_in_text(text: str, policy: Policy | None = None) -> tuple[str, LicenseReport] | None:
    """(the words that name a license, its report) for the first license named in text."""
    policy = policy or _default_policy()
    if match := spelling.NO_LICENSE.search(text):
        return match.group(0), check("no license", policy)
    found = list(spelling.mentions(text, policy))
    # "MIT" alone counts only when nothing else is named: it is also a university.
    mit = [m for m in found if m[0].lower() == "mit"]
    for phrase, spdx in [m for m in found if m not in mit] + mit:
        return phrase, check(spdx, policy)
    return None


def find_all_in_text(text: str, policy: Policy | None = None) -> list[tuple[str, LicenseReport]]:
    """(words, report) for every different license a text names, in order: "can we ship MPL and
    GPL code together?" -> MPL-2.0, then GPL-3.0-or-later. "No license" is not counted."""
    policy = policy or _default_policy()
    found: dict[str, tuple[str, LicenseReport]] = {}
    for phrase, spdx in spelling.mentions(text, policy):
        report = check(spdx, policy)
        # "Apache 2.0 with Commons Clause ... what does commons clause restrict": the clause again, not a second license
        if any(spdx in key.split(" WITH ")[1:] for key in found):
            continue
        found.setdefault(report.expression or spdx, (phrase, report))
    return list(found.values())
