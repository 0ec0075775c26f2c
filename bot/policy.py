"""The license policy (knowledge/policy.yaml): categories, per-license decisions, aliases, CLAs,
auto-approval rules and service levels, read and validated.

    >>> policy = load_policy(default_policy_path())
    >>> policy.categories["permissive"].rules["saas"].verdict
    'allowed'

What a license *is* (ids, names, ScanCode categories) lives in bot/spdx.py; how a typed license
becomes a verdict, in bot/licenses.py.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.spdx import DEPRECATED_WITH, SPECIAL_IDS, DataSource, norm, tables

VERDICTS = ("allowed", "conditions", "review", "forbidden")  # most to least favourable
UNKNOWN = "unknown"
# A `linking` exception turns a license of the first category into the second (policy.yaml, exceptions).
LINKING_RELAXES = {"strong-copyleft": "weak-copyleft"}


@dataclass(frozen=True)
class Rule:
    verdict: str
    reason: str


@dataclass(frozen=True)
class Category:
    name: str
    description: str
    examples: tuple[str, ...]
    rules: dict[str, Rule]


@dataclass(frozen=True)
class LicenseRule:
    spdx_id: str
    category: str
    name: str | None = None
    rules: dict[str, Rule] = field(default_factory=dict)
    reference_note: str | None = None  # why we are less strict than an independent reference; always shown


# What a `WITH` exception does to the verdict of the license it is attached to (see policy.yaml).
EXCEPTION_EFFECTS = {
    "linking": "code that links to or uses the component is not covered: strong copyleft counts as weak copyleft",
    "output": "only the tool's output (generated scripts, parsers, embedded fonts) is free; the license applies",
    "none": "a permission that changes none of our verdicts; the license applies",
    "restricts": "adds restrictions: the stricter of the license and the exception applies",
}


@dataclass(frozen=True)
class ExceptionRule:
    spdx_id: str
    effect: str  # one of EXCEPTION_EFFECTS
    reason: str


@dataclass
class Policy:
    path: Path
    uses: dict[str, str]
    verdict_labels: dict[str, str]
    categories: dict[str, Category]
    scancode_categories: dict[str, str]
    licenses: dict[str, LicenseRule]
    aliases: dict[str, str]  # normalised alias -> SPDX id, NONE or NOASSERTION
    preapproved_clas: list[dict[str, str]]
    auto_approve: dict[str, Any]
    sla: dict[str, int]
    exceptions: dict[str, ExceptionRule] = field(default_factory=dict)
    version: str | None = None
    updated: str | None = None  # the date the policy was last changed (ISO)
    # check() results by (text, use): a dependency list repeats a few dozen licenses thousands of times.
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    def rule(self, spdx_id: str, category: str, use: str) -> Rule:
        override = self.licenses.get(spdx_id)
        if override and use in override.rules:
            return override.rules[use]
        return self.categories[category].rules[use]

    def source(self) -> DataSource:
        """This policy as a data source: which file, which version, last changed when."""
        version = f"{self.path.name} version {self.version}" if self.version else self.path.name
        return DataSource("policy", "Our license policy", version, self.updated, str(self.path))

    def rule_path(self, spdx_id: str, category: str, use: str) -> str:
        """Where in policy.yaml the rule that rule() returns is written."""
        override = self.licenses.get(spdx_id)
        if override and use in override.rules:
            return f"licenses.{spdx_id}.{use}"
        return f"categories.{category}.{use}"


def default_policy_path() -> Path:
    return Path(__file__).parents[1] / "knowledge" / "policy.yaml"


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file; raise ValueError naming the file and the bad key."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from exc

    def fail(where: str, problem: str):
        raise ValueError(f"{path}: {where}: {problem}")

    def need(mapping: Any, key: str, where: str, kind: type | tuple = dict) -> Any:
        if not isinstance(mapping, dict) or key not in mapping:
            fail(where or "(top level)", f"missing required key {key!r}")
        if not isinstance(mapping[key], kind):
            fail(f"{where}.{key}".lstrip("."), f"expected {getattr(kind, '__name__', kind)}")
        return mapping[key]

    if not isinstance(data, dict):
        fail("(top level)", "expected a mapping of policy keys")
    uses = need(data, "uses", "")
    verdict_labels = need(data, "verdicts", "")
    if set(verdict_labels) != set(VERDICTS):
        fail("verdicts", f"must have exactly the keys {', '.join(VERDICTS)}")

    def rules(entry: dict, where: str, required: bool) -> dict[str, Rule]:
        found = {}
        for key in sorted(set(entry) - {"description", "examples", "category", "name", "reference_note"}):
            if key not in uses:
                fail(f"{where}.{key}", f"unknown use (uses are: {', '.join(uses)})")
        for u in uses:
            if u not in entry:
                if required:
                    fail(where, f"missing verdict for use {u!r}")
                continue
            r = need(entry, u, where)
            verdict, reason = (
                need(r, "verdict", f"{where}.{u}", str),
                need(r, "reason", f"{where}.{u}", str),
            )
            if verdict not in VERDICTS:
                fail(f"{where}.{u}.verdict", f"{verdict!r} is not one of {', '.join(VERDICTS)}")
            found[u] = Rule(verdict, reason.strip())
        return found

    categories = {}
    for name, entry in need(data, "categories", "").items():
        where = f"categories.{name}"
        if not isinstance(entry, dict):
            fail(where, "expected a mapping")
        examples = tuple(str(e) for e in entry.get("examples", []))
        categories[name] = Category(
            name, str(entry.get("description", "")), examples, rules(entry, where, required=True)
        )
    if UNKNOWN not in categories:
        fail("categories", f"missing required category {UNKNOWN!r}")

    scancode = need(data, "scancode_categories", "")
    for sc, ours in scancode.items():
        if ours not in categories:
            fail(f"scancode_categories.{sc}", f"{ours!r} is not a category")

    t, licenses = tables(), {}
    for spdx_id, entry in (data.get("licenses") or {}).items():
        where = f"licenses.{spdx_id}"
        canonical = t.ids.get(str(spdx_id).lower()) or (spdx_id if str(spdx_id).startswith("LicenseRef-") else None)
        if canonical in DEPRECATED_WITH:
            fail(where, f"deprecated; it means {DEPRECATED_WITH[canonical]}: decide on those ids instead")
        if canonical is None:
            hint = difflib.get_close_matches(str(spdx_id).lower(), t.ids, 1)
            fail(
                where,
                "not a known SPDX id" + (f" (did you mean {t.ids[hint[0]]}?)" if hint else ""),
            )
        category = need(entry, "category", where, str)
        if category not in categories:
            fail(f"{where}.category", f"{category!r} is not a category")
        note = entry.get("reference_note")
        if note is not None and not isinstance(note, str):
            fail(f"{where}.reference_note", "expected str")
        rules_ = rules(entry, where, False)
        licenses[canonical] = LicenseRule(canonical, category, entry.get("name"), rules_, note and note.strip())

    exceptions = {}
    for spdx_id, entry in (data.get("exceptions") or {}).items():
        where = f"exceptions.{spdx_id}"
        canonical = t.ids.get(str(spdx_id).lower())
        if canonical is None or not (canonical in t.exceptions or canonical.startswith("LicenseRef-")):
            fail(where, "not a known SPDX exception id (or a LicenseRef- that acts as one)")
        effect = need(entry, "effect", where, str)
        if effect not in EXCEPTION_EFFECTS:
            fail(f"{where}.effect", f"{effect!r} is not one of {', '.join(EXCEPTION_EFFECTS)}")
        exceptions[canonical] = ExceptionRule(canonical, effect, need(entry, "reason", where, str).strip())

    aliases, seen = {}, {}
    for alias, target in (data.get("aliases") or {}).items():
        target = str(target)
        ok = target in SPECIAL_IDS or target in licenses or target.lower() in t.ids
        if not ok:
            fail(f"aliases.{alias}", f"{target!r} is not a known SPDX id, NONE or NOASSERTION")
        target = target if target in SPECIAL_IDS or target in licenses else t.ids[target.lower()]
        key = norm(str(alias))
        if aliases.get(key, target) != target:
            fail(f"aliases.{alias}", f"clashes with alias {seen[key]!r}, which means {aliases[key]}")
        aliases[key], seen[key] = target, alias

    clas = need(need(data, "clas", ""), "preapproved", "clas", list)
    for i, cla in enumerate(clas):
        need(cla, "name", f"clas.preapproved[{i}]", str)
        need(cla, "id", f"clas.preapproved[{i}]", str)
    auto = need(data, "auto_approve", "")
    contribute = need(auto, "contribute", "auto_approve")
    for cat in need(contribute, "categories", "auto_approve.contribute", list):
        if cat not in categories:
            fail("auto_approve.contribute.categories", f"{cat!r} is not a category")
    need(contribute, "max_changed_lines", "auto_approve.contribute", int)
    sla = need(data, "sla", "")
    for key, value in sla.items():
        if not isinstance(value, int) or value < 0:
            fail(f"sla.{key}", "expected a whole number of business days")

    updated = data.get("updated")
    if updated is not None and not isinstance(updated, dt.date):
        fail("updated", "expected a date such as 2026-11-30")
    return Policy(
        path,
        dict(uses),
        dict(verdict_labels),
        categories,
        dict(scancode),
        licenses,
        aliases,
        [dict(c) for c in clas],
        dict(auto),
        dict(sla),
        exceptions,
        str(data["version"]) if data.get("version") is not None else None,
        updated.isoformat() if updated else None,
    )
