"""Our policy against independent classifications it did not write (issue 12): ScanCode LicenseDB,
the OSADL matrix and the Blue Oak Council list. Nothing a reference calls copyleft or restricted may
be less strict in our policy unless policy.yaml says why, and the answer shows it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot import references
from bot.licenses import check, default_policy_path, load_policy

POLICY = load_policy(default_policy_path())
DOCS = Path(__file__).parents[1] / "docs" / "license-references.md"


@pytest.fixture(scope="module")
def rows():
    return references.compare(POLICY)


def test_every_reference_is_read_with_its_version_and_date():
    found = references.sources()
    assert set(found) == {"scancode", "osadl", "blueoak"}
    for source in found.values():
        assert source.version and source.date and source.license
    assert len(references.osadl_matrix()) >= 100
    assert len(references.blueoak_ratings()) >= 200
    assert references.blueoak_ratings()["WTFPL"] == "Lead"


def test_what_each_reference_says():
    said = {(label.source, label.says) for label in references.labels("GPL-3.0-only")}
    assert said == {("scancode", "Copyleft"), ("osadl", "copyleft")}
    said = {(label.source, label.says) for label in references.labels("MIT")}
    assert said == {("scancode", "Permissive"), ("osadl", "not copyleft"), ("blueoak", "Silver")}
    # ScanCode files the deprecated one-word id, OSADL the WITH form: both count for the WITH form.
    said = {label.source for label in references.labels("GPL-2.0-only WITH Classpath-exception-2.0")}
    assert said == {"scancode", "osadl"}


def test_nothing_is_less_strict_than_a_reference_unless_the_policy_says_why(rows):
    assert len(rows) > 700
    for row in rows:
        if row.less_strict:
            assert row.reference_note, f"{row.license}: less strict than {row.less_strict}, no reference_note"
            assert row.reference_note in check(row.license, POLICY).verdicts["distribute"].reason
    disagreements = [r for r in rows if r.disagrees]
    print(f"\n{len(disagreements)} of {len(rows)} licenses disagree with a reference:")
    for r in disagreements:
        print(f"  {r.license}: ours {r.category}/{r.distribute}; " + ", ".join(f"{k} {v}" for k, v in r.status.items()))


def test_the_cross_check_can_fail(tmp_path):
    data = yaml.safe_load(default_policy_path().read_text())
    data["licenses"]["GPL-3.0-only"] = {"category": "permissive"}
    allowed = {"verdict": "allowed", "reason": "x"}
    data["licenses"]["LGPL-2.1-only"] = {"category": "weak-copyleft", "distribute": allowed}
    data["licenses"]["BSD-2-Clause"] = {"category": "permissive", "reference_note": "Shown."}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    loose = load_policy(path)
    by_id = {r.license: r for r in references.compare(loose)}
    assert by_id["GPL-3.0-only"].less_strict == ["scancode", "osadl"]
    assert by_id["LGPL-2.1-only"].less_strict == ["scancode", "osadl"]
    assert by_id["WTFPL"].less_strict == []
    assert "Shown." in check("BSD-2-Clause", loose).verdicts["distribute"].reason


def test_docs_list_the_disagreements_as_generated():
    assert DOCS.read_text(encoding="utf-8") == references.markdown(POLICY), (
        "docs/license-references.md is out of date: python -m bot.references > docs/license-references.md"
    )


# The verdicts issue 12 names, after the fix: (contribute, distribute, saas, internal).
STRONG = ("allowed", "review", "conditions", "allowed")
WEAK = ("allowed", "conditions", "allowed", "allowed")
SNIPPET = ("allowed", "conditions", "conditions", "conditions")
NETWORK_REVIEW = ("allowed", "review", "review", "review")
NAMED = {
    "GPL-2.0-with-autoconf-exception": STRONG,
    "GPL-3.0-with-autoconf-exception": STRONG,
    "GPL-2.0-with-font-exception": STRONG,
    "GPL-2.0-only WITH Autoconf-exception-2.0": STRONG,
    "GPL-2.0-with-bison-exception": STRONG,
    "GPL-2.0-or-later WITH Bison-exception-2.2": STRONG,
    "GPL-2.0-with-classpath-exception": WEAK,
    "GPL-2.0-only WITH Classpath-exception-2.0": WEAK,
    "GPL-2.0-with-GCC-exception": WEAK,
    "QPL-1.0": STRONG,
    "CC-BY-SA-1.0": SNIPPET,
    "CC-BY-SA-2.5": SNIPPET,
    "CC-BY-SA-3.0": SNIPPET,
    "CC-BY-SA-4.0": SNIPPET,
    "WTFPL": ("allowed", "review", "review", "allowed"),
    "EUPL-1.1": NETWORK_REVIEW,
    "EUPL-1.2": NETWORK_REVIEW,
    "mpl 1.1": WEAK,
    "epl 1": WEAK,
    "lgpl 2.0": WEAK,
    "gpl 1": STRONG,
    "ofl": WEAK,
}


@pytest.mark.parametrize("text,expected", sorted(NAMED.items()))
def test_the_cases_issue_12_names(text, expected):
    report = check(text, POLICY)
    assert not report.unknown
    assert tuple(v.verdict for v in report.verdicts.values()) == expected


def test_exception_effects_are_explained_in_the_answer():
    autoconf = check("GPL-2.0-with-autoconf-exception", POLICY).verdicts["distribute"]
    assert "only frees the configure scripts" in autoconf.reason and autoconf.category == "strong-copyleft"
    classpath = check("GPL-2.0-only WITH Classpath-exception-2.0", POLICY).verdicts["distribute"]
    assert classpath.reason.startswith("With the Classpath exception")
    assert classpath.rule == (
        "policy.yaml categories.weak-copyleft.distribute, by exceptions.Classpath-exception-2.0 (linking)"
    )
    assert classpath.decided_by == "Classpath-exception-2.0" and classpath.category == "weak-copyleft"
