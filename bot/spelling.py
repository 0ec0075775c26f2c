"""What people type -> SPDX: ids in any case or spacing, SPDX names, deprecated ids (a one-word id
that stands for a license WITH an exception becomes that expression), family names with a bare
version ("epl 1", "cc by sa 3"), exceptions named after `with`, ScanCode keys and policy.yaml's
aliases; and the licenses a sentence names. Verdicts are bot/licenses.py's business.
"""

from __future__ import annotations

import difflib
import re

from bot.policy import Policy
from bot.spdx import DEPRECATED_WITH, SPECIAL_IDS, norm, tables

# Families whose short name plus a bare version people type ("epl 1", "cc by sa 3", "gpl v2").
_FAMILIES = {
    "gpl", "lgpl", "agpl", "fdl", "gfdl", "mpl", "epl", "eupl", "cddl", "cpl", "osl", "afl", "apache",
    "artistic", "ofl", "lppl", "apsl", "cecill", "cc by", "cc by sa", "cc by nd", "cc by nc", "cc by nc sa",
    "cc by nc nd", "zpl", "npl", "rpl", "qpl", "ms pl", "ms rl",
}  # fmt: skip
_FAMILY_VERSION = re.compile(r"^(?P<family>[a-z][a-z ]*?)\s*v?(?P<version>\d+(?:\.\d+)*)(?P<later>\+| or later)?$")


def _spellings(key: str):
    """'epl 1' -> 'epl 1', 'epl 1 only', 'epl 1.0', 'epl 1.0 only' (a normalised key, then variants)."""
    yield key
    m = _FAMILY_VERSION.match(key)
    if not m or m["family"] not in _FAMILIES:
        return
    family, version = m["family"], m["version"]
    suffixes = (" or later", "+") if m["later"] else ("", " only")
    for v in (version, f"{version}.0") if "." not in version else (version,):
        for suffix in suffixes:
            yield f"{family} {v}{suffix}"


def lookup(text: str, policy: Policy) -> str | None:
    """One license as typed -> SPDX id, a `WITH` expression for a deprecated id that stands for one,
    NONE/NOASSERTION, or None if unrecognised."""
    t, low = tables(), text.strip().lower()
    own = own_ids(policy)
    found = own.get(low) or t.ids.get(low)
    if not found:
        for key in _spellings(norm(text)):
            if found := policy.aliases.get(key) or t.norm_ids.get(key) or t.names.get(key):
                break
    found = found or t.scancode_keys.get(low)
    return DEPRECATED_WITH.get(found, found) if found else None


def own_ids(policy: Policy) -> dict[str, str]:
    """Lower-case ids the policy itself names (custom LicenseRef-..., NONE, NOASSERTION)."""
    if "own_ids" not in policy.cache:
        policy.cache["own_ids"] = {k.lower(): k for k in (*policy.licenses, *SPECIAL_IDS)}
    return policy.cache["own_ids"]


def _exception_for(text: str, base: str | None) -> str | None:
    """'autoconf exception' after GPL-2.0-only -> Autoconf-exception-2.0: the SPDX exception whose
    name starts with what was typed, of the base license's major version when there are several."""
    key = norm(text)
    if not key:
        return None
    t = tables()
    versioned = re.compile(rf"^{re.escape(key)}(?: exception)? (\d+)(?:\.\d+)*$")
    found = {e: m.group(1) for e in t.exceptions if (m := versioned.match(norm(e)))}
    if len(found) > 1 and base and (major := re.search(r"-(\d+)\.", base)):
        found = {e: v for e, v in found.items() if v == major.group(1)}
    return next(iter(found)) if len(found) == 1 else None


_OPERATOR = re.compile(r"(\(|\)|\s+(?:and|or|with)\s+|\s*/\s*)", re.IGNORECASE)


def to_spdx(text: str, policy: Policy) -> str:
    """Map each operand of an expression through _lookup; unknown operands stay as typed."""
    if whole := lookup(text, policy):
        return whole
    text = re.sub(r"\s+or[\s-]+later\b", "+", text, flags=re.IGNORECASE)  # "GPL 2 or later"
    if whole := lookup(text, policy):
        return whole
    out: list[str] = []
    previous = None
    for piece in _OPERATOR.split(text):
        op = piece.strip().upper()
        if op in ("(", ")"):
            out.append(op)
        elif op in ("AND", "OR", "WITH", "/"):
            out.append(" OR " if op == "/" else f" {op} ")
        elif piece.strip():
            after_with = bool(out) and out[-1] == " WITH "
            found = lookup(piece, policy) or (_exception_for(piece, previous) if after_with else None)
            out.append(found or piece.strip())
            previous = found
    return "".join(out)


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
# ("gplv3", "bsd-3"); "python", "json", "openssl" or "apache" alone usually mean something else.
_LICENSEWORDS = {
    "gpl", "lgpl", "agpl", "sspl", "busl", "bsl", "mpl", "epl", "eupl", "cddl", "cc0", "unlicense", "wtfpl",
    "bsd", "isc", "0bsd", "ofl", "osl",
}  # fmt: skip


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
            named = re.search(r"licen[cs]e", phrase, re.IGNORECASE)
            if " " not in key and key not in _LICENSEWORDS and not named and not re.search(r"[\d-]", key):
                continue
            spdx = lookup(phrase, policy)
            if spdx and spdx not in SPECIAL_IDS:
                yield phrase, spdx
                start += size
                break
        else:
            start += 1
