"""`ospo-bot requests list|show|export`: real SQLite in a temp dir, requests made through bot.approvals.

These commands read the database only: no model, no index (test_commands_do_not_load_the_model)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from bot import approvals as approvals_module
from bot.approvals import Approvals, Event, Request
from bot.cli import cli
from bot.cli.requests import REQUEST_STATES
from bot.licenses import default_policy_path, load_policy
from bot.store import ThreadLocalDB
from tests.approval_data import EXCEPTION, RELEASE, TRIVIAL, Clock

POLICY = load_policy(default_policy_path())
APPROVERS = frozenset({"UAPPROVER"})
FEATURE = TRIVIAL | {"change_kind": "feature", "description": "Add a --json flag [bold]now[/bold].\nSecond line."}
REQUEST_KEYS = {f.name for f in dataclass_fields(Request)}
EVENT_KEYS = {f.name for f in dataclass_fields(Event)}


@pytest.fixture
def env(tmp_path, monkeypatch):
    (tmp_path / "kb").mkdir()
    values = {
        "OSPO_KNOWLEDGE_DIR": str(tmp_path / "kb"),
        "OSPO_DATA_DIR": str(tmp_path / "data"),
        "OSPO_EMBEDDING_MODEL": str(tmp_path / "no-such-model"),  # loading it would fail
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def approvals(env, tmp_path, clock) -> Approvals:
    return Approvals(ThreadLocalDB(tmp_path / "data" / "ospo-bot.db").get, POLICY, clock=clock)


@pytest.fixture
def made(approvals, clock) -> dict[str, Request]:
    """Five requests in every interesting state, the last two on later days."""
    trivial = approvals.submit("UALICE", "contribute", TRIVIAL)  # OSPO-1, auto-approved
    feature = approvals.submit("UBOB", "contribute", FEATURE)  # OSPO-2
    feature = approvals.decide(
        feature.id, "UAPPROVER", "approve", conditions="Keep it small.", blanket=True, approvers=APPROVERS
    )
    exception = approvals.submit("UALICE", "exception", EXCEPTION)  # OSPO-3
    approvals.decide(exception.id, "UAPPROVER", "reject", reason="No SSPL in SaaS.", approvers=APPROVERS)
    exception = approvals.decide(exception.id, "UAPPROVER", "reopen", reason="New facts.", approvers=APPROVERS)
    clock.at = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    release = approvals.submit("UCAROL", "release", RELEASE)  # OSPO-4
    release = approvals.cancel(release.id, "UCAROL", reason="Not yet.")
    clock.at = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
    later = approvals.submit("UBOB", "contribute", TRIVIAL | {"security_fix": True})  # OSPO-5, pending
    return {"trivial": trivial, "feature": feature, "exception": exception, "release": release, "later": later}


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def flat(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------- list


def test_list_with_no_requests_says_so(env):
    result = run("requests", "list")
    assert result.exit_code == 0, result.output
    assert "No approval requests in" in result.stdout and "/ospo approve" in result.stdout
    assert json.loads(run("requests", "list", "--json").stdout) == []
    filtered = run("requests", "list", "--state", "pending", "--since", "2026-03-01")
    assert "No approval requests in state pending, created since 2026-03-01 in" in flat(filtered.stdout)


def test_list_table_has_one_row_per_request(made):
    result = run("requests", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(name in lines[1] for name in ("ref", "type", "state", "requester", "repository or project"))
    assert "created" in lines[1] and "decided by" in lines[1]
    rows = {line.split()[1]: line for line in lines if "OSPO-" in line}
    assert list(rows) == ["OSPO-1", "OSPO-2", "OSPO-3", "OSPO-4", "OSPO-5"]
    assert flat(rows["OSPO-1"]).startswith("│ OSPO-1 │ contribute │ auto_approved │ UALICE │")
    assert "https://github.com/example/widget" in rows["OSPO-1"] and "ospo-bot" in rows["OSPO-1"]
    assert "approved" in rows["OSPO-2"] and "UAPPROVER" in rows["OSPO-2"]
    assert "pending" in rows["OSPO-3"] and "https://github.com/mongodb/mongo" in rows["OSPO-3"]
    assert "UAPPROVER" not in rows["OSPO-3"]  # reopened: the decision is undone
    assert "cancelled" in rows["OSPO-4"] and "yamlint-pro" in rows["OSPO-4"]  # a release: the project name
    assert "2026-03-10 12:00" in rows["OSPO-4"]
    assert "5 request(s)" in result.stdout


def test_list_filters(made):
    def refs(*args):
        result = run("requests", "list", "--json", *args)
        assert result.exit_code == 0, result.output
        return [r["ref"] for r in json.loads(result.stdout)]

    assert refs() == ["OSPO-1", "OSPO-2", "OSPO-3", "OSPO-4", "OSPO-5"]
    assert refs("--state", "pending") == ["OSPO-3", "OSPO-5"]
    assert refs("--state", "AUTO_APPROVED") == ["OSPO-1"]
    assert refs("--since", "2026-03-10") == ["OSPO-4", "OSPO-5"]
    assert refs("--since", "2026-03-11", "--state", "pending") == ["OSPO-5"]
    assert refs("--requester", "UBOB") == ["OSPO-2", "OSPO-5"]
    assert refs("--state", "needs_info") == []
    table = run("requests", "list", "--state", "cancelled").stdout
    assert "OSPO-4" in table and "OSPO-1" not in table and "1 request(s)" in table


def test_list_json_is_the_full_requests(made):
    listed = json.loads(run("requests", "list", "--json").stdout)
    assert all(set(r) == REQUEST_KEYS for r in listed)
    feature = listed[1]
    assert feature["fields"] == FEATURE
    assert feature["state"] == "approved" and feature["blanket"] is True
    assert feature["conditions"] == "Keep it small." and feature["blanket_until"].startswith("2027-03-01")
    assert feature["precedent"][0]["ref"] == "OSPO-1"


@pytest.mark.parametrize(
    "args, words",
    [
        (["--state", "done"], ["'--state'", *REQUEST_STATES]),
        (["--since", "yesterday"], ["'--since'", "YYYY-MM-DD"]),
        (["--since", "2026-02-30"], ["'--since'", "YYYY-MM-DD"]),
        (["--since", "2026-3-1"], ["'--since'", "YYYY-MM-DD"]),
    ],
)
def test_list_bad_options_are_usage_errors(env, args, words):
    result = run("requests", "list", *args)
    assert result.exit_code == 2
    assert all(word in result.stderr for word in words), result.stderr
    assert result.stdout == ""


def test_the_cli_knows_every_state():
    assert REQUEST_STATES == approvals_module.STATES


# ---------------------------------------------------------------- show


def test_show_prints_every_field_flags_precedent_and_history(made):
    result = run("requests", "show", "OSPO-2")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("OSPO-2  contribute  approved\n")
    for label, value in [
        ("requester", "UBOB"),
        ("repository", "https://github.com/example/widget"),
        ("license", "MIT (permissive)"),
        ("decided by", "UAPPROVER"),
        ("conditions", "Keep it small."),
        ("blanket", "yes, until 2027-03-01"),
        ("change kind", "feature"),
        ("security fix", "no"),
        ("cla", "dco"),
    ]:
        assert re.search(rf"^  {label} +{re.escape(value)}", text, re.MULTILINE), (label, value)
    assert "Add a --json flag [bold]now[/bold]." in text  # markup is printed, not interpreted
    assert "Second line." in text
    assert "• a new feature always needs OSPO approval, whatever its size" in text
    assert "• OSPO-1: auto_approved by ospo-bot on 2026-03-01: a trivial contribution" in text
    assert "History (2 event(s))" in text
    assert "2026-03-01T09:00:02+00:00  UBOB  submitted → pending" in text
    assert "UAPPROVER  pending → approved" in text and "conditions: Keep it small.; blanket until 2027-03-01" in text


def test_show_auto_approval_reasons_and_reopen_history(made):
    trivial = run("requests", "show", "1").stdout
    assert "Auto-approved because" in trivial and "• DCO sign-off" in trivial
    assert "Policy flags none" in trivial and "Precedent none" in trivial
    exception = run("requests", "show", "ospo-3").stdout
    assert "Auto-approved because" not in exception
    assert "license SSPL-1.0 (source-available) for saas" in exception
    history = exception[exception.index("History") :].splitlines()
    assert history[0] == "History (4 event(s))"
    assert [" ".join(line.split()[1:5]) for line in history[1:]] == [
        "UALICE submitted → pending",
        "UAPPROVER pending → rejected",
        "UAPPROVER rejected → reopened",
        "UAPPROVER reopened → pending",
    ]
    assert "— No SSPL in SaaS." in history[2]
    assert "— New facts." in history[3] and "undoes the decision of UAPPROVER" in history[3]
    cancelled = run("requests", "show", "#4").stdout
    assert "UCAROL  pending → cancelled  — Not yet." in cancelled
    assert "proposed name      yamlint-pro" in cancelled and "all ours           yes" in cancelled


def test_show_json_is_one_request_with_its_events(made):
    result = run("requests", "show", "OSPO-3", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert set(shown) == REQUEST_KEYS | {"events"}
    assert shown["ref"] == "OSPO-3" and shown["fields"] == EXCEPTION
    assert all(set(e) == EVENT_KEYS for e in shown["events"])
    assert [(e["from_state"], e["to_state"]) for e in shown["events"]] == [
        ("submitted", "pending"),
        ("pending", "rejected"),
        ("rejected", "reopened"),
        ("reopened", "pending"),
    ]
    exported = json.loads(run("requests", "export", "--format", "json").stdout)
    assert shown == exported[2]  # the same shape as an element of the export


def test_show_unknown_or_malformed_ref(made):
    result = run("requests", "show", "OSPO-99")
    assert result.exit_code == 1
    assert "no request OSPO-99 (try `ospo-bot requests list`)" in result.stderr
    assert run("requests", "show", "99", "--json").exit_code == 1
    malformed = run("requests", "show", "widget")
    assert malformed.exit_code == 2 and "'widget' is not a request reference" in malformed.stderr


# ---------------------------------------------------------------- export


def test_export_json_has_every_request_and_event(made, approvals):
    result = run("requests", "export", "--format", "json")
    assert result.exit_code == 0, result.output
    exported = json.loads(result.stdout)
    assert [r["ref"] for r in exported] == ["OSPO-1", "OSPO-2", "OSPO-3", "OSPO-4", "OSPO-5"]
    assert all(set(r) == REQUEST_KEYS | {"events"} for r in exported)
    assert [len(r["events"]) for r in exported] == [1, 2, 4, 2, 1]
    assert exported[3]["fields"] == RELEASE
    assert json.loads(run("requests", "export").stdout) == exported  # json is the default
    assert result.stdout == approvals.export("json") + "\n"


def test_export_csv_is_one_row_per_event(made):
    result = run("requests", "export", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 10
    assert [r["ref"] for r in rows].count("OSPO-3") == 4
    first = rows[0]
    assert first["state"] == "auto_approved" and first["field_license"] == "MIT"
    assert first["event_actor"] == "UALICE" and first["event_to_state"] == "auto_approved"
    reject = next(r for r in rows if r["event_to_state"] == "rejected")
    assert reject["event_reason"] == "No SSPL in SaaS." and reject["field_use"] == "saas"
    assert "Second line." in next(r for r in rows if r["ref"] == "OSPO-2")["field_description"]


def test_export_to_a_file(made, tmp_path):
    target = tmp_path / "audit.csv"
    result = run("requests", "export", "--format", "csv", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert "Wrote 5 request(s) and 10 event(s) to" in flat(result.stdout) and "(csv)" in result.stdout
    assert len(list(csv.DictReader(target.open(encoding="utf-8", newline="")))) == 10
    as_json = tmp_path / "audit.json"
    result = run("requests", "export", "--format", "json", "--output", str(as_json))
    assert "Wrote 5 request(s) and 10 event(s)" in flat(result.stdout)
    assert json.loads(as_json.read_text(encoding="utf-8")) == json.loads(run("requests", "export").stdout)


def test_export_errors(made, tmp_path):
    result = run("requests", "export", "-o", str(tmp_path / "no" / "such" / "dir.json"))
    assert result.exit_code == 1 and "cannot write" in result.stderr
    result = run("requests", "export", "--format", "xml")
    assert result.exit_code == 2 and "'csv'" in result.stderr and "'json'" in result.stderr


def test_export_of_an_empty_database(env):
    assert json.loads(run("requests", "export").stdout) == []
    assert run("requests", "export", "--format", "csv").stdout.startswith("id,ref,type,")


# ---------------------------------------------------------------- no model, bad configuration


def test_a_bad_configuration_is_reported(env, monkeypatch, tmp_path):
    monkeypatch.setenv("OSPO_KNOWLEDGE_DIR", str(tmp_path / "missing"))
    result = run("requests", "list")
    assert result.exit_code == 1 and "OSPO_KNOWLEDGE_DIR" in result.stderr


def test_commands_do_not_load_the_model(made, tmp_path):
    """In a fresh interpreter: list, show and export import neither the search code nor the model."""
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from bot.cli import cli\n"
        "for args in (['list'], ['list', '--json'], ['show', 'OSPO-2'], ['export', '--format', 'csv']):\n"
        "    result = CliRunner().invoke(cli, ['requests', *args], catch_exceptions=False)\n"
        "    assert result.exit_code == 0, result.output\n"
        "heavy = [m for m in ('bot.search', 'sentence_transformers', 'torch', 'chromadb') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=os.environ.copy(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
