"""Every component's declared license through the same engine and policy as `ospo-bot license`
(bot.licenses.check), for one use; approved exceptions honoured.

A component's verdict is the policy's (allowed, conditions, review, forbidden) or `unknown` when
it declares no license or one we cannot recognise. Several licenses declared side by side (as
CycloneDX allows) must all be met: they are checked as one AND expression. A license given by
name ("Apache License, Version 2.0") is read as the engine reads what people type.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot import licenses
from bot.deps import exceptions
from bot.deps.model import Component, Document

VERDICTS = ("allowed", "conditions", "review", "forbidden", "unknown")
PASSING = ("allowed", "conditions")  # conditions count as allowed: the build may ship
ATTENTION_ORDER = ("forbidden", "unknown", "review")  # the worst first


@dataclass(frozen=True)
class Result:
    component: Component
    license: str | None  # the SPDX expression it was read as, else what was declared; None when nothing
    verdict: str
    reasons: tuple[str, ...]
    exception: str | None = None  # the exception request that allows it: "OSPO-17"

    @property
    def passes(self) -> bool:
        return self.verdict in PASSING

    def to_dict(self) -> dict[str, Any]:
        c = self.component
        return {
            "name": c.name,
            "version": c.version,
            "purl": c.purl,
            "license": self.license,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "exception": self.exception,
        }


@dataclass(frozen=True)
class DepsReport:
    file: str
    format: str
    use: str
    results: tuple[Result, ...]

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(VERDICTS, 0)
        for result in self.results:
            counts[result.verdict] += 1
        return counts

    @property
    def passes(self) -> bool:
        """True when every component is allowed (with conditions or by an exception)."""
        return all(r.passes for r in self.results)

    @property
    def attention(self) -> list[Result]:
        """The components that need attention, the worst first."""
        return sorted((r for r in self.results if not r.passes), key=lambda r: ATTENTION_ORDER.index(r.verdict))

    def to_csv(self) -> str:
        """Every component, one row each, the ones that need attention first (a spreadsheet's view)."""
        rows = io.StringIO()
        writer = csv.writer(rows)
        writer.writerow(["verdict", "name", "version", "purl", "license", "exception", "reasons"])
        for r in self.attention + [r for r in self.results if r.passes]:
            c = r.component
            row = [r.verdict, c.name, c.version, c.purl, r.license, r.exception, " ".join(r.reasons)]
            writer.writerow([_cell(v) for v in row])
        return rows.getvalue()

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "use": self.use,
            "components": [r.to_dict() for r in self.results],
            "counts": self.counts,
        }


def _cell(value: str | None) -> str:
    """A CSV cell a spreadsheet shows as text: names in an SBOM are anyone's, and "=HYPERLINK(...)"
    would otherwise run as a formula."""
    value = "" if value is None else str(value)
    return "'" + value if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def check_document(
    document: Document,
    file: str,
    use: str = "distribute",
    policy: licenses.Policy | None = None,
    grants: list[exceptions.Grant] | tuple = (),
    today: date | None = None,
) -> DepsReport:
    """The verdict for every distinct component of `document` for `use`."""
    policy = policy or licenses.default_policy()
    if use not in policy.uses:
        raise ValueError(f"unknown use {use!r}; expected one of {', '.join(policy.uses)}")
    today = today or date.today()
    seen, results = set(), []
    for component in document.components:
        if component.key in seen:
            continue
        seen.add(component.key)
        result = check_component(component, use, policy)
        if not result.passes and grants:
            result = _with_exception(result, use, grants, today)
        results.append(result)
    return DepsReport(file, document.format, use, tuple(results))


def check_component(component: Component, use: str, policy: licenses.Policy) -> Result:
    notes, parts = [], []
    for kind, text in component.licenses:
        if kind == "name":
            named = licenses.check(text, policy, use)
            if named.expression is None or named.unknown:
                return _result(component, text, named, use, [f"Its license is given by name: {text!r}."])
            notes.append(f"Its license is given by name: {text!r}, read as {named.expression}.")
            parts.append(named.expression)
        else:
            parts.append(text)
    declared = parts[0] if len(parts) == 1 else " AND ".join(f"({p})" for p in parts)
    if declared in ("NONE", "NOASSERTION"):
        notes.append("It is declared to have no license." if declared == "NONE" else "Its license is not stated.")
    if len(parts) > 1:
        notes.append("It declares several licenses; all of them apply.")
    return _result(component, declared or None, licenses.check(declared, policy, use), use, notes)


def _result(component, declared: str | None, report: licenses.LicenseReport, use: str, notes: list[str]) -> Result:
    verdict = report.verdicts[use]
    unknown = report.unknown or report.expression is None
    reason = verdict.reason
    if declared is None:  # the engine's "No license was given." reads oddly for a file
        reason = f"No license declared. {reason.removeprefix('No license was given. ')}"
    return Result(
        component,
        report.expression or declared,
        "unknown" if unknown else verdict.verdict,
        (*notes, reason),
    )


def _with_exception(result: Result, use: str, grants, today: date) -> Result:
    live, expired = exceptions.find(result.component, use, grants, today)
    if live:
        reasons = (
            f"Allowed by exception {live.ref} for {use} until {live.until.isoformat()}.",
            f"Without it: {result.verdict}. {' '.join(result.reasons)}",
        )
        return Result(result.component, result.license, "allowed", reasons, live.ref)
    if expired:
        note = f"Exception {expired.ref} expired on {expired.until.isoformat()}; ask the OSPO to renew it."
        return Result(result.component, result.license, result.verdict, (*result.reasons, note))
    return result
