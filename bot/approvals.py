"""Approval requests: validation, the policy check on submission, decisions and the audit trail.

Plain Python over SQLite; the Slack modal and buttons (and the CLI) call it and render what it
returns. Nothing here knows Slack. Every state change is one row in the append-only
`approval_events` table, written in the same transaction as the conditional UPDATE of the request:

    submitted  -> auto_approved | pending
    pending    -> approved | rejected | needs_info | cancelled
    needs_info -> pending (the requester answers) | cancelled
    approved | rejected -> reopened -> pending (an approver reopens; both events in one transaction)

    approvals = Approvals(ThreadLocalDB(path).get, load_policy(default_policy_path()))
    request = approvals.submit("U123", "contribute", {...})   # .state: auto_approved or pending
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

import sqlite_utils

from bot import licenses
from bot.store import iso, now, transaction

PREFIX = "OSPO-"
BOT = "ospo-bot"  # the actor of auto-approvals
BLANKET_MONTHS = 12
TYPES = ("contribute", "release", "cla", "personal", "exception")
KINDS = ("bugfix", "docs", "tests", "feature", "new-project", "other")
STATES = ("pending", "auto_approved", "approved", "rejected", "needs_info", "cancelled")  # stored states
TRANSITIONS = {
    "submitted": {"auto_approved", "pending"},
    "pending": {"approved", "rejected", "needs_info", "cancelled"},
    "needs_info": {"pending", "cancelled"},
    "approved": {"reopened"},
    "rejected": {"reopened"},
    "reopened": {"pending"},
}
DECIDED = {"auto_approved", "approved", "rejected"}
ACTIONS = {"approve": "approved", "reject": "rejected", "needs_info": "needs_info", "reopen": "reopened"}

# Field name -> (kind, what to write when it is missing). Kinds are parsed by Approvals._parse.
FIELD_SPECS = {
    "repository_url": ("url", "Give the repository URL, e.g. https://github.com/owner/repo."),
    "license": ("text", 'Give the project\'s license, e.g. "MIT" or "Apache 2" ("no license" if it has none).'),
    "change_kind": ("kind", f"Choose the kind of change: {', '.join(KINDS)}."),
    "cla": ("text", 'Say which CLA the project asks for: "none", "dco", or the name of the CLA.'),
    "security_fix": ("bool", "Say whether this is a security fix (yes or no)."),
    "changed_lines": ("int", "Give the number of changed lines (added plus removed)."),
    "confidential": ("bool", "Say whether the change contains company-confidential code or data."),
    "use": ("use", "Choose how the component will be used."),
    "description": ("text", "Describe what you want to do."),
    "justification": ("text", "Explain why this is needed."),
    "all_ours": ("bool", "Say whether all code and assets were written or made by the company (yes or no)."),
    "telemetry": ("bool", "Say whether the project collects telemetry (yes or no)."),
    "cryptography": ("bool", "Say whether the project contains or calls cryptography (yes or no)."),
    "proposed_license": ("spdx", 'Give the license you propose, e.g. "Apache-2.0".'),
    "proposed_name": ("text", "Give the name you propose for the project."),
}
FIELDS = {  # type -> (required, optional)
    "contribute": (
        ("repository_url", "license", "change_kind", "cla", "security_fix", "description"),
        ("changed_lines", "confidential", "justification"),
    ),
    "release": (
        ("description", "justification", "all_ours", "telemetry", "cryptography", "proposed_license", "proposed_name"),
        ("repository_url",),
    ),
    "cla": (("repository_url", "cla", "description"), ("license", "justification")),
    "personal": (("description",), ("repository_url", "license", "justification")),
    "exception": (("repository_url", "license", "use", "justification"), ("description",)),
}
MAX_TEXT = {"description": 3000, "justification": 3000, "proposed_name": 100}  # others: 200 (Slack allows 3000)
_KIND_WORDS = dict(
    w.split(":") for w in "bug:bugfix fix:bugfix doc:docs documentation:docs typo:docs test:tests".split()
)
_YES, _NO = {"yes", "y", "true", "1", "on"}, {"no", "n", "false", "0", "off"}

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
_CODE_HOSTS = {"github.com", "codeberg.org", "bitbucket.org"}  # host/owner/repo: deeper paths are the same repo
_PRECEDENT = "ref type state decided_by decided_at blanket blanket_until license_category reason conditions".split()
_DECISION = dict.fromkeys(["decided_by", "decided_at", "reason", "conditions", "blanket_until"]) | {"blanket": 0}


class ApprovalError(Exception):
    """Base class: the message is written for the person who clicked."""


class InvalidRequest(ApprovalError, ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class NotFound(ApprovalError, LookupError):
    pass


class NotAllowed(ApprovalError, PermissionError):
    pass


class InvalidTransition(ApprovalError):
    def __init__(self, message: str, state: str):
        super().__init__(message)
        self.state = state


class AlreadyDecided(InvalidTransition):
    def __init__(self, message: str, state: str, decided_by: str | None, decided_at: str | None):
        super().__init__(message, state)
        self.decided_by, self.decided_at = decided_by, decided_at


@dataclass
class Event:
    id: int
    request_id: int
    actor: str
    at: str
    from_state: str
    to_state: str
    reason: str | None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Request:
    id: int
    ref: str
    type: str
    requester: str
    state: str
    fields: dict[str, Any]
    repo: str | None  # normalised repository URL
    license_expression: str | None
    license_category: str | None
    auto_reasons: list[str]  # why it was auto-approved
    flags: list[str]  # what the policy flagged, and why
    precedent: list[dict[str, Any]]  # earlier decisions for the same repository, newest first
    blanket: bool
    blanket_until: str | None
    decided_by: str | None
    decided_at: str | None
    reason: str | None
    conditions: str | None
    created_at: str
    updated_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ref(request_id: int) -> str:
    return f"{PREFIX}{request_id}"


def parse_ref(text: str | int | None) -> int | None:
    """'OSPO-42', 'ospo-42', '42', '#42' (or 42) -> 42; anything else -> None."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text if text > 0 else None
    m = re.fullmatch(r"\s*(?:#|ospo[-\s#]?)?\s*(\d{1,18})\s*", text or "", re.IGNORECASE)
    return int(m[1]) if m and int(m[1]) > 0 else None


def normalise_url(text: str) -> str | None:
    """'git@GitHub.com:Owner/Repo.git' or 'https://github.com/owner/repo/' -> 'https://github.com/owner/repo'."""
    text = text.strip()
    if m := re.fullmatch(r"(?:ssh://)?git@([^:/\s]+)[:/](\S+)", text):
        text = f"https://{m[1]}/{m[2]}"
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower().removeprefix("www.")
    except ValueError:
        return None
    if parts.scheme not in ("http", "https", "ssh", "git") or "." not in host or re.search(r"\s", text):
        return None
    segments = [s for s in parts.path.lower().split("/") if s]
    if host in _CODE_HOSTS:
        segments = segments[:2]
    if segments:
        segments[-1] = segments[-1].removesuffix(".git")
    path = "/".join(s for s in segments if s)
    return f"https://{host}/{path}" if path else None


def plus_months(timestamp: str, months: int) -> str:
    d = datetime.fromisoformat(timestamp)
    year, month = divmod(d.month - 1 + months, 12)
    year, month = d.year + year, month + 1
    day = min(d.day, calendar.monthrange(year, month)[1])
    return d.replace(year=year, month=month, day=day).isoformat(timespec="seconds")


def _cla_words(text: str) -> str:
    words = re.sub(r"[^a-z0-9]+", " ", text.lower()).split()
    return " ".join(w for w in words if w not in _CLA_FILLER)


class Approvals:
    def __init__(
        self,
        db_factory: Callable[[], sqlite_utils.Database],
        policy: licenses.Policy,
        clock: Callable[[], str] = now,
    ):
        self.db_factory, self.policy, self.clock = db_factory, policy, clock

    @property
    def db(self) -> sqlite_utils.Database:
        return self.db_factory()

    # -- validation -----------------------------------------------------------------------
    def validate(self, type: str, fields: dict[str, Any]) -> dict[str, str]:
        """Field-level errors {field: what to fix}; empty when the request can be submitted."""
        return self._clean(type, fields)[1]

    def _clean(self, type: str, fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        if type not in FIELDS:
            return {}, {"type": f"Choose a request type: {', '.join(TYPES)}."}
        fields = fields if isinstance(fields, dict) else {}
        required, optional = FIELDS[type]
        clean, errors = {}, {}
        for name, value in fields.items():
            if name not in required + optional and not _blank(value):
                errors[str(name)] = f"A {type} request does not ask for this; leave it empty."
        for name in required + optional:
            value = fields.get(name)
            if _blank(value):
                if name in required:
                    errors[name] = FIELD_SPECS[name][1]
                continue
            try:
                clean[name] = self._parse(name, value)
            except ValueError as exc:
                errors[name] = str(exc)
        if type == "cla" and "cla" in clean and self.classify_cla(clean["cla"])[0] in ("none", "dco"):
            errors["cla"] = "Give the name of the CLA; DCO sign-off or no CLA needs no cla request."
        return clean, errors

    def _parse(self, name: str, value: Any) -> Any:
        kind = FIELD_SPECS[name][0]
        if kind == "bool":
            if isinstance(value, bool):
                return value
            word = str(value).strip().lower()
            if word in _YES | _NO:
                return word in _YES
            raise ValueError("Answer yes or no.")
        if kind == "int":
            text = str(value).replace(",", "").strip()
            if isinstance(value, bool) or not (text.isascii() and text.isdigit()):
                raise ValueError("Give a whole number of lines, e.g. 40.")
            return int(text)
        text = str(value).strip()
        if len(text) > MAX_TEXT.get(name, 200):
            raise ValueError(f"Keep it under {MAX_TEXT.get(name, 200)} characters.")
        if kind == "url" and normalise_url(text) is None:
            raise ValueError("Give the full repository URL, e.g. https://github.com/owner/repo.")
        if kind == "kind":
            word = re.sub(r"[\s_]+", "-", text.lower())
            if _KIND_WORDS.get(word, word) not in KINDS:
                raise ValueError(FIELD_SPECS[name][1])
            return _KIND_WORDS.get(word, word)
        if kind == "use" and text not in self.policy.uses:
            raise ValueError(f"Choose one of: {', '.join(self.policy.uses)}.")
        if kind == "spdx":
            report = licenses.check(text, self.policy)
            if report.expression is None or report.unknown:
                hint = f" Did you mean {', '.join(report.suggestions)}?" if report.suggestions else ""
                raise ValueError(f"We could not recognise {text!r} as a license.{hint}")
        return text

    def classify_cla(self, text: str) -> tuple[str, dict[str, str] | None]:
        """-> ("none" | "dco" | "preapproved" | "other", the pre-approved policy entry or None)."""
        raw, key = text.strip().lower(), _cla_words(text)
        if raw in _NO_CLA:
            return "none", None
        if key in _DCO or raw in _DCO:
            return "dco", None
        for entry in self.policy.preapproved_clas:
            names = {entry["id"], entry["name"], *_CLA_ALIASES.get(entry["id"], ())}
            if key and key in {_cla_words(n) for n in names}:
                return "preapproved", entry
        return "other", None

    # -- submission and the policy check --------------------------------------------------
    def submit(self, requester: str, type: str, fields: dict[str, Any]) -> Request:
        """Validate, check against the policy, store; auto-approved or pending. InvalidRequest if invalid."""
        if not requester:
            raise ValueError("requester is required")
        clean, errors = self._clean(type, fields)
        if errors:
            raise InvalidRequest(errors)
        with self._transaction() as db:
            ts = self.clock()
            a = self._assess(db, type, clean, ts)
            auto = a["state"] == "auto_approved"
            cursor = db.execute(
                "INSERT INTO approval_requests (type, requester, state, fields, repo, license_expression, "
                "license_category, auto_reasons, flags, precedent, blanket, decided_by, decided_at, reason, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
                [
                    type,
                    requester,
                    a["state"],
                    _json(clean),
                    a["repo"],
                    a["expression"],
                    a["category"],
                    _json(a["auto_reasons"]),
                    _json(a["flags"]),
                    _json(a["precedent"]),
                    BOT if auto else None,
                    ts if auto else None,
                    a["reason"],
                    ts,
                    ts,
                ],
            )
            request_id = cursor.lastrowid
            extra = {k: a[k] for k in ("auto_reasons", "flags")} | {"fields": clean}
            self._event(db, request_id, requester, ts, "submitted", a["state"], None, extra)
        return self.get(request_id)

    def _license(self, text: str | None, use: str) -> tuple[str | None, str | None, licenses.Verdict | None]:
        if text is None:
            return None, None, None
        report = licenses.check(text, self.policy)
        verdict = report.verdicts[use]
        by = {lic.spdx_id: lic.category for lic in report.licenses}
        category = by.get(verdict.decided_by, licenses.UNKNOWN) if report.expression else licenses.UNKNOWN
        return report.expression, category, verdict

    def _assess(self, db: sqlite_utils.Database, type: str, f: dict[str, Any], ts: str) -> dict[str, Any]:
        repo = normalise_url(f["repository_url"]) if f.get("repository_url") else None
        use = f.get("use", "contribute")
        expression, category, verdict = self._license(f.get("license") or f.get("proposed_license"), use)
        precedent = self._precedent(db, repo)
        covered = None
        if type == "contribute":
            reasons, flags = self._contribute_rules(f, expression, category, verdict)
            if flags:  # not trivial: is the repository under a live blanket approval?
                covered, blanket_flags = self._blanket(db, repo, f, category, ts)
                reasons, flags = ([covered], []) if covered else ([], flags + blanket_flags)
        else:
            reasons, flags = [], self._other_flags(type, f, expression, category, verdict)
        state = "auto_approved" if type == "contribute" and not flags else "pending"
        if state == "pending":
            flags += [
                f"{p['ref']} for this repository was rejected: {p['reason']}"
                for p in precedent
                if p["state"] == "rejected"
            ]
        reason = None if state == "pending" else covered or "a trivial contribution"
        return {
            "state": state,
            "repo": repo,
            "expression": expression,
            "category": category,
            "reason": reason,
            "auto_reasons": reasons if state == "auto_approved" else [],
            "flags": flags,
            "precedent": precedent,
        }

    def _contribute_rules(self, f, expression, category, verdict) -> tuple[list[str], list[str]]:
        """policy.yaml auto_approve.contribute, rule by rule: (reasons it passed, flags where it failed)."""
        kind, lines, lic = f["change_kind"], f.get("changed_lines"), expression or repr(f["license"])
        cla_kind, cla_entry = self.classify_cla(f["cla"])
        reasons, flags = [], []
        rules = self.policy.auto_approve.get("contribute") or {}
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

    def _blanket(self, db, repo, f, category, ts) -> tuple[str | None, list[str]]:
        """A live blanket approval of the repository: (reason, []) if it covers the request, else (None, flags)."""
        found = self._select(
            db,
            "repo = ? AND type = 'contribute' AND state = 'approved' AND blanket = 1 AND blanket_until > ? "
            "ORDER BY decided_at DESC, id DESC LIMIT 1",
            [repo, ts],
        )
        if not found:
            return None, []
        b = found[0]
        if f["security_fix"]:
            return None, [f"the blanket approval {b.ref} does not cover security fixes"]
        if f.get("confidential"):
            return None, [f"the blanket approval {b.ref} does not cover company-confidential code or data"]
        if b.license_category != category:
            return None, [
                f"the license changed from {b.license_category} to {category} since the blanket approval "
                f"{b.ref}; a new approval is needed"
            ]
        if self.classify_cla(b.fields["cla"]) != self.classify_cla(f["cla"]):
            return None, [
                f"the CLA changed from {b.fields['cla']!r} to {f['cla']!r} since the blanket approval "
                f"{b.ref}; a new approval is needed"
            ]
        why = (
            f"covered by the blanket approval {b.ref} of {repo}, approved by {b.decided_by} on "
            f"{b.decided_at[:10]}, valid until {b.blanket_until[:10]}"
        )
        return why + (f"; its conditions: {b.conditions}" if b.conditions else ""), []

    def _other_flags(self, type, f, expression, category, verdict) -> list[str]:
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
            kind, entry = self.classify_cla(f["cla"])
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
                f"license {expression or repr(f['license'])} ({category}) for {f['use']}: "
                f"{verdict.label}. {verdict.reason}"
            )
            if verdict.verdict in ("allowed", "conditions"):
                flags.append("the policy already allows this use; an exception may not be needed")
        return flags

    def _precedent(self, db, repo: str | None) -> list[dict[str, Any]]:
        if repo is None:
            return []
        rows = self._select(
            db,
            "repo = ? AND state IN ('approved', 'rejected', 'auto_approved') "
            "ORDER BY decided_at DESC, id DESC LIMIT 10",
            [repo],
        )
        return [{k: getattr(r, k) for k in _PRECEDENT} for r in rows]

    # -- decisions ----------------------------------------------------------------------
    def decide(
        self,
        request_id,
        actor: str,
        action: str,
        reason: str | None = None,
        conditions: str | None = None,
        blanket: bool = False,
        approvers: frozenset[str] | set[str] = frozenset(),
    ) -> Request:
        """approve | reject | needs_info | reopen, by an approver who is not the requester."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
        reason, conditions = _blank_to_none(reason), _blank_to_none(conditions)
        with self._transaction() as db:
            req = self._load(db, request_id)
            verb = action.replace("_", " ")
            if actor not in approvers:
                raise NotAllowed(f"Only OSPO approvers may {verb} requests.")
            if actor == req.requester:
                raise NotAllowed(f"You cannot {verb} your own request {req.ref}; another approver must.")
            ts, target = self.clock(), ACTIONS[action]
            self._check(req, target)
            if action in ("reject", "needs_info") and not reason:
                raise InvalidRequest({"reason": "Say why." if action == "reject" else "Say what you need to know."})
            if blanket and (action != "approve" or req.type != "contribute"):
                raise InvalidRequest({"blanket": "Only the approval of a contribute request can be blanket."})
            decision = {"decided_by": actor, "decided_at": ts, "reason": reason}
            if action == "approve":
                until = plus_months(ts, BLANKET_MONTHS) if blanket else None
                extra = {"conditions": conditions, "blanket": blanket, "blanket_until": until}
                changes = {"state": target, **decision, **extra, "blanket": int(blanket)}
            elif action == "reject":
                changes, extra = {**_DECISION, "state": target, **decision}, {}
            elif action == "needs_info":
                changes, extra = {"state": target}, {}
            else:  # reopen: the decision is undone; the audit trail keeps it
                changes = {**_DECISION, "state": "pending"}
                extra = {"previous": {k: getattr(req, k) for k in _DECISION}}
            self._update(db, req, target, changes, ts)
            self._event(db, req.id, actor, ts, req.state, target, reason, extra)
            if action == "reopen":
                self._event(db, req.id, actor, ts, target, "pending", reason, {})
        return self.get(req.id)

    def answer_info(self, request_id, actor: str, text: str) -> Request:
        """The requester answers the approver's question: needs_info -> pending."""
        text = _blank_to_none(text)
        with self._transaction() as db:
            req = self._load(db, request_id)
            if actor != req.requester:
                raise NotAllowed(f"Only the requester ({req.requester}) may answer the question on {req.ref}.")
            if not text:
                raise InvalidRequest({"text": "Write your answer."})
            self._check(req, "pending")
            ts = self.clock()
            self._update(db, req, "pending", {"state": "pending"}, ts)
            self._event(db, req.id, actor, ts, req.state, "pending", text, {})
        return self.get(req.id)

    def cancel(
        self, request_id, actor: str, approvers: frozenset[str] | set[str] = frozenset(), reason: str | None = None
    ) -> Request:
        """The requester (or an approver) withdraws a pending or needs_info request."""
        with self._transaction() as db:
            req = self._load(db, request_id)
            if actor != req.requester and actor not in approvers:
                raise NotAllowed(f"Only the requester or an OSPO approver may cancel {req.ref}.")
            self._check(req, "cancelled")
            ts = self.clock()
            self._update(db, req, "cancelled", {"state": "cancelled"}, ts)
            self._event(db, req.id, actor, ts, req.state, "cancelled", _blank_to_none(reason), {})
        return self.get(req.id)

    def _check(self, req: Request, target: str) -> None:
        if target not in TRANSITIONS.get(req.state, ()):
            self._refuse(req, target)

    @staticmethod
    def _refuse(req: Request, target: str):
        what = target.replace("_", " ")
        if req.state in DECIDED:
            by = f" by {req.decided_by}" if req.decided_by else ""
            raise AlreadyDecided(
                f"{req.ref} was already {req.state.replace('_', ' ')}{by}"
                f"{f' at {req.decided_at}' if req.decided_at else ''}; it cannot become {what}.",
                req.state,
                req.decided_by,
                req.decided_at,
            )
        raise InvalidTransition(f"{req.ref} is {req.state.replace('_', ' ')}; it cannot become {what}.", req.state)

    def _update(self, db, req: Request, target: str, changes: dict[str, Any], ts: str) -> None:
        """One conditional UPDATE: it changes nothing unless the request is still in the state we read."""
        changes = {**changes, "updated_at": ts}
        cursor = db.execute(
            f"UPDATE approval_requests SET {', '.join(f'{k} = ?' for k in changes)} WHERE id = ? AND state = ?",
            [*changes.values(), req.id, req.state],
        )
        if cursor.rowcount != 1:  # only if someone wrote outside BEGIN IMMEDIATE: say what won
            self._refuse(self._load(db, req.id), target)

    def _event(self, db, request_id, actor, ts, from_state, to_state, reason, extra) -> None:
        db.execute(
            "INSERT INTO approval_events (request_id, actor, at, from_state, to_state, reason, extra) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [request_id, actor, ts, from_state, to_state, reason, _json(extra)],
        )

    def _transaction(self):
        """BEGIN IMMEDIATE: the write lock is taken before the state is read, so deciders queue up."""
        return transaction(self.db)

    # -- reading ------------------------------------------------------------------------
    def get(self, request_id) -> Request | None:
        """The request for 42, "OSPO-42", "#42"...; None if there is none."""
        found = self._select(self.db, "id = ?", [parse_ref(request_id)])
        return found[0] if found else None

    def _load(self, db, request_id) -> Request:
        found = self._select(db, "id = ?", [parse_ref(request_id)])
        if not found:
            raise NotFound(f"There is no request {request_id}.")
        return found[0]

    @staticmethod
    def _select(db, where: str, args: list) -> list[Request]:
        """Requests WHERE `where` (which may end in ORDER BY / LIMIT)."""
        found = []
        for r in db.query(f"SELECT * FROM approval_requests WHERE {where}", args):
            decoded = {k: json.loads(r[k] or "[]") for k in ("fields", "auto_reasons", "flags", "precedent")}
            found.append(Request(**(r | decoded | {"ref": ref(r["id"]), "blanket": bool(r["blanket"])})))
        return found

    def events(self, request_id) -> list[Event]:
        """The audit trail of one request, oldest first."""
        return self._events(self.db, "request_id = ?", [parse_ref(request_id)])

    @staticmethod
    def _events(db, where: str, args: list) -> list[Event]:
        rows = db.query(f"SELECT * FROM approval_events WHERE {where} ORDER BY id", args)
        return [Event(**(r | {"extra": json.loads(r["extra"])})) for r in rows]

    def replay(self, request_id) -> str:
        """The state rebuilt from the audit trail alone; raises ValueError if the trail is inconsistent."""
        events = self.events(request_id)
        if not events:
            raise NotFound(f"There is no request {request_id}.")
        state = "submitted"
        for e in events:
            if e.from_state != state or e.to_state not in TRANSITIONS.get(state, ()):
                raise ValueError(f"event {e.id}: {e.from_state} -> {e.to_state} cannot follow {state}")
            state = e.to_state
        return state

    def list(
        self, state: str | None = None, requester: str | None = None, since: str | date | datetime | None = None
    ) -> list[Request]:
        """Requests by id; filtered by state, requester, created on or after `since` (date or ISO string)."""
        where, args = ["1 = 1"], []
        for column, value in (("state", state), ("requester", requester)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if since is not None:
            if isinstance(since, datetime):
                since = iso(since)
            where.append("created_at >= ?")
            args.append(since.isoformat() if isinstance(since, date) else str(since))
        return self._select(self.db, " AND ".join(where) + " ORDER BY id", args)

    def pending(self) -> list[Request]:
        """The approvers' queue, oldest first."""
        return sorted(self.list(state="pending"), key=lambda r: (r.created_at, r.id))

    def export(self, format: str = "json") -> str:
        """Every request with every field and every event: JSON (requests with "events") or CSV (a row per event)."""
        if format not in ("csv", "json"):
            raise ValueError("format must be csv or json")
        requests = self.list()
        events: dict[int, list[Event]] = {r.id: [] for r in requests}
        for e in self._events(self.db, "1 = 1", []):
            events[e.request_id].append(e)
        if format == "json":
            return json.dumps(
                [r.to_dict() | {"events": [asdict(e) for e in events[r.id]]} for r in requests],
                indent=2,
                ensure_ascii=False,
            )
        request_columns = [k for k in Request.__dataclass_fields__ if k != "fields"]
        columns = (
            request_columns
            + [f"field_{name}" for name in FIELD_SPECS]
            + [f"event_{k}" for k in Event.__dataclass_fields__ if k != "request_id"]
        )
        out = io.StringIO()
        writer = csv.DictWriter(out, columns, lineterminator="\n")
        writer.writeheader()
        for r in requests:
            base = {k: _cell(getattr(r, k)) for k in request_columns}
            base |= {f"field_{k}": _cell(v) for k, v in r.fields.items()}
            for e in events[r.id]:
                writer.writerow(base | {f"event_{k}": _cell(v) for k, v in asdict(e).items() if k != "request_id"})
        return out.getvalue()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _blank_to_none(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _name(entry: dict[str, str] | None) -> str:
    return entry["name"] if entry else "?"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _cell(value: Any) -> Any:
    return _json(value) if isinstance(value, list | dict) else value
