"""Dependency intake: SBOMs and lockfiles -> components -> verdicts against the license policy.

    report = check_file(Path("bom.json"), use="saas")
    report.counts              # {"allowed": 812, "conditions": 40, "review": 3, "forbidden": 1, "unknown": 7}
    report.passes              # False: something needs review, is forbidden or has no/unknown license
    [r.component.name for r in report.attention]

Formats are told from content (bot/deps/formats.py): CycloneDX JSON/XML 1.2-1.6 (cyclonedx.py),
SPDX 2.2/2.3 JSON and tag-value (spdx.py), npm package-lock v2/v3 (npm.py). Licenses are judged by
bot.licenses, the engine behind `ospo-bot license`; approved exceptions by bot/deps/exceptions.py.
Nothing here knows Slack or the command line. The readers' libraries load only when a file is read.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bot import licenses
from bot.deps.check import ATTENTION_ORDER, PASSING, VERDICTS, DepsReport, Result, check_component, check_document
from bot.deps.exceptions import Grant, grants, parse_components
from bot.deps.model import (
    DEFAULT_MAX_BYTES,
    WHAT_WE_READ,
    Component,
    DepsError,
    Document,
    NotRecognised,
    Progress,
    TooLarge,
    Unreadable,
)


def check_bytes(
    data: bytes,
    name: str,
    use: str = "distribute",
    policy: licenses.Policy | None = None,
    grants: list[Grant] | tuple = (),
    progress: Progress | None = None,
    today: date | None = None,
) -> DepsReport:
    """Check an SBOM or lockfile's bytes (a Slack download); DepsError saying what is wrong."""
    from bot.deps.formats import parse  # the readers' libraries are slow to import: only when a file is read

    return check_document(parse(data, name, progress), name, use, policy, grants, today)


def check_file(
    path: Path,
    use: str = "distribute",
    policy: licenses.Policy | None = None,
    grants: list[Grant] | tuple = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Progress | None = None,
    today: date | None = None,
) -> DepsReport:
    """Check the SBOM or lockfile at `path`, refusing files over max_bytes without reading past it."""
    from bot.deps.formats import read_limited

    return check_bytes(read_limited(path, max_bytes), str(path), use, policy, grants, progress, today)


__all__ = [
    "ATTENTION_ORDER",
    "DEFAULT_MAX_BYTES",
    "PASSING",
    "VERDICTS",
    "WHAT_WE_READ",
    "Component",
    "DepsError",
    "DepsReport",
    "Document",
    "Grant",
    "NotRecognised",
    "Progress",
    "Result",
    "TooLarge",
    "Unreadable",
    "check_bytes",
    "check_component",
    "check_document",
    "check_file",
    "grants",
    "parse_components",
]
