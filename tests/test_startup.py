"""Start-up fails fast, and says what to do: the real `ospo-bot` command as its own process, with
a model folder that is missing or not a model, a knowledge folder that is missing, empty or
unreadable, and Slack settings missing or malformed. Each ends with exit code 1, a short message
naming the variable or path and the fix, and no Python traceback."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.config import default_embedding_model
from tests.conftest import SMALL_KB, free_port, write_docs

SCRIPT = Path(sys.executable).parent / "ospo-bot"
COMMANDS = {
    "ask": ["ask", "can I use AGPL code?"],
    "kb sync": ["kb", "sync"],
    "serve": ["serve", "--host", "127.0.0.1"],
}


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """A good environment (the one each test then spoils): small handbook, bundled model, and Slack
    settings pointing at a closed loopback port, so nothing ever reaches the network."""
    environment = {
        **os.environ,
        "OSPO_KNOWLEDGE_DIR": str(write_docs(tmp_path / "knowledge", SMALL_KB)),
        "OSPO_DATA_DIR": str(tmp_path / "data"),
        "OSPO_EMBEDDING_MODEL": default_embedding_model(),
        "SLACK_BOT_TOKEN": "xoxb-startup-test",
        "SLACK_SIGNING_SECRET": "startup-test-signing-secret",
        "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/",
        "PORT": str(free_port()),
        "OSPO_APPROVALS_CHANNEL": "C0APPROVALS",
        "OSPO_APPROVERS": "U0OSPO01",
        "OSPO_TRIAGE_CHANNEL": "C0TRIAGE",
    }
    environment.pop("SLACK_APP_TOKEN", None)
    environment.pop("HF_HUB_OFFLINE", None)  # our default is what is tested (the model fixture may set it)
    return environment


def run(command: list[str], env: dict[str, str], preexec_fn=None) -> subprocess.CompletedProcess:
    """The command to its end (a check that is missing would let `serve` run: the timeout catches it)."""
    return subprocess.run(
        [str(SCRIPT), *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=preexec_fn,
    )


def failed_plainly(result: subprocess.CompletedProcess) -> str:
    """Exit code 1 and a short "Error: ..." message without a traceback; returns the message in one line."""
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output, output
    message = result.stderr.strip()
    assert message.startswith("Error: "), output
    assert len(message.splitlines()) <= 6, output  # a paragraph, not a dump
    return " ".join(message.split())


# -- the embedding model ----------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_missing_model_folder_stops_before_anything_is_done(env, command):
    env["OSPO_EMBEDDING_MODEL"] = str(Path(env["OSPO_DATA_DIR"]).parent / "no-such-model")
    message = failed_plainly(run(COMMANDS[command], env))
    assert f"OSPO_EMBEDDING_MODEL: {env['OSPO_EMBEDDING_MODEL']} does not exist" in message
    assert "model folder (one with modules.json and config.json), or unset it to use the bundled" in message
    assert not Path(env["OSPO_DATA_DIR"]).exists(), "checked before anything was opened or created"


@pytest.mark.parametrize("command", COMMANDS)
def test_empty_folder_as_model_is_refused_before_loading(env, tmp_path, command):
    (tmp_path / "empty-model").mkdir()
    env["OSPO_EMBEDDING_MODEL"] = str(tmp_path / "empty-model")
    message = failed_plainly(run(COMMANDS[command], env))
    assert "is not a model folder (no modules.json or config.json in it)" in message
    assert "set OSPO_EMBEDDING_MODEL to a sentence-transformers model folder" in message
    assert not Path(env["OSPO_DATA_DIR"]).exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_broken_model_folder_fails_on_load_with_the_fix(env, tmp_path, command):
    """A folder that looks like a model but is not (the bundled one's small files, its config.json
    cut short and no weights): found when loading it."""
    bundled, broken = Path(default_embedding_model()), tmp_path / "broken-model"
    shutil.copytree(bundled, broken, ignore=shutil.ignore_patterns("*.safetensors", "*.bin", "tokenizer.json"))
    (broken / "config.json").write_text((bundled / "config.json").read_text()[:40])
    env["OSPO_EMBEDDING_MODEL"] = str(broken)
    message = failed_plainly(run(COMMANDS[command], env))
    assert f"cannot load the embedding model folder {broken}" in message
    assert "To fix it, set OSPO_EMBEDDING_MODEL to a sentence-transformers model folder" in message


def test_model_name_not_cached_fails_at_once_without_the_network(env, tmp_path):
    """A hub name is used only from the local cache unless HF_HUB_OFFLINE=0: without a network the
    hub would be retried for over a minute. HF_ENDPOINT points at a closed port so that even a
    regression cannot reach the internet; it would show as a different message."""
    env |= {
        "OSPO_EMBEDDING_MODEL": "example-org/not-a-cached-model",
        "HF_HOME": str(tmp_path / "hf-cache"),  # an empty cache
        "HF_ENDPOINT": f"http://127.0.0.1:{free_port()}",
    }
    started = time.monotonic()
    message = failed_plainly(run(COMMANDS["ask"], env))
    assert "the embedding model 'example-org/not-a-cached-model' is not found locally" in message
    assert "HF_HUB_OFFLINE=0" in message and "set OSPO_EMBEDDING_MODEL to a sentence-transformers model" in message
    print(f"failed in {time.monotonic() - started:.1f}s")


# -- the knowledge folder ---------------------------------------------------------------------


def spoil_knowledge(kind: str, tmp_path: Path) -> tuple[Path, str]:
    """OSPO_KNOWLEDGE_DIR made wrong in one way; returns it and what the message must say."""
    if kind == "missing":
        return tmp_path / "no-such-folder", "does not exist"
    if kind == "a file":
        (tmp_path / "handbook.md").write_text("# A file, not a folder\n")
        return tmp_path / "handbook.md", "is a file, not a folder"
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "moved-away")
    return link, "does not exist"


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", ["missing", "a file", "a dangling link"])
def test_knowledge_folder_missing_or_not_a_folder(env, tmp_path, kind, command):
    folder, problem = spoil_knowledge(kind, tmp_path)
    env["OSPO_KNOWLEDGE_DIR"] = str(folder)
    message = failed_plainly(run(COMMANDS[command], env))
    assert f"OSPO_KNOWLEDGE_DIR (got '{folder}')" in message and problem in message
    assert "point it at the folder of markdown files" in message


def test_serving_an_empty_knowledge_folder_is_refused(env, tmp_path):
    (tmp_path / "empty").mkdir()
    env["OSPO_KNOWLEDGE_DIR"] = str(tmp_path / "empty")
    message = failed_plainly(run(COMMANDS["serve"], env))
    assert f"OSPO_KNOWLEDGE_DIR ({tmp_path / 'empty'}) holds no markdown files" in message
    assert "add the handbook's .md files there, or point OSPO_KNOWLEDGE_DIR at the folder" in message


def test_syncing_an_empty_knowledge_folder_warns(env, tmp_path):
    (tmp_path / "empty" / "drafts").mkdir(parents=True)
    (tmp_path / "empty" / "drafts" / "notes.txt").write_text("not markdown")
    env["OSPO_KNOWLEDGE_DIR"] = str(tmp_path / "empty")
    result = run(["kb", "sync", "--json"], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["documents"] == 0
    assert f"warning: no markdown files in {tmp_path / 'empty'}" in " ".join(result.stderr.split())


def drop_file_permission_override() -> None:
    """preexec_fn: root reads any file (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH); drop both from the
    bounding set so that the command, run as root, is held to file modes like anyone else."""
    if os.geteuid() != 0:
        return  # an ordinary user is held to them already
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def lock(folder: Path) -> None:
    """chmod 000, and make sure that a command started with drop_file_permission_override cannot list it."""
    folder.chmod(0)
    probe = subprocess.run(
        [sys.executable, "-c", f"import os; os.listdir({str(folder)!r})"],
        capture_output=True,
        text=True,
        preexec_fn=drop_file_permission_override,
    )
    if probe.returncode == 0 or "PermissionError" not in probe.stderr:
        folder.chmod(0o755)
        pytest.skip(f"cannot make a folder unreadable on this machine (root keeps reading it): {probe.stderr[-200:]}")


@pytest.fixture
def locked(tmp_path):
    """Folders locked by the test; opened again at the end so that pytest can clean up."""
    folders: list[Path] = []
    yield folders
    for folder in folders:
        folder.chmod(0o755)


@pytest.mark.parametrize("command", COMMANDS)
def test_unreadable_knowledge_folder_stops_with_the_fix(env, locked, command):
    knowledge = Path(env["OSPO_KNOWLEDGE_DIR"])
    locked.append(knowledge)
    lock(knowledge)
    message = failed_plainly(run(COMMANDS[command], env, preexec_fn=drop_file_permission_override))
    assert f"cannot read {knowledge} in OSPO_KNOWLEDGE_DIR (Permission denied)" in message
    assert f"give the user running ospo-bot read access to it (e.g. chmod -R a+rX {knowledge})" in message
    assert not Path(env["OSPO_DATA_DIR"]).exists()


def test_unreadable_subfolder_never_empties_the_index(env, locked):
    """A folder we cannot list looks empty to a scan: syncing then would drop its documents from
    the index, and every answer quoting them. The running bot's housekeeping (ensure_fresh, in
    its own process here) refuses instead, and the index stays whole."""
    knowledge = Path(env["OSPO_KNOWLEDGE_DIR"])
    first = run(["kb", "sync", "--json"], env)
    assert first.returncode == 0, first.stderr
    locked.append(knowledge / "using")
    lock(knowledge / "using")
    housekeeping = subprocess.run(
        [sys.executable, "-c", HOUSEKEEPING],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=drop_file_permission_override,
    )
    assert housekeeping.returncode == 1, housekeeping.stdout + housekeeping.stderr
    assert f"KnowledgeFolderError: cannot read {knowledge / 'using'}" in housekeeping.stderr
    with sqlite3.connect(Path(env["OSPO_DATA_DIR"]) / "ospo-bot.db") as db:
        assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 3
        assert db.execute("SELECT count(*) FROM chunks WHERE path = 'using/agpl.md'").fetchone()[0] == 1


HOUSEKEEPING = """
from bot.config import load_settings
from bot.search.knowledge_base import KnowledgeBase, KnowledgeFolderError

try:
    KnowledgeBase(load_settings()).ensure_fresh()
except KnowledgeFolderError as error:
    raise SystemExit(f"KnowledgeFolderError: {error}")
"""


# -- Slack settings ---------------------------------------------------------------------------


def test_serve_without_slack_settings_names_each_and_where_to_get_it(env):
    del env["SLACK_BOT_TOKEN"], env["SLACK_SIGNING_SECRET"]
    message = failed_plainly(run(COMMANDS["serve"], env))
    assert "SLACK_BOT_TOKEN is not set: install the app, then copy its Bot User OAuth Token (xoxb-...)" in message
    assert "SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify requests (Basic Information >" in message


def test_socket_mode_without_an_app_token_says_where_to_get_one(env):
    message = failed_plainly(run(["serve", "--mode", "socket"], env))
    assert "--mode socket needs SLACK_APP_TOKEN: an app-level token (xapp-...)" in message
    assert "Basic Information > App-Level Tokens" in message


def test_malformed_values_get_one_line_each_with_what_is_expected(env):
    env |= {"OSPO_CONFIDENCE_THRESHOLD": "abc", "PORT": "-1"}
    result = run(COMMANDS["serve"], env)
    failed_plainly(result)
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "Error: Invalid configuration:"
    threshold = next(line for line in lines if line.strip().startswith("OSPO_CONFIDENCE_THRESHOLD"))
    assert "(got 'abc'): Input should be a valid number" in threshold
    assert "expected a probability from 0 to 1, default 0.75; `ospo-bot kb eval --offtopic` shows" in threshold
    port = next(line for line in lines if line.strip().startswith("PORT"))
    assert "(got '-1'): Input should be greater than or equal to 1" in port
    assert "expected the HTTP port `ospo-bot serve` listens on, 1-65535, default 3000" in port
    assert not Path(env["OSPO_DATA_DIR"]).exists()


def test_a_knowledge_folder_that_becomes_unreadable_shows_in_healthz(env, locked, tmp_path, fake):
    """While serving, a folder that can no longer be read keeps the last good index (above) and
    turns /healthz degraded with the reason, so monitoring sees it; readable again, it clears."""
    from tests.conftest import start_bot, stop_bot, wait_until

    knowledge = Path(env["OSPO_KNOWLEDGE_DIR"])
    env = {**env, "OSPO_HOUSEKEEPING_SECONDS": "0.5", "SLACK_API_URL": fake.base_url}
    for name in ("PORT", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"):  # start_bot sets what the fake Slack expects
        env.pop(name)
    process, base, log_path = start_bot(env, tmp_path, preexec_fn=drop_file_permission_override)
    try:
        assert health(base)["status"] == "ok"
        locked.append(knowledge / "using")
        lock(knowledge / "using")
        wait_until(lambda: health(base)["status"] == "degraded", 30, "/healthz to report the unreadable folder")
        report = health(base)
        assert f"cannot read {knowledge / 'using'}" in report["knowledge_problem"]
        assert report["documents"] == 3  # the last good index, whole
        (knowledge / "using").chmod(0o755)
        wait_until(lambda: health(base)["status"] == "ok", 30, "/healthz to clear once the folder is readable")
        assert "knowledge_problem" not in health(base)
        assert log_path.read_text().count("knowledge not refreshed") == 1  # once, not every round
    finally:
        stop_bot(process)


def health(base: str) -> dict:
    import urllib.request

    with urllib.request.urlopen(base + "/healthz", timeout=5) as response:
        return json.loads(response.read())
