"""The request form as data: which types of request there are, the field table (how each field is
read, what the form calls it, what to write when it is missing), which fields each type asks for,
and reading what people typed into clean values.

The Slack form (slack/blocks/approvals.py) is built from this table, and the rules read the
clean values; neither repeats a label, a choice or a limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from bot import licenses
from bot.approvals.rules import classify_cla
from bot.deps.exceptions import parse_components

PREFIX = "OSPO-"
TYPE_LABELS = {
    "contribute": "Contribute to an outside project",
    "release": "Release a company project",
    "cla": "Sign a CLA for the company",
    "personal": "Personal project / copyright release",
    "exception": "License exception for a dependency",
}
TYPES = tuple(TYPE_LABELS)
KINDS = ("bugfix", "docs", "tests", "feature", "new-project", "other")
YES_NO = ("yes", "no")


@dataclass(frozen=True)
class Field:
    kind: str  # how the value is read: url, text, kind, bool, int, use, spdx, components, date (parse_value)
    label: str  # what the form calls it
    missing: str  # what to write when it is required and missing
    max_chars: int = 200
    choices: tuple[str, ...] = ()  # the options of a select (the form shows every other field as text)

    @property
    def multiline(self) -> bool:
        return self.max_chars > 200


FIELD_SPECS = {
    "repository_url": Field("url", "Repository URL", "Give the repository URL, e.g. https://github.com/owner/repo."),
    "license": Field(
        "text",
        "Project license (e.g. Apache 2, MIT, GPLv3)",
        'Give the project\'s license, e.g. "MIT" or "Apache 2" ("no license" if it has none).',
    ),
    "change_kind": Field("kind", "Kind of change", f"Choose the kind of change: {', '.join(KINDS)}.", choices=KINDS),
    "cla": Field(
        "text",
        "CLA or DCO required? (none, DCO, or the CLA's name)",
        'Say which CLA the project asks for: "none", "dco", or the name of the CLA.',
    ),
    "security_fix": Field(
        "bool", "Is it a security fix?", "Say whether this is a security fix (yes or no).", choices=YES_NO
    ),
    "changed_lines": Field(
        "int", "About how many changed lines?", "Give the number of changed lines (added plus removed)."
    ),
    "confidential": Field(
        "bool",
        "Does it contain confidential code or data?",
        "Say whether the change contains company-confidential code or data.",
        choices=YES_NO,
    ),
    "use": Field(
        "use",
        "How will the dependency be used?",
        "Choose how the component will be used.",
        choices=("distribute", "saas", "internal", "contribute"),
    ),
    "description": Field("text", "What do you want to do?", "Describe what you want to do.", max_chars=3000),
    "justification": Field("text", "Why is it good for the company?", "Explain why this is needed.", max_chars=3000),
    "all_ours": Field(
        "bool",
        "Is all the code and every asset ours?",
        "Say whether all code and assets were written or made by the company (yes or no).",
        choices=YES_NO,
    ),
    "telemetry": Field(
        "bool", "Does it collect telemetry?", "Say whether the project collects telemetry (yes or no).", choices=YES_NO
    ),
    "cryptography": Field(
        "bool",
        "Does it contain cryptography?",
        "Say whether the project contains or calls cryptography (yes or no).",
        choices=YES_NO,
    ),
    "components": Field(
        "components",
        "Components, one a line: package URL or name, then versions (e.g. pkg:npm/left-pad >=1.3, <2)",
        "Name the components the exception is for, one a line: a package URL or a name, then a version range.",
        max_chars=3000,
    ),
    "until": Field(
        "date",
        "Until (YYYY-MM-DD; empty: a year from approval)",
        "Give the last day the exception holds, as YYYY-MM-DD.",
        max_chars=10,
    ),
    "proposed_license": Field("spdx", "Proposed license", 'Give the license you propose, e.g. "Apache-2.0".'),
    "proposed_name": Field(
        "text", "Proposed project name", "Give the name you propose for the project.", max_chars=100
    ),
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
    # An exception names its components (which `deps check` then allows), a repository, or both.
    "exception": (("license", "use", "justification"), ("components", "repository_url", "until", "description")),
}
_KIND_WORDS = dict(
    w.split(":") for w in "bug:bugfix fix:bugfix doc:docs documentation:docs typo:docs test:tests".split()
)
_YES, _NO = {"yes", "y", "true", "1", "on"}, {"no", "n", "false", "0", "off"}
_CODE_HOSTS = {"github.com", "codeberg.org", "bitbucket.org"}  # host/owner/repo: deeper paths are the same repo


def ref(request_id: int) -> str:
    return f"{PREFIX}{request_id}"


def parse_ref(text: str | int | None) -> int | None:
    """'OSPO-42', 'ospo-42', '42', '#42' (or 42) -> 42; anything else -> None."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text if text > 0 else None
    m = re.fullmatch(r"\s*(?:#|ospo[-\s#]?)?\s*(\d{1,18})\s*", text or "", re.IGNORECASE)
    return int(m[1]) if m and int(m[1]) > 0 else None


_REFS = re.compile(rf"(?<![\w/-]){PREFIX}(\d{{1,18}})\b", re.IGNORECASE)


def find_refs(text: str | None, limit: int = 3) -> list[int]:
    """The request references a message names ('OSPO-42 and ospo-7' -> [42, 7]), first `limit`, no repeats.
    Only the prefixed form: a bare '#42' in a message means many things."""
    found = dict.fromkeys(int(m[1]) for m in _REFS.finditer(text or "") if 0 < int(m[1]) < 2**63)
    return list(found)[:limit]


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


def subject(repo: str | None, fields: dict[str, Any]) -> str:
    """What a request is about, on one line: the repository, else the proposed project name, else the
    description. Every place that names a request (digest, CLI, Slack) shows this, cut to its room."""
    return " ".join(str(repo or fields.get("proposed_name") or fields.get("description") or "").split())


def clean(type: str, fields: dict[str, Any], policy: licenses.Policy) -> tuple[dict[str, Any], dict[str, str]]:
    """(the fields `type` asks for, read into clean values; field-level errors {field: what to fix})."""
    if type not in FIELDS:
        return {}, {"type": f"Choose a request type: {', '.join(TYPES)}."}
    fields = fields if isinstance(fields, dict) else {}
    required, optional = FIELDS[type]
    values, errors = {}, {}
    for name, value in fields.items():
        if name not in required + optional and not _blank(value):
            errors[str(name)] = f"A {type} request does not ask for this; leave it empty."
    for name in required + optional:
        value = fields.get(name)
        if _blank(value):
            if name in required:
                errors[name] = FIELD_SPECS[name].missing
            continue
        try:
            values[name] = parse_value(name, value, policy)
        except ValueError as exc:
            errors[name] = str(exc)
    if type == "exception" and not values.get("components") and not values.get("repository_url"):
        if "components" not in errors and "repository_url" not in errors:
            errors["components"] = FIELD_SPECS["components"].missing
    if type == "cla" and "cla" in values and classify_cla(values["cla"], policy)[0] in ("none", "dco"):
        errors["cla"] = "Give the name of the CLA; DCO sign-off or no CLA needs no cla request."
    return values, errors


def parse_value(name: str, value: Any, policy: licenses.Policy) -> Any:
    """One field's value as typed -> its clean value; ValueError saying what to write instead."""
    spec = FIELD_SPECS[name]
    if spec.kind == "bool":
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in _YES | _NO:
            return word in _YES
        raise ValueError("Answer yes or no.")
    if spec.kind == "int":
        text = str(value).replace(",", "").strip()
        if isinstance(value, bool) or not (text.isascii() and text.isdigit()):
            raise ValueError("Give a whole number of lines, e.g. 40.")
        return int(text)
    text = str(value).strip()
    if len(text) > spec.max_chars:
        raise ValueError(f"Keep it under {spec.max_chars} characters.")
    if spec.kind == "url" and normalise_url(text) is None:
        raise ValueError("Give the full repository URL, e.g. https://github.com/owner/repo.")
    if spec.kind == "kind":
        word = re.sub(r"[\s_]+", "-", text.lower())
        if _KIND_WORDS.get(word, word) not in KINDS:
            raise ValueError(spec.missing)
        return _KIND_WORDS.get(word, word)
    if spec.kind == "components":
        return "\n".join(f"{c} {v}".strip() for c, v in parse_components(text))  # ValueError: how to write it
    if spec.kind == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError(spec.missing) from None
    if spec.kind == "use" and text not in policy.uses:
        raise ValueError(f"Choose one of: {', '.join(policy.uses)}.")
    if spec.kind == "spdx":
        report = licenses.check(text, policy)
        if report.expression is None or report.unknown:
            hint = f" Did you mean {', '.join(report.suggestions)}?" if report.suggestions else ""
            raise ValueError(f"We could not recognise {text!r} as a license.{hint}")
    return text


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
