"""`ospo-bot deps check`: the exit codes a CI job gates on, the JSON, plain output when piped and
a table in a terminal, approved exceptions read from the bot's database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from bot.cli import cli
from tests.approval_data import Clock

SBOMS = Path(__file__).parent / "data" / "sboms"
EDGE = SBOMS / "edge"


@pytest.fixture(autouse=True)
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("OSPO_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def run(*args):
    return CliRunner().invoke(cli, ["deps", "check", *map(str, args)], catch_exceptions=False)


def test_a_clean_sbom_exits_0():
    result = run(SBOMS / "cyclonedx-1.4-laravel-7.12.0.json")
    assert result.exit_code == 0, result.output
    assert "(CycloneDX 1.4 JSON), for distribute: 62 components" in result.stdout
    assert "  conditions\t62\tallowed with conditions" in result.stdout
    assert result.stdout.rstrip().endswith("Every component is allowed for this use.")


def test_anything_that_needs_attention_exits_1_with_one_line_each(env):
    result = run(EDGE / "cyclonedx-1.6-edge-cases.xml", "--use", "saas")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "forbidden\tmongo-driver\t7.0.1\tSSPL-1.0\tDo not run source-available code" in result.stdout
    assert [line.split("\t")[1] for line in lines if line.startswith(("forbidden\t", "unknown\t"))] == [
        "mongo-driver",
        "no-license",
    ]
    assert "2 components need attention." in lines[-1]
    assert not env.exists()  # checking a file never creates the bot's database


@pytest.mark.parametrize(
    "args, message",
    [
        (["no-such.json"], "no-such.json: no such file."),
        ([SBOMS / "README.md"], "is not an SBOM or lockfile we read"),
        ([EDGE / "xml-bomb.xml"], "XML bomb"),
        ([SBOMS / "cyclonedx-1.2-keycloak-10.0.2.json", "--max-mb", "1"], "is larger than the 1 MB limit"),
    ],
)
def test_files_it_cannot_read_exit_2_naming_the_file(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
    assert result.stderr.startswith(f"Error: {args[0]}")


def test_a_truncated_file_exits_2(tmp_path):
    data = (SBOMS / "spdx-2.3-examplemaven.spdx.json").read_bytes()
    cut = tmp_path / "cut.json"
    cut.write_bytes(data[: len(data) - 100])
    result = run(cut)
    assert result.exit_code == 2 and "the file was cut short" in result.stderr


def test_stdin_is_read_within_the_limit():
    data = (SBOMS / "cyclonedx-1.4-laravel-7.12.0.json").read_bytes()
    result = CliRunner().invoke(cli, ["deps", "check", "-", "--json"], input=data)
    assert result.exit_code == 0 and json.loads(result.stdout)["file"] == "stdin"
    result = CliRunner().invoke(cli, ["deps", "check", "-", "--max-mb", "0.1"], input=data)
    assert result.exit_code == 2 and "stdin is larger than the 104857 bytes limit" in result.stderr


def test_usage_errors_exit_2():
    assert run(EDGE / "cyclonedx-1.6-empty.json", "--use", "sell").exit_code == 2
    assert run().exit_code == 2


def test_json_is_one_object_with_every_component():
    result = run(EDGE / "cyclonedx-1.5-edge-cases.json", "--json", "--use", "internal")
    data = json.loads(result.stdout)
    assert result.exit_code == 1  # unknown licenses need attention for every use
    assert (data["file"], data["format"], data["use"]) == (
        str(EDGE / "cyclonedx-1.5-edge-cases.json"),
        "CycloneDX 1.5 JSON",
        "internal",
    )
    assert len(data["components"]) == 11 and sum(data["counts"].values()) == 11
    first = data["components"][0]
    assert first == {
        "name": "no-license",
        "version": "1.0.0",
        "purl": "pkg:npm/no-license@1.0.0",
        "license": None,
        "verdict": "unknown",
        "reasons": [first["reasons"][0]],
        "exception": None,
    }


def test_an_approved_exception_in_the_database_is_honoured(env):
    from bot.approvals import Approvals
    from bot.licenses import default_policy
    from bot.store import ThreadLocalDB

    approvals = Approvals(ThreadLocalDB(env / "ospo-bot.db").get, default_policy(), clock=Clock())
    fields = {"license": "SSPL", "use": "saas", "justification": "Analytics.", "components": "mongo-driver 7.x"}
    request = approvals.submit("UREQ", "exception", fields)
    approvals.decide(request.id, "UOSPO", "approve", approvers={"UOSPO"})  # until: a year from 2026-03-01
    rows = [line for line in run(EDGE / "cyclonedx-1.6-edge-cases.xml", "--use", "saas").stdout.splitlines()]
    assert not any(line.startswith("forbidden\tmongo-driver") for line in rows)
    assert "Exceptions honoured: OSPO-1." in rows
    data = json.loads(run(EDGE / "cyclonedx-1.6-edge-cases.xml", "--use", "saas", "--json").stdout)
    mongo = next(c for c in data["components"] if c["name"] == "mongo-driver")
    assert (mongo["verdict"], mongo["exception"]) == ("allowed", "OSPO-1")


def test_in_a_terminal_the_components_are_a_table(monkeypatch):
    from bot import deps
    from bot.cli import deps as deps_cli
    from bot.licenses import default_policy

    console = Console(force_terminal=True, width=140, record=True)
    monkeypatch.setattr(deps_cli, "out", console)
    report = deps.check_file(EDGE / "cyclonedx-1.6-edge-cases.xml", "saas")
    deps_cli.print_report(report, default_policy())
    text = console.export_text()
    assert "4 components: 2 allowed, 0 allowed with conditions, 0 needs OSPO review, 1 not allowed" in text
    assert "┃ component" in text and "│ mongo-driver" in text and "│ no-license" in text
