"""The policy applied to a request on submission: policy.yaml's auto-approval rules for
contributions, blanket approvals of a repository, and the flags that tell approvers what to look at.

Plain functions of the clean fields, the policy and what the ledger found (earlier decisions for the
repository, a live blanket approval): the ledger reads, these decide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot import licenses

if TYPE_CHECKING:
    from bot.approvals.records import Request

# CLAs: words ignored when matching a name, and what people call the pre-approved ones (by policy id).
_CLA_FILLER = set(
    "cla clas contributor contributors license licence agreement individual corporate icla ccla the project "
    "projects inc incl and".split()
)
_CLA_ALIASES = {
    "apache": ("apache", "asf", "apache software foundation", "apache foundation"),
    "google": ("google",),
    "lf-easycla": ("easycla", "lf easycla", "linux foundation easycla", "cncf", "openjs", "openjs foundation"),
    "eclipse-eca": ("eca", "eclipse", "eclipse eca", "eclipse foundation"),
    "microsoft": ("microsoft", "msft"),
    "meta": ("meta", "facebook", "meta facebook"),
    "psf": ("psf", "python software foundation"),
    "canonical": ("canonical", "ubuntu"),
}
_NO_CLA = {"none", "no", "no cla", "n/a", "na", "-", "not required", "no cla required"}
_DCO = {"dco", "developer certificate of origin", "signed off by", "sign off", "signoff"}


@dataclass
class Assessment:
    """What the policy makes of a request: auto_approved (with the reasons) or pending (with flags)."""

    state: str
    expression: str | None  # the license as an SPDX expression
    category: str | None
    reason: str | None  # why it was auto-approved, in one line
    auto_reasons: list[str]
    flags: list[str]


def classify_cla(text: str, policy: licenses.Policy) -> tuple[str, dict[str, str] | None]:
    """-> ("none" | "dco" | "preapproved" | "other", the pre-approved policy entry or None)."""
    raw, key = text.strip().lower(), _cla_words(text)
    if raw in _NO_CLA:
        return "none", None
    if key in _DCO or raw in _DCO:
        return "dco", None
    for entry in policy.preapproved_clas:
        names = {entry["id"], entry["name"], *_CLA_ALIASES.get(entry["id"], ())}
        if key and key in {_cla_words(n) for n in names}:
            return "preapproved", entry
    return "other", None


def assess(
    type: str,
    f: dict[str, Any],
    policy: licenses.Policy,
    *,
    repo: str | None,
    precedent: list[dict[str, Any]],
    blanket: Request | None,
) -> Assessment:
    """The policy check of a submission. precedent: earlier decisions for the repository, newest
    first; blanket: its live blanket approval, if any (it covers a contribution the rules flag)."""
    use = f.get("use", "contribute")
    expression, category, verdict = _license(f.get("license") or f.get("proposed_license"), use, policy)
    covered = None
    if type == "contribute":
        reasons, flags = _contribute_rules(f, expression, category, verdict, policy)
        if flags and blanket is not None:  # not trivial: does a blanket approval of the repository cover it?
            covered, blanket_flags = _blanket(blanket, repo, f, category, policy)
            reasons, flags = ([covered], []) if covered else ([], flags + blanket_flags)
    else:
        reasons, flags = [], _other_flags(type, f, expression, category, verdict, policy)
    state = "auto_approved" if type == "contribute" and not flags else "pending"
    if state == "pending":
        flags += [
            f"{p['ref']} for this repository was rejected: {p['reason']}" for p in precedent if p["state"] == "rejected"
        ]
    return Assessment(
        state=state,
        expression=expression,
        category=category,
        reason=None if state == "pending" else covered or "a trivial contribution",
        auto_reasons=reasons if state == "auto_approved" else [],
        flags=flags,
    )


def _license(text: str | None, use: str, policy) -> tuple[str | None, str | None, licenses.Verdict | None]:
    if text is None:
        return None, None, None
    report = licenses.check(text, policy)
    verdict = report.verdicts[use]
    by = {lic.spdx_id: lic.category for lic in report.licenses}
    category = by.get(verdict.decided_by, licenses.UNKNOWN) if report.expression else licenses.UNKNOWN
    return report.expression, category, verdict


def _contribute_rules(f, expression, category, verdict, policy) -> tuple[list[str], list[str]]:
    """policy.yaml auto_approve.contribute, rule by rule: (reasons it passed, flags where it failed)."""
    kind, lines, lic = f["change_kind"], f.get("changed_lines"), expression or repr(f["license"])
    cla_kind, cla_entry = classify_cla(f["cla"], policy)
    reasons, flags = [], []
    rules = policy.auto_approve.get("contribute") or {}
    if not rules:
        flags.append("the policy has no auto-approval rules for contributions")
    for key, want in rules.items():
        if key == "categories":
            ok = category in want
            yes = f"license {lic} is {category}, a category trivial contributions may go to"
            no = f"license {lic} is {category}, not one of {', '.join(want)}: {verdict.reason}"
        elif key == "change_kinds":
            ok = kind in want
            yes, no = f"the change is {kind}", f"the change is {kind}, not one of {', '.join(want)}"
        elif key == "max_changed_lines":
            ok = lines is None or lines <= want
            yes = f"{lines} changed lines, within {want}" if lines is not None else f"size not given (limit {want})"
            no = f"{lines} changed lines, over the limit of {want}"
        elif key == "new_feature":
            ok = bool(want) or kind != "feature"
            yes, no = "no new feature", "a new feature always needs OSPO approval, whatever its size"
        elif key == "confidential":
            ok = bool(want) or not f.get("confidential")
            yes, no = "no company-confidential code or data", "contains company-confidential code or data"
        elif key == "security_fix":
            ok = bool(want) or not f["security_fix"]
            yes = "not a security fix"
            no = "security fix: report it to security@example.com first; the OSPO and the security team approve it"
        elif key == "cla":
            ok = cla_kind in want
            yes = {"none": "no CLA", "dco": "DCO sign-off"}.get(cla_kind, f"pre-approved CLA: {_name(cla_entry)}")
            no = f"CLA {f['cla']!r} is not pre-approved: the OSPO and Legal review it before anyone signs"
        else:
            ok, no = False, f"policy rule auto_approve.contribute.{key} is not known to this bot; the OSPO decides"
        (reasons if ok else flags).append(yes if ok else no)
    return reasons, flags


def _blanket(b: Request, repo, f, category, policy) -> tuple[str | None, list[str]]:
    """Whether the live blanket approval b covers the request: (reason, []) if so, else (None, flags)."""
    if f["security_fix"]:
        return None, [f"the blanket approval {b.ref} does not cover security fixes"]
    if f.get("confidential"):
        return None, [f"the blanket approval {b.ref} does not cover company-confidential code or data"]
    if b.license_category != category:
        return None, [
            f"the license changed from {b.license_category} to {category} since the blanket approval "
            f"{b.ref}; a new approval is needed"
        ]
    if classify_cla(b.fields["cla"], policy) != classify_cla(f["cla"], policy):
        return None, [
            f"the CLA changed from {b.fields['cla']!r} to {f['cla']!r} since the blanket approval "
            f"{b.ref}; a new approval is needed"
        ]
    why = (
        f"covered by the blanket approval {b.ref} of {repo}, approved by {b.decided_by} on "
        f"{b.decided_at[:10]}, valid until {b.blanket_until[:10]}"
    )
    return why + (f"; its conditions: {b.conditions}" if b.conditions else ""), []


def _other_flags(type, f, expression, category, verdict, policy) -> list[str]:
    """Every request that is not a contribution goes to the OSPO; these say what to look at."""
    flags = []
    if type == "release":
        if not f["all_ours"]:
            flags.append("not all code and assets are the company's: third-party parts need a license review")
        if f["telemetry"]:
            flags.append("collects telemetry: needs a privacy review")
        if f["cryptography"]:
            flags.append("contains cryptography: needs an export-control review")
        if category not in ("permissive", "public-domain"):
            flags.append(f"proposed license {expression} is {category}: outbound copyleft needs OSPO approval")
        flags.append("a release needs the manager's sign-off, then Legal and Security reviews")
    elif type == "cla":
        kind, entry = classify_cla(f["cla"], policy)
        flags.append(
            f"{f['cla']!r} looks like the pre-approved {_name(entry)}: no CLA review may be needed"
            if kind == "preapproved"
            else f"CLA {f['cla']!r} is not on the pre-approved list: the OSPO and Legal review its terms"
        )
    elif type == "personal":
        flags.append("copyright release: the OSPO and Legal decide together")
        if category and category != licenses.UNKNOWN:
            flags.append(f"the project's license {expression} is {category}")
    elif type == "exception":
        flags.append(
            f"license {expression or repr(f['license'])} ({category}) for {f['use']}: {verdict.label}. {verdict.reason}"
        )
        if verdict.verdict in ("allowed", "conditions"):
            flags.append("the policy already allows this use; an exception may not be needed")
    return flags


def _name(entry: dict[str, str] | None) -> str:
    return entry["name"] if entry else "?"


def _cla_words(text: str) -> str:
    words = re.sub(r"[^a-z0-9]+", " ", text.lower()).split()
    return " ".join(w for w in words if w not in _CLA_FILLER)
