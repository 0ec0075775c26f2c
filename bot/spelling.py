"""What people type -> SPDX: ids in any case or spacing, SPDX names, deprecated ids (a one-word id
that stands for a license WITH an exception becomes that expression), family names with a bare
version ("epl 1", "cc by sa 3"), exceptions named after `with`, ScanCode keys and policy.yaml's
aliases; and the licenses a sentence names. Verdicts are bot/licenses.py's business.
"""

from __future__ import annotations

import difflib
import functools
import re

from bot.policy import Policy
from bot.spdx import (
    CARRIES_RESTRICTION,
    DEPRECATED_WITH,
    PAGE_SUFFIX,
    RESTRICTION,
    SPECIAL_IDS,
    declared_key,
    is_spdx_exception,
    norm,
    tables,
)

# Families whose short name plus a bare version people type ("epl 1", "cc by sa 3", "gpl v2").
_FAMILIES = {
    "gpl", "lgpl", "agpl", "fdl", "gfdl", "mpl", "epl", "eupl", "cddl", "cpl", "osl", "afl", "apache",
    "artistic", "ofl", "lppl", "apsl", "cecill", "cc by", "cc by sa", "cc by nd", "cc by nc", "cc by nc sa",
    "cc by nc nd", "zpl", "npl", "rpl", "qpl", "ms pl", "ms rl",
}  # fmt: skip
_FAMILY_VERSION = re.compile(
    r"^(?:gnu )?(?P<family>[a-z][a-z ]*?)\s*v?(?P<version>\d+(?:\.\d+)*)(?P<later>\+| or later)?(?P<only> only)?$"
)
# A name of two words or more ending in a bare version ("eclipse public 2", "gnu general public v3"):
# one word and a version is as often a product ("python 2", "php 3") or ambiguous ("bsl 1").
_BARE_VERSION = re.compile(r"^\S+ \S.*(?<=[ v])\d+$")


def _spellings(key: str):
    """'epl 1' -> 'epl 1', 'epl 1 only', 'epl 1.0', 'epl 1.0 only' (a normalised key, then variants);
    'gnu gpl v3 only' -> ... 'gpl 3.0 only'; a name ending in a bare version also with '.0'
    ('eclipse public 2' -> 'eclipse public 2.0', as SPDX names it)."""
    yield key
    if _BARE_VERSION.search(key):
        yield key + ".0"
    # the tables write a name's version as SPDX does, "... v1" for one and "... 1.1" for another
    if (bare := re.sub(r"\bv\.?\s*(?=\d)", "", key)) != key:
        yield bare
    if m := re.fullmatch(r"(\S+ \S.*) (\d+)(?:\.0)?", bare):
        yield f"{m[1]} v{m[2]}"
    m = _FAMILY_VERSION.match(key)
    if not m or m["family"] not in _FAMILIES or (m["later"] and m["only"]):
        return
    family, version = m["family"], m["version"]
    suffixes = (" or later", "+") if m["later"] else (" only",) if m["only"] else ("", " only")
    for v in (version, f"{version}.0") if "." not in version else (version,):
        for suffix in suffixes:
            yield f"{family} {v}{suffix}"


def lookup(text: str, policy: Policy, declared: bool = True, ids_only: bool = False) -> str | None:
    """One license as typed -> SPDX id, a `WITH` expression for a deprecated id that stands for one,
    NONE/NOASSERTION, or None if unrecognised. declared: also as packages declare licenses (ORT's
    table); not for phrases in a sentence, where "the Python Software Foundation" is no license.
    ids_only: only SPDX ids and policy aliases (no names, ScanCode keys, ORT's table or squashed ids)."""
    t, low = tables(), text.strip().lower()
    own = own_ids(policy)
    found = own.get(low) or t.ids.get(low)
    if not found:
        for key in _spellings(norm(text)):
            if found := policy.aliases.get(key) or t.norm_ids.get(key) or (not ids_only and t.names.get(key)):
                break
    if not ids_only:
        found = found or t.scancode_keys.get(low) or (declared and t.declared.get(declared_key(text)))
        if not found and " " not in low:  # an id typed without its hyphens: "BSD2CLAUSE", "mpl2.0"
            found = _squashed_ids().get(low.replace("-", "").replace("_", ""))
    return DEPRECATED_WITH.get(found, found) if found else None


@functools.cache
def _squashed_ids() -> dict[str, str]:
    """SPDX ids without their hyphens -> the id, where only one id squashes to that."""
    found: dict[str, str | None] = {}
    for key, canonical in tables().norm_ids.items():
        squashed = key.replace(" ", "")
        found[squashed] = canonical if found.get(squashed, canonical) == canonical else None
    return {k: v for k, v in found.items() if v}


def own_ids(policy: Policy) -> dict[str, str]:
    """Lower-case ids the policy itself names (custom LicenseRef-..., NONE, NOASSERTION)."""
    if "own_ids" not in policy.cache:
        policy.cache["own_ids"] = {k.lower(): k for k in (*policy.licenses, *SPECIAL_IDS)}
    return policy.cache["own_ids"]


def _exception_for(text: str, base: str | None) -> str | None:
    """'autoconf exception' after GPL-2.0-only -> Autoconf-exception-2.0: the SPDX exception whose
    name starts with what was typed, of the base license's major version when there are several."""
    key = re.sub(r"\bexceptions$", "exception", norm(text))
    if not key:
        return None
    t = tables()
    if exact := next((e for e in t.exceptions if norm(e) == key), None):  # "LLVM-exceptions"
        return exact
    versioned = re.compile(rf"^{re.escape(key)}(?: exception)? (\d+)(?:\.\d+)*$")
    found = {e: m.group(1) for e in t.exceptions if (m := versioned.match(norm(e)))}
    if len(found) > 1 and base and (major := re.search(r"-(\d+)\.", base)):
        found = {e: v for e, v in found.items() if v == major.group(1)}
    return next(iter(found)) if len(found) == 1 else None


def _homebrew_list(op: str):
    """Homebrew's `any_of: ["MIT", "Apache-2.0"]` -> "MIT OR Apache-2.0" (a plain list of quoted ids)."""

    def joined(m: re.Match) -> str:
        items = re.findall(r"\s*([\"'])([^\"'\[\]{}]+)\1\s*(?:,|$)", m[1])
        if not items or "".join(f"{q}{i}{q}" for q, i in items) != re.sub(r"[\s,]+(?=[\"']|$)", "", m[1].strip()):
            return m[0]  # a nested `=> { with: ... }`, mixed quotes, anything else: left as typed, for the OSPO
        return op.join(f"({i})" if re.search(r"[^\w.+-]", i) else i for _, i in items)  # "MIT/Apache-2.0": one item

    return joined


_OPERATOR = re.compile(r"(\(|\)|\s+(?:and|or|with)\s+|\s*/\s*|\s*\|\s*)", re.IGNORECASE)
# What package metadata wraps a license in: a PyPI classifier's prefix ("License :: OSI Approved ::
# MIT License"), license-checker's mark on a license it guessed from the files ("MIT*"), CRAN's
# "+ file LICENSE" (the file holds the year and holder); and CRAN's "GPL (>= 2)" for "GPL 2 or later".
_WRAPPING = [
    (re.compile(r"^\s*license\s*::\s*(?:osi approved\s*::\s*)?", re.IGNORECASE), ""),
    (re.compile(r"(?<=\w)\*\s*$"), ""),
    # CRAN: only for its templates (MIT, BSD_2_clause, BSD_3_clause) does the file just name the holder
    (re.compile(r"^\s*(mit|bsd_[23]_clause)\s*\+\s*file\s+licen[cs]e\s*$", re.IGNORECASE), r"\1"),
    (re.compile(r"\s*\(\s*>=\s*(\d[\d.]*)\s*\)", re.IGNORECASE), r" \1 or later"),
    # What holds an SPDX expression by definition: a source file's tag (in its comment) and an OCI
    # image's label.
    (re.compile(r"^\s*(?:(?://|#|/\*|\*|--|;|%)\s*)?spdx-license-identifier\s*:\s*(.*?)\s*(?:\*/)?\s*$", re.I), r"\1"),
    (re.compile(r"^\s*(?:label\s+)?org\.opencontainers\.image\.licenses\s*=\s*([\"']?)(.*?)\1\s*$", re.I), r"\2"),
    # A line of package metadata pasted whole: `license = "MIT"` (Cargo, pyproject), `"license": "MIT",`
    # (package.json), `s.license = 'MIT'` (gemspec), `License: GPL-2+` (Debian, RPM), `<license>MIT</license>`
    # (nuspec), `{ text = "MIT" }`, `{ :type => 'MIT' }`; then a list of one (`["MIT"]`) and quotes.
    (
        re.compile(r"^\s*[\"']?(?:\w+\.)?licen[cs]es?(?:[_-]?expression)?[\"']?\s*(?::|=>?)\s*(.+?)\s*,?\s*$", re.I),
        r"\1",
    ),
    (re.compile(r"^\s*<(licen[cs]e|expression)\b[^>]*>\s*(.*?)\s*</\1>\s*$", re.I), r"\2"),
    (
        re.compile(
            r"^\s*\{\s*:?(?:type|text|name|expression)\s*(?::|=>?)\s*(.+?)\s*"
            r"(?:,\s*:?file\s*(?::|=>?)\s*([\"'])[\w./ -]*\2\s*)?\}\s*$",
            re.I,
        ),
        r"\1",
    ),
    # Homebrew's formula DSL: `license any_of: ["MIT", "Apache-2.0"]`, `all_of: [...]`,
    # `"GPL-2.0-only" => { with: "X" }`
    (re.compile(r"^\s*(?:license\s+)?any_of:\s*\[(.*)\]\s*$", re.I), _homebrew_list(" OR ")),
    (re.compile(r"^\s*(?:license\s+)?all_of:\s*\[(.*)\]\s*$", re.I), _homebrew_list(" AND ")),
    (
        re.compile(r"^\s*(?:license\s+)?([\"'])([^\"']+)\1\s*=>\s*\{\s*with:\s*([\"'])([^\"']+)\3\s*\}\s*$", re.I),
        r"\2 WITH \4",
    ),
    (re.compile(r"^\s*\[\s*([^\[\],]+?)\s*\]\s*$"), r"\1"),
    (re.compile(r"^\s*([\"'])([^\"']+)\1\s*$"), r"\2"),
]
# A sentence that says what a project is under, as a file header or a README says it: "Licensed under
# the Apache License, Version 2.0 (the "License");", "This library is released under the MIT license.",
# "Dual licensed under MIT and Apache 2.0" (a choice: read as "or"), "...either of A or B at your option".
_UNDER = re.compile(
    r"^\s*(?:(?:this|our)\s+(?:project|software|library|package|code|program|module|crate|repository|repo|"
    r"plugin|gem|font|tool|app|application)\s+is\s+)?(?P<dual>dual[- ]?)?"
    r"(?:licen[cs]ed|released|distributed|available|published|provided)(?:\s+under\s+|\s*:\s*)(?:either\s+of\s+)?"
    r"(?:the\s+)?(?:terms\s+of\s+(?:either\s+)?(?:the\s+)?)?(?P<what>.+?)"
    r"(?:\s*\(the\s+[\"“]?licen[cs]e[\"”]?\))?\s*[.;]?\s*$",  # "at your option": read as in any text
    re.IGNORECASE,
)
# "Dual licensed under MIT and Apache 2.0": two licenses and a plain "and", nothing else, is a choice.
_DUAL_PAIR = re.compile(r"(?P<first>.+?)\s+and\s+(?P<second>.+)")  # and no other operator (_OPERATOR)
# "dual MIT / Apache 2.0", "Dual: MIT and Apache-2.0": as "dual licensed under"
_DUAL = re.compile(r"^\s*(?P<dual>dual)(?:\s*:\s*|\s+)(?P<what>.+?)\s*[.;]?\s*$", re.IGNORECASE)
# The FSF's header, whole and alone: "[This program is free software; you can redistribute it and/or
# modify it] under the terms of the GNU General Public License as published by the Free Software
# Foundation; either version 2 of the License, or (at your option) any later version." Anything before
# or after it (another license, a restriction, "previously") leaves the text to the OSPO.
_FSF_HEADER = re.compile(
    r"\s*(?:this\s+(?:program|library|file|software|code|package)\s+is\s+free\s+software[;:,]?\s+you\s+can\s+"
    r"redistribute\s+it\s+and/or\s+modify\s+it\s+)?under\s+the\s+terms\s+of\s+the\s+GNU\s+"
    r"(?P<name>(?:Lesser\s+|Library\s+|Affero\s+)?General\s+Public\s+License)\s+as\s+published\s+by\s+the\s+"
    r"Free\s+Software\s+Foundation[;,]?\s*(?:either\s+)?version\s+(?P<version>\d+(?:\.\d+)?)(?:\s+of\s+the\s+License)?"
    r"(?P<later>,?\s*or\s*\(?at\s+your\s+option\)?\s*any\s+later\s+version)?\s*[.;]?\s*",
    re.IGNORECASE,
)
# Numbers spelled out: "GNU GPL version three only", "Apache License v two point oh".
_NUMBER_WORDS = {"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5"}
_SPELLED_NUMBER = re.compile(
    r"\b(zero|one|two|three|four|five)(?:\s+point\s+(oh|o|zero|one|two|three|four|five))?\b", re.IGNORECASE
)


# License pages whose address ends in the license's short name (opensource.org/licenses/MIT,
# www.gnu.org/licenses/gpl-3.0.html, www.mozilla.org/MPL/2.0/, licenses.nuget.org/Apache-2.0).
_LICENSE_HOSTS = re.compile(
    r"^https?://(?:www\.)?(?:opensource\.org|spdx\.org|gnu\.org|mozilla\.org|apache\.org|eclipse\.org|"
    r"licenses\.nuget\.org|choosealicense\.com|(?P<cc>creativecommons\.org))/(?P<path>[^?#\s]*)(?:[?#]\S*)?\s*$",
    re.IGNORECASE,
)
# CPAN::Meta::Spec's license strings that no other rule reads ("perl_5": the terms of Perl itself).
CPAN = {"perl_5": "Artistic-1.0-Perl OR GPL-1.0-or-later", "artistic_1": "Artistic-1.0", "artistic_2": "Artistic-2.0"}


def unwrap(text: str) -> str:
    for pattern, replacement in _WRAPPING:
        text = pattern.sub(replacement, text)
    return text


def _from_address(text: str, policy: Policy) -> str | None:
    """A license page's address -> its license, read from the end of the path."""
    m = _LICENSE_HOSTS.match(text.strip())
    if not m:
        return None
    path = PAGE_SUFFIX.sub("", m["path"].strip("/"))
    parts = [p for p in path.split("/") if p and p.lower() not in ("licenses", "license", "old-licenses", "legal")]
    if m["cc"]:  # licenses/by-sa/4.0 -> CC-BY-SA-4.0, publicdomain/zero/1.0
        parts = ["cc0" if p == "zero" else "cc-" + p if p[0].isalpha() and p != "publicdomain" else p for p in parts]
        parts = [p for p in parts if p != "publicdomain"]
    for size in (1, 2, 3):  # the end: "MIT", then "MPL 2.0", then "cc-by sa 4.0"...
        if len(parts) >= size and (found := lookup(" ".join(parts[-size:]), policy)):
            return found
    # or the start, before a jurisdiction or a page: by/3.0/de, by-sa/4.0/legalcode
    return lookup(" ".join(parts[:2]), policy) if len(parts) > 2 else None


def _named_with_id(text: str, policy: Policy) -> str | None:
    """'Microsoft Public License (Ms-PL)', 'GNU General Public License v2 (GPLv2)' (a PyPI
    classifier's form): the license, when the name and the id in parentheses both name it. Anything
    else in parentheses may restrict it ("Apache 2.0 (with Commons Clause)", "MIT (non-commercial)"),
    and an expression ("A AND (B OR C)") is read part by part."""
    m = re.fullmatch(r"\s*(?P<name>[^()]+?)\s*\((?P<short>[^()]+)\)\s*", text)
    if not m or _OPERATOR.search(f" {m['name']} ") or _OPERATOR.search(f" {m['short']} "):
        return None
    name, short = lookup(m["name"], policy), lookup(m["short"], policy)
    return name if name and name == short else None


# Gentoo's LICENSE syntax: "|| ( A B )" is A OR B; names side by side, at the top or in a plain group, all apply.
_GENTOO_CHOICE = re.compile(r"\|\|\s*\(")
_GENTOO_TOKEN = re.compile(r"\|\||\(|\)|[^\s()]+")


def _from_gentoo(text: str, policy: Policy) -> str:
    tokens = _GENTOO_TOKEN.findall(text)

    def group(i: int, op: str) -> tuple[str, int]:
        parts = []
        while i < len(tokens) and tokens[i] != ")":
            token = tokens[i]
            if token == "||" and tokens[i + 1 : i + 2] == ["("]:
                part, i = group(i + 2, "OR")
            elif token == "(":
                part, i = group(i + 1, "AND")
            elif token.endswith("?"):  # a USE flag: the licenses under it may apply, so they count
                i += 1
                continue
            else:
                part, i = lookup(token, policy) or token, i + 1
            parts.append(part if " " not in part or part.startswith("(") else f"({part})")
        joined = f" {op} ".join(parts)
        return (f"({joined})" if len(parts) > 1 else joined), i + 1

    return group(0, "AND")[0]


def _grouped(expression: str) -> str:
    """An expression with AND or OR in brackets, so that it stays one operand of another."""
    return f"({expression})" if re.search(r" (?:AND|OR) ", expression) else expression


def _from_list(text: str, policy: Policy) -> str | None:
    """'MIT, Apache-2.0', 'GPL-2.0; LGPL-2.1' (package metadata's lists): only when every item is one
    known license or expression. A list is read as all of its licenses applying, as ORT reads several
    declared licenses: if it was meant as a choice, that reading is stricter, never kinder. Only a
    serial "or" ("MIT, BSD-2-Clause, or Apache-2.0") makes the whole list a choice; "AGPL-3.0, MIT or
    Apache-2.0" is AGPL-3.0 AND (MIT OR Apache-2.0). Brackets and exceptions: left to the OSPO."""
    items = re.split(r"\s*[,;]\s*", text.strip())
    if len(items) < 2 or "(" in text or ")" in text:
        return None
    op = "AND"
    if serial := re.fullmatch(r"(?P<op>and|or)\s+(?P<item>.+)", items[-1], re.IGNORECASE):
        op, items[-1] = serial["op"].upper(), serial["item"]
    found = [lookup(item, policy) or _pair(item, policy) for item in items]
    if not all(found) or any(is_spdx_exception(f) for f in found):
        return None
    other = " OR " if op == "AND" else " AND "  # an item with the other operator needs brackets
    return f" {op} ".join(f"({f})" if other in f else f for f in found)


def _with_exception(m: re.Match, policy: Policy) -> str:
    """Debian's "Apache-2.0-with-LLVM-exceptions": "with" and an exception, only when it is one."""
    found = _exception_for(m[1], None) or lookup(m[1], policy)
    return f" with {m[1]}" if found and is_spdx_exception(found) else m[0]


def _side_by_side(text: str, policy: Policy) -> str | None:
    """'BSD-2 MIT', 'GPL-2+ LGPL-2.1+' (Gentoo's and some metadata's names side by side, no operator):
    all apply, as in Gentoo. Only when every word is a license by itself; if a choice was meant, "all
    apply" is the stricter reading, never kinder."""
    words = text.split()
    if len(words) < 2 or _OPERATOR.search(f" {text} ") or not all(found := [_license_word(w, policy) for w in words]):
        return None
    if any(is_spdx_exception(f) or f in SPECIAL_IDS for f in found):
        return None
    return " AND ".join(_grouped(f) for f in found)


def _license_word(word: str, policy: Policy) -> str | None:
    """A word that is a license id or a policy alias, written as ids are (with a digit, or in capitals:
    "BSD-2", "MIT", "GPL-2+"): "Doc", "curl" or "Attribution" are ids too, and words."""
    written_as_id = re.search(r"\d", word) or re.fullmatch(r"[A-Z]{2,}", word)
    return lookup(word, policy, ids_only=True) if written_as_id else None


def _pair(text: str, policy: Policy) -> str | None:
    """'BSD-2-Clause or Apache-2.0' -> 'BSD-2-Clause OR Apache-2.0': two known licenses joined by a word."""
    parts = re.split(r"\s+(and|or)\s+", text.strip(), flags=re.IGNORECASE)
    if len(parts) != 3 or not (first := lookup(parts[0], policy)) or not (second := lookup(parts[2], policy)):
        return None
    return f"{_grouped(first)} {parts[1].upper()} {_grouped(second)}"


def to_spdx(text: str, policy: Policy) -> str:
    """Map each operand of an expression through lookup; unknown operands stay as typed. Numbers
    spelled out are read as digits when that is what makes every operand known."""
    expression, known = _to_spdx(text, policy)
    if not known and _SPELLED_NUMBER.search(text):
        again, known = _to_spdx(_digits(text), policy)
        if known:
            expression = again
    if RESTRICTION.search(text) and not CARRIES_RESTRICTION.search(expression) and not lookup(text, policy):
        return text.strip()  # "non-commercial", "Commons Clause" said beside a license, not in its name: for the OSPO
    return expression


def _digits(text: str) -> str:
    """'version three' -> 'version 3', 'v two point oh' -> 'v2.0'."""

    def number(m: re.Match) -> str:
        return _NUMBER_WORDS[m[1].lower()] + (f".{_NUMBER_WORDS[m[2].lower()]}" if m[2] else "")

    return re.sub(r"\bv\s+(?=\d)", "v", _SPELLED_NUMBER.sub(number, text), flags=re.IGNORECASE)


def _to_spdx(text: str, policy: Policy) -> tuple[str, bool]:
    """(the expression, whether every operand of it is known)."""
    if whole := lookup(text, policy):
        return whole, True
    if _GENTOO_CHOICE.search(text):
        return _from_gentoo(text, policy), False  # checked by its reader
    text = unwrap(text)
    if whole := lookup(text, policy) or _from_address(text, policy) or _named_with_id(text, policy):
        return whole, True
    if whole := CPAN.get(text.strip().lower()) or _from_fsf_header(text, policy):
        return whole, True
    if under := _UNDER.match(text) or _DUAL.match(text):
        what = under["what"]
        if "(" not in what and re.search(r"\band\b", what, re.I) and re.search(r"\bor\b|/|\|", what, re.I):
            return text.strip(), False  # "A or B and C" in a sentence: which binds first? Left to the OSPO
        if under["dual"] and ("," in what or ";" in what or RESTRICTION.search(what)):
            return text.strip(), False  # "Dual: A, B and C", "dual A and Commons Clause": left to the OSPO
        pair = _DUAL_PAIR.fullmatch(what)
        if under["dual"] and pair and not any(_OPERATOR.search(f" {part} ") for part in pair.groups()):
            what = f"{pair['first']} or {pair['second']}"  # dual licensed: a choice
        return _to_spdx(what, policy)
    # "apache 2 or mit, your choice", "gplv2 or gplv3 at your option": a choice, as "or" says
    text = re.sub(r",?\s*\(?\s*(?:at\s+)?your\s+(?:option|choice)\s*\)?\s*[.;]?\s*$", "", text, flags=re.IGNORECASE)
    # "GPL 2 or later", "GPL v3 or any later version", "gnu gpl version 2 or (at your option) any later version"
    text = re.sub(
        r",?\s+or[\s-]+(?:\(?\s*at\s+your\s+option\s*\)?\s+)?(?:any[\s-]+)?later(?:\s+version)?\b",
        "+",
        text,
        flags=re.IGNORECASE,
    )
    text = re.sub(r"(?<=\w)-with-([\w.+-]+)", lambda m: _with_exception(m, policy), text, flags=re.IGNORECASE)
    text = re.sub(r"\s+(?:pls|plz|please|thx|thanks)[.!]*\s*$", "", text, flags=re.IGNORECASE)  # chat's courtesy
    if whole := lookup(text, policy) or _from_list(text, policy) or _side_by_side(text, policy):
        return whole, True
    if "(" not in text and re.search(r"\s(?:and|or)\s", text, re.I) and re.search(r"/|\|", text):
        return text.strip(), False  # "AGPL-3.0 and MIT/Apache-2.0": which binds first? Left to the OSPO
    out: list[str] = []
    previous = None
    known = True
    for piece in _OPERATOR.split(text):
        op = piece.strip().upper()
        if op in ("(", ")"):
            out.append(op)
        elif op in ("AND", "OR", "WITH", "/", "|"):
            out.append(" OR " if op in ("/", "|") else f" {op} ")
        elif piece.strip():
            after_with = bool(out) and out[-1] == " WITH "
            found = lookup(piece, policy) or (_exception_for(piece, previous) if after_with else None)
            out.append(_grouped(found) if found else piece.strip())
            previous = found
            known = known and bool(found)
    return "".join(out), known


def _from_fsf_header(text: str, policy: Policy) -> str | None:
    """The FSF's header for the GPL, LGPL and AGPL: the version, and whether any later one may be chosen."""
    if not (m := _FSF_HEADER.fullmatch(text)):
        return None
    name, version = " ".join(m["name"].split()), m["version"] if "." in m["version"] else f"{m['version']}.0"
    return lookup(f"GNU {name} v{version}{' or later' if m['later'] else ' only'}", policy)


def suggest(text: str, policy: Policy, limit: int = 5) -> list[str]:
    t = tables()
    candidates = {**t.names, **t.ids, **policy.aliases}
    text = text[:100]
    matches = [
        m
        for q in dict.fromkeys((text.strip().lower(), norm(text)))
        if q
        for m in difflib.get_close_matches(q, candidates, 10, 0.6)
    ]
    return list(dict.fromkeys(candidates[m] for m in matches))[:limit]


# ------------------------------------------------------------ licenses named in a sentence

WORD = re.compile(r"[a-z0-9][a-z0-9.+-]*[a-z0-9+]|[a-z0-9]", re.IGNORECASE)
NO_LICENSE = re.compile(r"\b(no|without a|without any|missing) licen[cs]e\b|\bunlicensed\b", re.IGNORECASE)
# One word names a license in a question only if it is a license nickname or carries a version
# ("gplv3", "bsd-3", "mit" as people type it in chat); "python", "json", "openssl" or "apache" alone
# usually mean something else.
_LICENSEWORDS = {
    "gpl", "lgpl", "agpl", "sspl", "busl", "bsl", "mpl", "epl", "eupl", "cddl", "cc0", "unlicense", "wtfpl",
    "bsd", "isc", "0bsd", "ofl", "osl", "mit",
}  # fmt: skip
# Names that are also English idioms ("take some artistic license"): in a sentence, only with a version.
_IDIOMS = {"artistic"}


def mentions(text: str, policy: Policy) -> list[tuple[str, str]]:
    """(phrase, SPDX id or expression) for each license named in text, longest phrase first at each
    place, in order of appearance. "MIT" counts in capitals only, as the word "MIT".
    Kept for the last questions: answering one looks for its licenses three times (verdict,
    compatibility, retrieval's license category)."""
    seen = policy.cache.setdefault("mentions", {})
    if text not in seen:
        if len(seen) >= 1024:
            seen.clear()
        seen[text] = list(_mentions(text, policy))
    return seen[text]


def _mentions(text: str, policy: Policy):
    words = WORD.findall(text)
    start = 0
    while start < len(words):
        for size in (4, 3, 2, 1):
            if size > len(words) - start:
                continue
            phrase = " ".join(words[start : start + size])
            if phrase == "MIT":
                yield phrase, "MIT"
                start += size
                break
            key = norm(phrase)
            if key in _IDIOMS:
                continue
            named = re.search(r"licen[cs]e", phrase, re.IGNORECASE)
            if " " not in key and key not in _LICENSEWORDS and not named and not re.search(r"[\d-]", key):
                continue
            spdx = lookup(phrase, policy, declared=False)
            if spdx and spdx not in SPECIAL_IDS:
                end = start + size
                if with_ := _with_after(words, end, spdx, policy):  # "Apache 2.0 with Commons Clause": one license
                    phrase, spdx, end = f"{phrase} with {with_[0]}", with_[1], with_[2]
                yield phrase, spdx
                start = end
                break
        else:
            start += 1


def _with_after(words: list[str], at: int, spdx: str, policy: Policy) -> tuple[str, str, int] | None:
    """(the exception's words, "L WITH E", where they end) when a license named in a sentence is followed
    by "with" and an exception (SPDX's, or one policy.yaml lists): read apart, "Apache 2.0 with Commons
    Clause" would get Apache's verdicts. "GPL with MIT" stays two licenses. Up to four words, "the" skipped."""
    if at >= len(words) or words[at].lower() != "with" or " " in spdx:
        return None
    first = at + 1 + (at + 1 < len(words) and words[at + 1].lower() == "the")
    for size in (4, 3, 2, 1):
        if first + size > len(words):
            continue
        phrase = " ".join(words[first : first + size])
        exception = _exception_for(phrase, spdx) or lookup(phrase, policy, declared=False)
        if exception and (is_spdx_exception(exception) or exception in policy.exceptions):
            return phrase, f"{spdx} WITH {exception}", first + size
    return None
