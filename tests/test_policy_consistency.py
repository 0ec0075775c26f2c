"""The license handbook pages must agree with knowledge/policy.yaml.

The category pages carry machine-checkable summary lines such as

    **In short (weak copyleft):** distributed products: allowed with conditions; SaaS: allowed; ...

and this module checks them, the example SPDX ids, the CLA list, SLAs and the page format.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import yaml

from bot.licenses import default_policy_path, load_policy

KNOWLEDGE = default_policy_path().parent
LICENSE_PAGES = sorted([*KNOWLEDGE.glob("using-open-source/*.md"), *KNOWLEDGE.glob("licensing/*.md")])
OVERVIEW = "using-open-source/license-categories.md"

# Which page explains which category in depth (the overview page covers all of them).
CATEGORY_PAGES = {
    "permissive": "using-open-source/permissive-licenses.md",
    "public-domain": "using-open-source/permissive-licenses.md",
    "weak-copyleft": "using-open-source/copyleft-licenses.md",
    "strong-copyleft": "using-open-source/copyleft-licenses.md",
    "network-copyleft": "using-open-source/network-copyleft-and-saas.md",
    "source-available": "using-open-source/source-available-licenses.md",
    "commercial": "using-open-source/no-license-or-unknown.md",
    "unknown": "using-open-source/no-license-or-unknown.md",
}
USE_PHRASES = {
    "distributed products": "distribute",
    "saas": "saas",
    "internal tools": "internal",
    "contributing": "contribute",
}
IN_SHORT = re.compile(r"^\*\*In short \(([^)]+)\):\*\*\s*(.+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def policy():
    return load_policy(default_policy_path())


def read(rel: str) -> str:
    return (KNOWLEDGE / rel).read_text(encoding="utf-8")


def split_page(text: str) -> tuple[dict, str]:
    m = re.match(r"---\n(.*?)\n---\n(.*)", text, re.DOTALL)
    assert m, "missing YAML front matter"
    body = re.sub(r"<!--.*?-->\s*", "", m.group(2), flags=re.DOTALL)  # "asked as" blocks: search hints, not text
    return yaml.safe_load(m.group(1)), body


def in_short_lines(text: str) -> list[tuple[str, dict[str, str]]]:
    """[(subject, {use: label})] for every "In short" line in a page. One line may summarise several
    licenses with the same verdicts: "In short (EUPL-1.2, EUPL-1.1, EUPL-1.0)" gives three subjects."""
    found = []
    for subjects, rest in IN_SHORT.findall(text):
        verdicts = {}
        for part in rest.rstrip(".").split(";"):
            phrase, _, label = part.partition(":")
            verdicts[USE_PHRASES[phrase.strip().lower()]] = label.strip()
        found += [(subject.strip(), verdicts) for subject in subjects.split(",")]
    return found


def expected_labels(policy, subject: str) -> dict[str, str]:
    key = subject.strip().lower().replace(" ", "-")
    if key in policy.categories:
        rules = policy.categories[key].rules
        return {use: policy.verdict_labels[r.verdict] for use, r in rules.items()}
    lic = policy.licenses.get(subject.strip())
    assert lic, f"'In short ({subject})' names neither a category nor a license in policy.yaml"
    return {use: policy.verdict_labels[policy.rule(lic.spdx_id, lic.category, use).verdict] for use in policy.uses}


def test_license_pages_exist():
    names = {p.relative_to(KNOWLEDGE).as_posix() for p in LICENSE_PAGES}
    assert set(CATEGORY_PAGES.values()) | {OVERVIEW} <= names
    assert len(LICENSE_PAGES) >= 13


@pytest.mark.parametrize("page", LICENSE_PAGES, ids=lambda p: p.name)
def test_in_short_lines_match_policy(policy, page):
    for subject, verdicts in in_short_lines(page.read_text(encoding="utf-8")):
        assert verdicts == expected_labels(policy, subject), f"{page.name}: In short ({subject})"


def test_overview_summarises_every_category(policy):
    subjects = {s.lower().replace(" ", "-") for s, _ in in_short_lines(read(OVERVIEW))}
    assert set(policy.categories) <= subjects


@pytest.mark.parametrize("category", sorted(CATEGORY_PAGES))
def test_category_page_summarises_and_names_examples(policy, category):
    text = read(CATEGORY_PAGES[category])
    subjects = {s.lower().replace(" ", "-") for s, _ in in_short_lines(text)}
    assert category in subjects, f"{CATEGORY_PAGES[category]} lacks 'In short ({category})'"
    for example in policy.categories[category].examples:
        assert re.search(rf"(?<![\w-]){re.escape(example)}(?![\w-])", text), (
            f"{CATEGORY_PAGES[category]} does not mention {example}"
        )


def test_license_overrides_with_own_verdicts_are_summarised(policy):
    text = "\n".join(p.read_text(encoding="utf-8") for p in LICENSE_PAGES)
    subjects = {s for s, _ in in_short_lines(text)}
    for spdx_id, lic in policy.licenses.items():
        category = policy.categories[lic.category]
        differs = any(r.verdict != category.rules[u].verdict for u, r in lic.rules.items())
        if differs and not spdx_id.startswith("CC-BY-SA-"):  # the snippet page explains those in prose
            assert spdx_id in subjects, f"no 'In short ({spdx_id})' line for a license override"


def test_snippet_page_matches_cc_by_sa_override(policy):
    text = read("using-open-source/code-snippets-from-qa-sites.md")
    assert "CC-BY-SA-4.0" in text and "15 lines" in text
    lic = policy.licenses["CC-BY-SA-4.0"]
    assert {lic.rules[u].verdict for u in ("distribute", "saas", "internal")} == {"conditions"}
    assert "allowed with conditions for distributed products, SaaS and internal tools" in text
    # Older posts are CC-BY-SA-3.0 and 2.5: every version gets the same snippet rule (issue 12).
    assert "CC-BY-SA-3.0" in text and "every CC-BY-SA version" in text
    family = [i for i in policy.licenses if i.startswith("CC-BY-SA-")]
    assert {"CC-BY-SA-1.0", "CC-BY-SA-2.5", "CC-BY-SA-3.0"} <= set(family)
    assert all(policy.licenses[i].rules == lic.rules for i in family)


@pytest.mark.parametrize("page", LICENSE_PAGES, ids=lambda p: p.name)
def test_page_format(page):
    front, body = split_page(page.read_text(encoding="utf-8"))
    assert list(front) == ["title", "tags", "owner", "updated"]
    assert front["owner"] in {"OSPO", "OSPO and Legal", "OSPO and Security"}
    assert dt.date(2026, 6, 1) <= front["updated"] <= dt.date.today()
    assert page.stem == re.sub(r"[^a-z0-9-]", "", page.stem) and page.suffix == ".md"
    assert body.lstrip().startswith(f"# {front['title']}\n")
    assert 350 <= len(body.split()) <= 900, f"{page.name}: {len(body.split())} words"
    sections = re.split(r"^## ", body, flags=re.MULTILINE)
    summary = sections[0].strip().split("\n", 1)[1].strip()
    assert 1 <= len(re.findall(r"[.!?](?:\s|$)", summary)) <= 3, f"{page.name}: summary"
    assert len(sections) >= 3
    for section in sections[1:]:
        heading, _, text = section.partition("\n")
        assert 40 <= len(text.split()) <= 200, f"{page.name}: '{heading}' {len(text.split())} words"
    assert "<" + "/" not in body and "<br" not in body  # no HTML


def test_cross_references_name_existing_pages():
    titles = {split_page(p.read_text(encoding="utf-8"))[0]["title"] for p in KNOWLEDGE.glob("*/*.md")}
    for page in LICENSE_PAGES:
        for ref in re.findall(r"(?<![*\w])\*([A-Z][^*\n]+)\*(?!\*)", page.read_text(encoding="utf-8")):
            assert ref in titles, f"{page.name} refers to a missing page: *{ref}*"


def test_preapproved_clas_page_matches_policy(policy):
    path = KNOWLEDGE / "cla" / "preapproved-clas.md"
    if not path.exists():
        pytest.skip("knowledge/cla/preapproved-clas.md not written yet")
    _, body = split_page(path.read_text(encoding="utf-8"))
    section = next(
        (s for s in re.split(r"^## ", body, flags=re.MULTILINE)[1:] if "list" in s.partition("\n")[0].lower()),
        "",
    )
    bullets = re.findall(r"^[-*] (.+)$", section, re.MULTILINE)
    assert bullets, "no bullet list under a '... list' heading in preapproved-clas.md"
    organisation = {cla["id"]: cla["name"].split()[0] for cla in policy.preapproved_clas}
    matched = []
    for bullet in bullets:
        hits = [cid for cid, org in organisation.items() if re.search(rf"\b{org}\b", bullet)]
        assert len(hits) == 1, f"CLA bullet matches {hits or 'nothing'} in policy.yaml: {bullet}"
        matched += hits
    assert sorted(matched) == sorted(organisation), "policy.yaml and the CLA page list different CLAs"


def test_trivial_contribution_page_matches_auto_approve(policy):
    path = KNOWLEDGE / "contributing" / "trivial-contributions.md"
    if not path.exists():
        pytest.skip("knowledge/contributing/trivial-contributions.md not written yet")
    text = path.read_text(encoding="utf-8").lower()
    rules = policy.auto_approve["contribute"]
    assert f"{rules['max_changed_lines']} lines" in text
    for category in rules["categories"]:
        assert category.replace("-", " ") in text, f"{category} missing from trivial-contributions.md"


def test_sla_numbers_in_handbook(policy):
    sla = policy.sla
    for page in KNOWLEDGE.glob("*/*.md"):
        text = page.read_text(encoding="utf-8")
        for days in re.findall(r"OSPO[^.]*?first response[^.]*?within (\d+) business days", text):
            assert int(days) == sla["first_response_business_days"], page.name
    outbound = read("licensing/outbound-copyleft.md")
    assert f"decided within {sla['release_decision_business_days']} business days" in outbound
