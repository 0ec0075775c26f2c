"""Exceptions that stick: an approved `exception` request lets named components be used as
its requester asked, until a date, and `deps check` honours it.

The request's `components` field names them, one a line: a package URL or a name, then
optionally a version range:

    pkg:npm/left-pad@1.3.0              that version only
    pkg:maven/org.acme/widget >=2, <3   versions 2.x
    widget 1.x                          by name (any ecosystem), versions 1.*
    Apache Log4j API 2.17.1             a name with spaces (SPDX names packages so), that version
    widget                              every version

A range is comma-separated conditions (>=, >, <=, <, ==, != and a version; a bare version is
exact; 1.x or 1.* is a prefix). Versions compare number by number, and 1.0.0-beta comes before
1.0.0: enough for the ranges people write for an exception, without one library per ecosystem.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from packageurl import PackageURL

from bot.deps.model import Component

DEFAULT_MONTHS = 12  # an exception without an end date lasts this long from its approval
_CONDITION = re.compile(r"^(>=|<=|==|!=|>|<|=)?\s*([^\s<>=!]+)$")
_ANY = {"", "*", "any", "all"}


@dataclass(frozen=True)
class Grant:
    """One component an approved exception covers."""

    ref: str  # OSPO-17
    component: str  # a purl without version, or a name
    versions: str  # a range; "" for every version
    use: str
    until: date  # the last day it holds

    def covers(self, component: Component) -> bool:
        return _same_component(self.component, component) and version_in(component.version, self.versions)


def parse_line(line: str) -> tuple[str, str]:
    """'pkg:npm/left-pad@1.3.0' -> ('pkg:npm/left-pad', '==1.3.0'); 'widget >=2, <3' -> ('widget', '>=2, <3');
    'Apache Log4j API 2.17' -> ('Apache Log4j API', '2.17'): names may have spaces, the range starts at the
    first word that begins with a digit, an operator or *. ValueError saying how to write it."""
    words = line.split()
    if not words:
        raise ValueError("Name the component: a package URL (pkg:npm/left-pad) or a name, then a version range.")
    if words[0].startswith("pkg:"):
        component, versions = words[0], " ".join(words[1:])
    else:
        start = next((i for i, w in enumerate(words) if i and w[0] in "<>=!*0123456789"), len(words))
        component, versions = " ".join(words[:start]), " ".join(words[start:])
    if component.startswith("pkg:"):
        try:
            purl = PackageURL.from_string(component)
        except ValueError as error:
            raise ValueError(f"{component!r} is not a valid package URL ({error}).") from None
        if purl.version and versions:
            raise ValueError(f"{line.strip()!r}: give the version in the package URL or as a range, not both.")
        if purl.version:
            versions = f"=={purl.version}"
        component = PackageURL(purl.type, purl.namespace, purl.name).to_string()
    for condition in _conditions(versions):
        if not _CONDITION.match(condition):
            raise ValueError(f"{versions!r} is not a version range; write e.g. '>=1.2, <2' or '1.x' or '*'.")
    return component, versions


def parse_components(text: str) -> list[tuple[str, str]]:
    """Every line of a `components` field, parsed; ValueError for the first line that is wrong."""
    return [parse_line(line) for line in text.splitlines() if line.strip()]


def grants(requests: Iterable) -> list[Grant]:
    """The components covered by approved `exception` requests (bot.approvals Request objects)."""
    found = []
    for request in requests:
        if request.type != "exception" or request.state != "approved" or not request.decided_at:
            continue
        text, use = request.fields.get("components") or "", request.fields.get("use") or ""
        until = _until(request.fields.get("until"), request.decided_at)
        for component, versions in parse_components(text):
            found.append(Grant(request.ref, component, versions, use, until))
    return found


def find(component: Component, use: str, grants: Iterable[Grant], today: date) -> tuple[Grant | None, Grant | None]:
    """(the live grant covering the component for `use`, else None; the latest expired one, else None)."""
    matching = [g for g in grants if g.use == use and g.covers(component)]
    live = [g for g in matching if g.until >= today]
    expired = [g for g in matching if g.until < today]
    return (
        max(live, key=lambda g: g.until) if live else None,
        max(expired, key=lambda g: g.until) if expired else None,
    )


def _until(value, decided_at: str) -> date:
    if value:
        return date.fromisoformat(str(value)[:10])
    decided = datetime.fromisoformat(decided_at).date()
    year, month = divmod(decided.month - 1 + DEFAULT_MONTHS, 12)
    return decided.replace(year=decided.year + year, month=month + 1, day=min(decided.day, 28))


def _same_component(wanted: str, component: Component) -> bool:
    if wanted.startswith("pkg:"):
        if not component.purl:
            return False
        return _purl_key(wanted) == _purl_key(component.purl)
    return wanted.lower() == component.name.lower()


def _purl_key(text: str) -> tuple[str, str, str] | None:
    try:
        purl = PackageURL.from_string(text)
    except ValueError:
        return None
    return purl.type.lower(), (purl.namespace or "").lower(), purl.name.lower()


def _conditions(versions: str) -> list[str]:
    return [] if versions.strip().lower() in _ANY else [c.strip() for c in versions.split(",") if c.strip()]


def version_in(version: str | None, versions: str) -> bool:
    """Is `version` in the range? A component without a version is covered only by 'every version'."""
    conditions = _conditions(versions)
    if not conditions:
        return True
    if not version:
        return False
    for condition in conditions:
        op, bound = _CONDITION.match(condition).groups()
        if bound.endswith((".x", ".*")) and op in (None, "=", "=="):
            if not (version + ".").startswith(bound[:-1]):
                return False
            continue
        a, b = version_key(version), version_key(bound)
        ok = {
            None: a == b, "=": a == b, "==": a == b, "!=": a != b,
            ">=": a >= b, ">": a > b, "<=": a <= b, "<": a < b,
        }[op]  # fmt: skip
        if not ok:
            return False
    return True


def version_key(version: str) -> tuple:
    """'1.10.0-beta.1' -> comparable: the release's numbers (1.0 == 1.0.0), then anything after them,
    which comes before the release itself (1.0.0-beta < 1.0.0)."""
    parts = re.findall(r"\d+|[A-Za-z]+", version)
    numbers = []
    while parts and parts[0].isdigit():
        numbers.append(int(parts.pop(0)))
    while numbers and numbers[-1] == 0:
        numbers.pop()
    tail = tuple((1, int(p), "") if p.isdigit() else (0, 0, p.lower()) for p in parts)
    return tuple(numbers), ((0, tail) if tail else (1, ()))
