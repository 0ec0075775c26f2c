"""Dependency intake (bot/deps): real SBOMs published by the CycloneDX and SPDX projects and a real
npm lockfile (tests/data/sboms/README.md), hand-made edge cases, and files we must refuse."""

from __future__ import annotations

import json
import os
import threading
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import deps
from bot.deps import exceptions
from bot.deps.formats import parse, read_limited
from bot.licenses import default_policy

SBOMS = Path(__file__).parent / "data" / "sboms"
EDGE = SBOMS / "edge"
POLICY = default_policy()


def check(path: Path, use: str = "distribute", **kwargs) -> deps.DepsReport:
    return deps.check_file(path, use, POLICY, **kwargs)


def by_name(report: deps.DepsReport) -> dict[str, deps.Result]:
    return {r.component.name: r for r in report.results}


# -- real SBOMs ----------------------------------------------------------------------------------
REAL = {  # file -> (format, components, counts for distribute): pinned, so a reader that drops one is seen
    "cyclonedx-1.2-keycloak-10.0.2.json": (
        "CycloneDX 1.2 JSON",
        903,
        (32, 815, 3, 1, 52),
    ),  # 70 unknown before ORT's names
    "cyclonedx-1.2-juice-shop-11.1.2.xml": ("CycloneDX 1.2 XML", 840, (5, 796, 2, 0, 37)),
    "cyclonedx-1.2-cern-vdm-editor.json": ("CycloneDX 1.2 JSON", 43, (0, 43, 0, 0, 0)),
    "cyclonedx-1.3-laravel-7.12.0.xml": ("CycloneDX 1.3 XML", 62, (0, 62, 0, 0, 0)),
    "cyclonedx-1.4-laravel-7.12.0.json": ("CycloneDX 1.4 JSON", 62, (0, 62, 0, 0, 0)),
    "cyclonedx-1.6-cbom-example.json": ("CycloneDX 1.6 JSON", 3, (0, 0, 0, 0, 3)),
    "spdx-2.3-examplemaven.spdx.json": ("SPDX 2.3 JSON", 5, (0, 1, 0, 0, 4)),
    "spdx-2.2-appbomination.spdx.json": ("SPDX 2.2 JSON", 6, (0, 5, 0, 0, 1)),
    "spdx-2.2-example6-lib.spdx": ("SPDX 2.2 tag-value", 4, (0, 0, 0, 0, 4)),
    "npm-lock-v3-with-prepared.json": ("npm package-lock v3", 223, (1, 53, 0, 0, 169)),
}


@pytest.mark.parametrize("name", REAL)
def test_real_sboms_are_read_and_counted(name):
    report = check(SBOMS / name)
    fmt, total, counts = REAL[name]
    assert (report.format, len(report.results)) == (fmt, total)
    assert tuple(report.counts.values()) == counts
    assert report.passes == (counts[2:] == (0, 0, 0))


def test_the_same_sbom_reads_the_same_in_xml_and_json():
    xml, js = check(SBOMS / "cyclonedx-1.3-laravel-7.12.0.xml"), check(SBOMS / "cyclonedx-1.4-laravel-7.12.0.json")
    assert [r.to_dict() for r in xml.results] == [r.to_dict() for r in js.results]


def test_what_real_sboms_declare_is_judged_by_the_license_engine():
    keycloak = by_name(check(SBOMS / "cyclonedx-1.2-keycloak-10.0.2.json", "saas"))
    bc = keycloak["bcprov-jdk15on"]  # a name policy.yaml's aliases know
    assert (bc.verdict, bc.license) == ("allowed", "MIT")
    assert bc.reasons[0] == "Its license is given by name: 'Bouncy Castle Licence', read as MIT."
    assert bc.component.purl == "pkg:maven/org.bouncycastle/bcprov-jdk15on@1.62?type=jar"
    gmbal = keycloak["gmbal-api-only"]  # one nobody can read as one license
    assert (gmbal.verdict, gmbal.license) == ("unknown", "CDDL+GPL")
    assert gmbal.reasons[0] == "Its license is given by name: 'CDDL+GPL'."
    # SPDX: the described package (the product) is not a dependency; LicenseRef- is not a license we know
    appbom = by_name(check(SBOMS / "spdx-2.2-appbomination.spdx.json"))
    assert "App-BOM-ination" not in appbom
    assert (appbom["Faust Proprietary File"].verdict, appbom["Faust Proprietary File"].license) == (
        "unknown",
        "LicenseRef-1",
    )
    npm = by_name(check(SBOMS / "npm-lock-v3-with-prepared.json"))
    assert npm["@cyclonedx/cyclonedx-library"].component.purl == "pkg:npm/%40cyclonedx/cyclonedx-library@7.0.0"


# -- hand-made edge cases ------------------------------------------------------------------------
def test_edge_cases_in_cyclonedx_json():
    report = check(EDGE / "cyclonedx-1.5-edge-cases.json", "saas")
    r = by_name(report)
    assert len(report.results) == 11  # the duplicate "either" counted once; "inner" (nested) counted
    assert r["no-license"].verdict == "unknown" and r["no-license"].license is None
    assert r["no-license"].reasons[0].startswith("No license declared.")
    assert (r["named-apache"].verdict, r["named-apache"].license) == ("allowed", "Apache-2.0")
    assert r["named-nonsense"].verdict == "unknown"
    assert r["license-ref"].verdict == "unknown" and r["license-ref"].license == "LicenseRef-acme-internal"
    assert (r["either"].verdict, r["either"].license) == ("allowed", "MIT OR GPL-3.0-only")  # the better option
    assert r["both"].verdict == "conditions"  # GPL-3.0 is allowed in SaaS; AND: MIT's conditions still apply
    assert (r["side-by-side"].verdict, r["side-by-side"].license) == ("forbidden", "AGPL-3.0-only AND MIT")
    assert "all of them apply" in r["side-by-side"].reasons[0]
    assert r["mongo-driver"].verdict == "forbidden"
    assert (r["inner"].verdict, r["inner"].component.purl) == ("allowed", "pkg:npm/inner@0.9.0")
    assert r["odd-hash"].license == "Apache-2.0"  # the library refused it; read from the plain data
    assert [x.component.name for x in report.attention][:2] == ["side-by-side", "mongo-driver"]  # worst first


def test_a_license_given_by_name_is_read_as_the_engine_reads_it():
    r = by_name(check(EDGE / "cyclonedx-1.6-edge-cases.xml"))
    assert (r["named-mit"].license, r["named-mit"].verdict) == ("MIT", "conditions")
    assert r["named-mit"].reasons[0] == "Its license is given by name: 'The MIT License', read as MIT."


def test_edge_cases_in_spdx_tag_value():
    r = by_name(check(EDGE / "spdx-2.3-edge-cases.spdx"))
    assert "our-app" not in r  # what the document DESCRIBES is the product, not a dependency
    assert (r["none-declared"].license, r["none-declared"].verdict) == ("NONE", "unknown")
    assert r["none-declared"].reasons[0] == "It is declared to have no license."
    assert r["only-concluded"].license == "Apache-2.0"  # declared NOASSERTION: the concluded license counts
    assert r["either"].component.purl == "pkg:npm/either@1.2.3"
    assert r["with-exception"].verdict == "conditions"
    assert r["ref-license"].verdict == "unknown"


def test_an_empty_sbom_has_nothing_to_refuse():
    report = check(EDGE / "cyclonedx-1.6-empty.json")
    assert report.results == () and report.passes and sum(report.counts.values()) == 0


# -- files we refuse -------------------------------------------------------------------------------
def test_an_xml_bomb_is_refused_before_it_grows():
    with pytest.raises(deps.Unreadable, match="XML bomb"):
        check(EDGE / "xml-bomb.xml")


@pytest.mark.parametrize(
    "name", ["cyclonedx-1.4-laravel-7.12.0.json", "cyclonedx-1.3-laravel-7.12.0.xml", "npm-lock-v3-with-prepared.json"]
)
def test_a_truncated_file_is_said_to_be_cut_short(name):
    data = (SBOMS / name).read_bytes()
    with pytest.raises(deps.Unreadable, match=f"^{name} is not valid .*cut short"):
        parse(data[: len(data) // 2], name)


@pytest.mark.parametrize(
    "data, problem",
    [
        (b"", "is empty"),
        (b"   \n", "is empty"),
        (b"hello, world", "is not an SBOM or lockfile we read"),
        (b'{"name": "x", "version": "1"}', "is JSON but not an SBOM"),
        (b"[1, 2]", "is JSON but not an SBOM"),
        (b'<project xmlns="http://maven.apache.org/POM/4.0.0"/>', "is XML but not a CycloneDX SBOM"),
        (b'{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}', "is SPDX 3"),
        (b'{"lockfileVersion": 1, "dependencies": {}}', "records no licenses"),
        (b'{"spdxVersion": "SPDX-2.3"}', "is not a valid SPDX 2 document"),
        (b'{"name": "\xff"}', "not UTF-8"),
    ],
)
def test_files_we_do_not_read_are_named_with_what_is_wrong(data, problem):
    with pytest.raises(deps.DepsError, match=problem) as caught:
        parse(data, "upload.bin")
    assert str(caught.value).startswith("upload.bin")


def test_components_nested_without_end_are_refused():
    ns = "http://cyclonedx.org/schema/bom/1.5"
    depth = 5000
    xml = f'<bom xmlns="{ns}"><components>' + "<component type='library'><name>x</name><components>" * depth
    xml += "</components></component>" * depth + "</components></bom>"
    with pytest.raises(deps.Unreadable, match="nests components too deeply"):
        parse(xml.encode(), "deep.xml")
    with pytest.raises(deps.Unreadable, match="nests components too deeply"):
        parse(b'{"bomFormat": "CycloneDX", "components": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "deep.json")


def test_a_50_mb_file_is_refused_unread(tmp_path):
    big = tmp_path / "huge.json"
    with big.open("wb") as handle:  # sparse: 50 MB on paper, nothing on disk
        handle.truncate(50 * 1024 * 1024)
    with pytest.raises(deps.TooLarge, match="huge.json is larger than the 20 MB limit"):
        check(big)


def test_nothing_is_read_past_the_limit_of_a_stream(tmp_path):
    """A pipe has no size to look at first: we read the limit and one byte more, then stop."""
    pipe = tmp_path / "sbom.pipe"
    os.mkfifo(pipe)
    written = []

    def write():
        with pipe.open("wb") as handle:
            try:
                for _ in range(50):  # 50 MB offered
                    handle.write(b" " * 1024 * 1024)
                    written.append(1)
            except BrokenPipeError:
                pass

    writer = threading.Thread(target=write)
    writer.start()
    with pytest.raises(deps.TooLarge):
        read_limited(pipe, max_bytes=1024 * 1024)
    writer.join(timeout=30)
    assert not writer.is_alive() and len(written) <= 3  # the writer was stopped near the 1 MB limit


# -- exceptions -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "line, parsed",
    [
        ("pkg:npm/left-pad@1.3.0", ("pkg:npm/left-pad", "==1.3.0")),
        ("pkg:maven/org.acme/widget >=2, <3", ("pkg:maven/org.acme/widget", ">=2, <3")),
        ("widget 1.x", ("widget", "1.x")),
        ("widget", ("widget", "")),
        ("Apache Log4j API 2.17.1", ("Apache Log4j API", "2.17.1")),
        ("Apache Log4j API", ("Apache Log4j API", "")),
        ("SLF4J API Module >=1.7, <2", ("SLF4J API Module", ">=1.7, <2")),
    ],
)
def test_exception_lines(line, parsed):
    assert exceptions.parse_line(line) == parsed


@pytest.mark.parametrize("line", ["pkg:npm/a@1 >2", "widget >>2", "pkg:", "widget 1 2", ""])
def test_exception_lines_that_are_wrong_say_how_to_write_them(line):
    with pytest.raises(ValueError):
        exceptions.parse_line(line)


@pytest.mark.parametrize(
    "version, versions, inside",
    [
        ("1.3.0", "==1.3.0", True),
        ("1.3", "==1.3.0", True),
        ("1.3.1", "==1.3.0", False),
        ("2.10.0", ">=2, <3", True),
        ("3.0.0", ">=2, <3", False),
        ("3.0.0-beta.1", "<3", True),
        ("1.9.9", "1.x", True),
        ("10.0", "1.x", False),
        (None, "1.x", False),
        (None, "", True),
        ("7", "*", True),
    ],
)
def test_version_ranges(version, versions, inside):
    assert exceptions.version_in(version, versions) is inside


def test_an_approved_exception_allows_its_components_until_it_expires(tmp_path):
    from bot.approvals import Approvals
    from bot.store import ThreadLocalDB
    from tests.approval_data import Clock

    approvals = Approvals(ThreadLocalDB(tmp_path / "ospo.db").get, POLICY, clock=Clock())
    fields = {
        "license": "SSPL",
        "use": "saas",
        "justification": "The analytics service needs it.",
        "components": "pkg:generic/mongo-driver >=7, <8\nside-by-side",
        "until": "2026-12-31",
    }
    request = approvals.submit("UREQ", "exception", fields)
    assert approvals.exceptions() == []  # pending: not yet an exception
    approvals.decide(request.id, "UOSPO", "approve", approvers={"UOSPO"})
    grants = deps.grants(approvals.exceptions())
    assert [(g.ref, g.component, g.versions, g.use, g.until) for g in grants] == [
        ("OSPO-1", "pkg:generic/mongo-driver", ">=7, <8", "saas", date(2026, 12, 31)),
        ("OSPO-1", "side-by-side", "", "saas", date(2026, 12, 31)),
    ]
    path = EDGE / "cyclonedx-1.5-edge-cases.json"
    live = by_name(check(path, "saas", grants=grants, today=date(2026, 12, 31)))
    assert (live["mongo-driver"].verdict, live["mongo-driver"].exception) == ("allowed", "OSPO-1")
    assert live["mongo-driver"].reasons[0] == "Allowed by exception OSPO-1 for saas until 2026-12-31."
    assert live["mongo-driver"].reasons[1].startswith("Without it: forbidden.")
    assert live["side-by-side"].exception == "OSPO-1"
    assert live["no-license"].exception is None  # not named
    other_use = by_name(check(path, "distribute", grants=grants, today=date(2026, 12, 1)))
    assert other_use["mongo-driver"].exception is None  # granted for saas only
    expired = by_name(check(path, "saas", grants=grants, today=date(2027, 1, 1)))
    assert (expired["mongo-driver"].verdict, expired["mongo-driver"].exception) == ("forbidden", None)
    assert expired["mongo-driver"].reasons[-1] == "Exception OSPO-1 expired on 2026-12-31; ask the OSPO to renew it."


def test_an_exception_without_an_end_date_lasts_a_year_from_its_approval():
    class Approved:
        type, state, ref, decided_at = "exception", "approved", "OSPO-9", "2026-03-01T09:00:00+00:00"
        fields = {"use": "distribute", "components": "widget"}

    assert deps.grants([Approved()])[0].until == date(2027, 3, 1)


def test_reports_as_json_have_the_documented_shape():
    data = json.loads(json.dumps(check(EDGE / "cyclonedx-1.6-edge-cases.xml").to_dict()))
    assert set(data) == {"file", "format", "use", "components", "counts"}
    assert set(data["counts"]) == {"allowed", "conditions", "review", "forbidden", "unknown"}
    keys = {"name", "version", "purl", "license", "verdict", "reasons", "exception"}
    assert all(set(c) == keys for c in data["components"])


def test_reading_reports_progress_for_a_bar():
    seen = []
    check(SBOMS / "cyclonedx-1.2-juice-shop-11.1.2.xml", progress=lambda done, total: seen.append((done, total)))
    assert seen == [(250, 840), (500, 840), (750, 840), (840, 840)]


def test_the_table_as_csv_lists_what_needs_attention_first_and_keeps_formulas_as_text(tmp_path):
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
        {"type": "library", "name": "fine", "version": "1", "licenses": [{"license": {"id": "MIT"}}]},
        {"type": "library", "name": "=HYPERLINK(\"http://x\")", "version": "1"},
    ]}  # fmt: skip
    path = tmp_path / "bom.json"
    path.write_text(json.dumps(bom))
    rows = check(path).to_csv().splitlines()
    assert rows[0] == "verdict,name,version,purl,license,exception,reasons"
    assert rows[1].startswith("unknown,\"'=HYPERLINK(") and rows[2].startswith("conditions,fine,1,")


SMALL = sorted(p for p in SBOMS.rglob("*") if p.is_file() and p.suffix != ".md" and p.stat().st_size < 200_000)


EDIT = st.tuples(st.floats(0, 1), st.binary(max_size=8), st.integers(0, 40))  # where, what to put in, how much to cut


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SMALL), st.lists(EDIT, max_size=5))
def test_damaged_files_are_checked_or_refused_in_words(path, edits):
    """Bytes changed, cut out or put in anywhere: a report, or a DepsError naming the file; nothing else."""
    data = bytearray(path.read_bytes())
    for where, insert, cut in edits:
        at = int(where * len(data))
        data[at : at + cut] = insert
    try:
        deps.check_document(parse(bytes(data), path.name), path.name)
    except deps.DepsError as error:
        assert str(error).startswith(path.name)
