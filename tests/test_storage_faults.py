"""Storage faults, injected for real: another process holding SQLite's write lock, a full disk (a
small tmpfs filled up), a read-only data folder (a read-only bind mount), and kill -9 in the
middle of `kb sync` and of a decision. Each must end in a clear error that says what to do, or in a
state the next run repairs or carries on from: never a traceback, never a half-applied write.

Mounting needs root. As root the mounts are made here; otherwise test_mounts_in_a_user_namespace
runs those tests again inside `unshare -r -m` (root of its own mounts), or says why it cannot."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.approvals import Approvals
from bot.licenses import default_policy_path, load_policy
from bot.search.documents import file_hash, knowledge_files, read_document
from bot.search.index import chunk_hash
from bot.storage import sqlite as store
from bot.store import ThreadLocalDB, open_db, storage_error
from tests.approval_data import TRIVIAL
from tests.conftest import SMALL_KB, bot_env, start_bot, stop_bot, write_docs
from tests.fakeslack import FakeSlack
from tests.slackkit import SlackSide, dm, event

REPO = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "ospo-bot"
POLICY = load_policy(default_policy_path())
APPROVER, OTHER_APPROVER, REQUESTER = "U0APPROVER", "U0APPROVER2", "U0REQUESTER"
APPROVERS = frozenset({APPROVER, OTHER_APPROVER})
PENDING_FORM = TRIVIAL | {"change_kind": "feature", "description": "Add a --json flag."}  # a feature: pending
MOUNT_TESTS = "full_disk or read_only"  # -k expression: the tests that mount

# -------------------------------------------------------------------------------- helpers


def run_cli(env: dict, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """The real `ospo-bot` script, as its own process."""
    full_env = {**os.environ, **{k: str(v) for k, v in env.items()}}
    return subprocess.run([str(SCRIPT), *args], env=full_env, capture_output=True, text=True, timeout=timeout, cwd=REPO)


# Fault injection into a real `ospo-bot` process: chromadb's Collection.upsert and every sqlite3
# connection are wrapped (library code, not ours), then the command runs as usual.
INJECT = r"""
import os, signal, sqlite3, sys
from pathlib import Path
from chromadb.api.models.Collection import Collection

fault, argument, *command = sys.argv[1:]
if fault == "no-model":  # the command must not get as far as loading the embedding model
    sys.modules["sentence_transformers"] = None
upserts = chunk_commits = 0
wrote_chunks = False
real_upsert, real_connect = Collection.upsert, sqlite3.connect

def upsert(self, *args, **kwargs):
    global upserts
    upserts += 1
    if fault == "fill-before-vectors" and upserts == 1:
        from tests.test_storage_faults import fill_disk
        fill_disk(Path(argument))
    result = real_upsert(self, *args, **kwargs)
    if fault == "fill-after-vectors" and upserts == 1:
        from tests.test_storage_faults import fill_disk
        fill_disk(Path(argument))
    if fault == "kill-after-vectors" and upserts == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return result

def connect(*args, **kwargs):
    connection = real_connect(*args, **kwargs)

    def traced(sql):  # counts the commits of transactions that wrote chunks (sqlite_utils' upsert)
        global chunk_commits, wrote_chunks
        if sql.startswith('INSERT INTO "chunks"'):
            wrote_chunks = True
        elif sql in ("COMMIT", "ROLLBACK"):
            chunk_commits += wrote_chunks and sql == "COMMIT"
            wrote_chunks = False
            if fault == "kill-at-chunks-commit" and chunk_commits == int(argument):
                os.kill(os.getpid(), signal.SIGKILL)  # before this COMMIT runs

    connection.set_trace_callback(traced)
    return connection

Collection.upsert, sqlite3.connect = upsert, connect
sys.argv = ["ospo-bot", *command]
from bot.cli import main
main()
"""


def run_injected(env: dict, fault: str, argument: str, *args: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **{k: str(v) for k, v in env.items()}}
    return subprocess.run(
        [sys.executable, "-c", INJECT, fault, argument, *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
    )


def assert_clear_error(result: subprocess.CompletedProcess, *phrases: str) -> None:
    """Exit 1, no traceback, and the message says each phrase (compared with whitespace squeezed)."""
    said = " ".join(result.stderr.split())
    assert result.returncode == 1, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    for phrase in phrases:
        assert " ".join(phrase.split()) in said, said


def check_database(path: Path) -> None:
    """A fresh connection (as the next start) finds the file whole: pages, FTS index, foreign keys."""
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "chunks_fts" in tables:  # raises if the full-text index disagrees with the chunks
            connection.execute("INSERT INTO chunks_fts (chunks_fts) VALUES ('integrity-check')")
    finally:
        connection.close()


def dump(path: Path, *tables: str) -> dict[str, list]:
    connection = sqlite3.connect(path)
    try:
        return {t: sorted(map(repr, connection.execute(f"SELECT * FROM {t}"))) for t in tables}
    finally:
        connection.close()


HOLD_LOCK = r"""
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('lock-holder', 'was here')")
print("locked", flush=True)
sys.stdin.readline()
if sys.argv[2] == "migrate":  # as another process upgrading the same file would
    import sqlite_utils
    from bot.storage.sqlite import MIGRATIONS
    MIGRATIONS[-1](sqlite_utils.Database(connection))
    connection.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
connection.execute("COMMIT")
print("released", flush=True)
"""


class LockHolder:
    """Another process holding SQLite's write lock on `path` (BEGIN IMMEDIATE) until release()."""

    def __init__(self, path: Path, then: str = "commit"):
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, str(path), then],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        assert self.process.stdout.readline().strip() == "locked"

    def release(self) -> None:
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "released"
        assert self.process.wait(timeout=30) == 0

    def __enter__(self) -> LockHolder:
        return self

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def fill_disk(disk: Path) -> Path:
    """Write a file until the file system holding `disk` has no space left (ENOSPC); delete it to free the space."""
    filler = disk / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (1 << 16, 1 << 12):  # big writes, then pages: nothing left over
            while True:
                try:
                    os.write(descriptor, b"\0" * size)
                except OSError as error:
                    if error.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(descriptor)
    return filler


def mount(arguments: list[str]) -> None:
    """`mount ARGUMENTS` (root only: test_mounts_in_a_user_namespace runs these tests for everyone else)."""
    if os.geteuid() != 0:
        pytest.skip("mounting needs root; test_mounts_in_a_user_namespace runs this test in a user namespace")
    mounted = subprocess.run(["mount", *arguments], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount here ({mounted.stderr.decode().strip()}): run as root with CAP_SYS_ADMIN")


def unmount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], capture_output=True)  # -l: even while a connection is open


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    mount(["-t", "tmpfs", "-o", "size=32m", "tmpfs", str(disk)])
    yield disk
    unmount(disk)


def test_mounts_in_a_user_namespace(tmp_path):
    """Not root: run the mount tests again where we are root of our own mounts (unshare -r -m)."""
    if os.geteuid() == 0:
        pytest.skip("running as root: the mount tests mount directly")
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-r", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("the full-disk and read-only tests need root or user namespaces (unshare -r -m); neither works")
    inner = subprocess.run(
        [unshare, "-r", "-m", sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider"]
        + [f"--basetemp={tmp_path / 'inner'}", __file__, "-k", MOUNT_TESTS],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=900,
    )
    assert inner.returncode == 0, inner.stdout[-5000:] + inner.stderr[-2000:]


# -------------------------------------------------------------- a synced knowledge base to copy

V2_EDITS = {  # an edited section, a new section, a new document; using/agpl.md is deleted
    "contributing/trivial.md": SMALL_KB["contributing/trivial.md"].replace(
        "A typo fix, a documentation fix or a bug fix of at most 100 changed lines is trivial.",
        "Nothing is trivial any more: every outside contribution needs a ticket in the OSPO queue first.",
    )
    + """
        ## Security fixes

        Security fixes to outside projects go through the product security team before anything is public.
        """,
    "release/naming.md": """
        # Naming a released project

        ## Trademarks

        A released project must not use a company trademark in its name without Legal's written approval.
        """,
}


def edit_to_v2(knowledge: Path) -> None:
    write_docs(knowledge, V2_EDITS)
    (knowledge / "using/agpl.md").unlink()


@pytest.fixture(scope="module")
def synced(tmp_path_factory, model_name) -> Path:
    """SMALL_KB synced by a real `ospo-bot kb sync` that has exited (so its Chroma files are closed):
    each test copies it instead of syncing (the model takes seconds to load in a new process)."""
    folder = tmp_path_factory.mktemp("synced")
    knowledge = write_docs(folder / "knowledge", SMALL_KB)
    env = {"OSPO_KNOWLEDGE_DIR": knowledge, "OSPO_DATA_DIR": folder / "data", "OSPO_EMBEDDING_MODEL": model_name}
    result = run_cli(env, "kb", "sync")
    assert result.returncode == 0, result.stderr
    return folder


def copy_synced(synced: Path, knowledge: Path, data: Path, model_name: str) -> dict:
    shutil.copytree(synced / "knowledge", knowledge)
    shutil.copytree(synced / "data", data)
    return {"OSPO_KNOWLEDGE_DIR": knowledge, "OSPO_DATA_DIR": data, "OSPO_EMBEDDING_MODEL": model_name}


def folder_chunks(knowledge: Path) -> dict:
    return {c.id: c for path in knowledge_files(knowledge) for c in read_document(path, knowledge).chunks}


def assert_nothing_half_written(db_path: Path, knowledge: Path, model: str) -> None:
    """Every document SQLite takes as up to date (its file hash) has exactly that file's chunks, as they
    are now: the next sync skips such a document, so a hash without its chunks would stay wrong."""
    connection = sqlite3.connect(db_path)
    try:
        for path, stored_hash in connection.execute("SELECT path, file_hash FROM documents"):
            file = knowledge / path
            if not file.exists() or file_hash(file.read_bytes()) != stored_hash:
                continue  # the next sync reads it again
            expected = {c.id: chunk_hash(c, model) for c in read_document(file, knowledge).chunks}
            rows = connection.execute("SELECT id, content_hash FROM chunks WHERE path = ?", [path])
            assert dict(rows.fetchall()) == expected, f"{path} is marked synced but its chunks are not"
    finally:
        connection.close()


def assert_index_matches_folder(kb) -> None:
    """SQLite and Chroma hold exactly the folder's sections as they are now, each vector made from its
    section's text (a stale vector under a right id counts as wrong), and every section is found."""
    expected = folder_chunks(kb.settings.knowledge_dir)
    model = kb.index.embedder.name
    rows = {r["id"]: r for r in kb.db["chunks"].rows}
    assert set(rows) == set(expected)
    assert {r["path"]: r["file_hash"] for r in kb.db["documents"].rows} == {
        p.relative_to(kb.settings.knowledge_dir).as_posix(): file_hash(p.read_bytes())
        for p in knowledge_files(kb.settings.knowledge_dir)
    }
    for chunk_id, chunk in expected.items():
        assert (rows[chunk_id]["text"], rows[chunk_id]["content_hash"]) == (chunk.text, chunk_hash(chunk, model))
    stored = kb.index.vectors.collection.get(include=["embeddings"])
    assert set(stored["ids"]) == set(expected)
    fresh = dict(zip(expected, kb.index.embedder.encode([c.embedded_text() for c in expected.values()]), strict=True))
    for chunk_id, vector in zip(stored["ids"], stored["embeddings"], strict=True):
        similarity = sum(a * b for a, b in zip(vector, fresh[chunk_id], strict=True))
        assert similarity > 0.999, f"the vector of {chunk_id} was made from other text ({similarity:.4f})"
        assert kb.index.vectors.query(fresh[chunk_id], 1)[0][0] == chunk_id
    assert not kb.index.is_stale()
    check_database(kb.settings.db_path)


def to_repair(kb) -> int:
    """How many chunks the next sync's repair must fix: vectors SQLite does not list, chunks without
    their vector, and vectors made from other content than the chunk SQLite holds."""
    ledger = {r["id"]: r["content_hash"] for r in kb.db["chunks"].rows}
    present = kb.index.vectors.hashes()
    orphans = set(present) - set(ledger)
    missing = set(ledger) - set(present)
    stale = {i for i in set(ledger) & set(present) if present[i] != ledger[i]}
    return len(orphans) + len(missing) + len(stale)


# ------------------------------------------------------------------------------ SQLite busy


def pending_request(approvals: Approvals):
    request = approvals.submit(REQUESTER, "contribute", PENDING_FORM)
    assert request.state == "pending"
    return request


def test_a_write_waits_while_another_process_holds_the_lock_briefly(tmp_path):
    path = tmp_path / "data" / "ospo-bot.db"
    connections = ThreadLocalDB(path)
    approvals = Approvals(connections.get, POLICY)
    request = pending_request(approvals)
    waiting, outcome = threading.Event(), {}

    def decide():
        connections.get().conn.set_trace_callback(lambda sql: sql.startswith("BEGIN") and waiting.set())
        try:
            outcome["request"] = approvals.decide(request.id, APPROVER, "approve", approvers=APPROVERS)
        except Exception as error:  # noqa: BLE001 (asserted below)
            outcome["error"] = error

    with LockHolder(path) as holder:
        decider = threading.Thread(target=decide)
        decider.start()
        assert waiting.wait(30), "the decision never started"
        holder.release()  # well inside the busy timeout
        decider.join(30)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["request"].state == "approved" == approvals.replay(request.id)
    check_database(path)


def test_start_up_waits_while_another_process_migrates_and_migrates_once(tmp_path, monkeypatch):
    path = tmp_path / "data" / "ospo-bot.db"
    monkeypatch.setattr(store, "MIGRATIONS", store.MIGRATIONS[:-1])
    open_db(path).conn.close()  # a database one version behind, as after an upgrade of ospo-bot
    monkeypatch.undo()
    waiting, outcome = threading.Event(), {}
    migrate = store.migrate

    def watched_migrate(db):  # only watches: tells the test when this process starts to write
        db.conn.set_trace_callback(lambda sql: sql.startswith("BEGIN") and waiting.set())
        return migrate(db)

    monkeypatch.setattr(store, "migrate", watched_migrate)

    def start():
        try:
            db = open_db(path)
            outcome["version"] = db.execute("PRAGMA user_version").fetchone()[0]
            db.conn.close()
        except Exception as error:  # noqa: BLE001 (asserted below)
            outcome["error"] = error

    with LockHolder(path, then="migrate") as holder:  # another process upgrading the same file
        opener = threading.Thread(target=start)
        opener.start()
        assert waiting.wait(30), "start-up never tried to migrate"
        holder.release()
        opener.join(30)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["version"] == len(store.MIGRATIONS)
    check_database(path)


def test_a_lock_held_past_the_busy_timeout_stops_kb_sync_with_what_to_do(synced, tmp_path, model_name):
    env = copy_synced(synced, tmp_path / "knowledge", tmp_path / "data", model_name)
    db = tmp_path / "data" / "ospo-bot.db"
    before = dump(db, "documents", "chunks")
    with LockHolder(db) as holder:
        listed = run_cli(env, "requests", "list")  # WAL: readers are not kept waiting by a writer
        result = run_cli(env, "kb", "sync")
        holder.release()
    assert listed.returncode == 0, listed.stderr
    assert_clear_error(
        result,
        f"the database {db} is locked by another process",
        "retry, or stop the other ospo-bot process",
    )
    assert dump(db, "documents", "chunks") == before
    check_database(db)
    again = run_cli(env, "kb", "sync", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["unchanged"] == 5, again.stderr


def test_a_question_while_the_database_is_locked_gets_an_apology_then_answers_resume(tmp_path, model_name):
    fake = FakeSlack().start()
    process, base, log = start_bot(bot_env(tmp_path, fake, model_name), tmp_path)
    try:
        slack, user, channel = SlackSide(base + "/slack/events"), "U0LOCKED1", "D0LOCKED1"
        with LockHolder(tmp_path / "data" / "ospo-bot.db") as holder:
            status, _ = slack.send_event(event(dm("how do I sign off my commits?", user=user, channel=channel)))
            apology = fake.wait_for("chat.postEphemeral", where=lambda a: a.get("user") == user, timeout=60)[-1]
            holder.release()
        assert "Sorry" in apology["text"]
        assert not [a for a in fake.calls_to("chat.postMessage") if a.get("channel") == channel]
        slack.send_event(event(dm("how do I sign off my commits?", user=user, channel=channel)))
        answer = fake.wait_for("chat.postMessage", where=lambda a: a.get("channel") == channel, timeout=60)[-1]
        assert "git commit -s" in json.dumps(answer)
    finally:
        stop_bot(process)
        fake.stop()
    check_database(tmp_path / "data" / "ospo-bot.db")


# ------------------------------------------------------------------------------- full disk


@pytest.mark.parametrize("when", ["before-start", "fill-before-vectors", "fill-after-vectors"])
def test_a_full_disk_stops_kb_sync_with_what_to_do_and_the_next_sync_completes(
    when, synced, small_disk, tmp_path, make_kb, model_name
):
    knowledge, data = tmp_path / "knowledge", small_disk / "data"
    env = copy_synced(synced, knowledge, data, model_name)
    edit_to_v2(knowledge)
    if when == "before-start":
        fill_disk(small_disk)
        result = run_cli(env, "kb", "sync")
    else:  # the disk fills up during the sync: before Chroma is written, or between Chroma and SQLite
        result = run_injected(env, when, str(small_disk), "kb", "sync")
    assert_clear_error(result, f"the disk holding OSPO_DATA_DIR ({data}) is full", "free some space and retry")
    (small_disk / "filler").unlink()
    check_database(data / "ospo-bot.db")
    assert_nothing_half_written(data / "ospo-bot.db", knowledge, model_name)
    kb = make_kb(knowledge, data)
    broken = to_repair(kb)
    assert kb.sync().repaired == broken
    assert_index_matches_folder(kb)


def test_a_decision_on_a_full_disk_fails_whole_and_is_made_once_there_is_space(small_disk):
    path = small_disk / "data" / "ospo-bot.db"
    connections = ThreadLocalDB(path)
    approvals = Approvals(connections.get, POLICY)
    request = pending_request(approvals)
    # An empty WAL, as after a checkpoint: the decision needs new space on the disk.
    connections.get().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    filler = fill_disk(small_disk)
    with pytest.raises(sqlite3.OperationalError) as failure:
        approvals.decide(request.id, APPROVER, "approve", approvers=APPROVERS)
    problem = storage_error(failure.value, path.parent)
    assert problem is not None and f"the disk holding OSPO_DATA_DIR ({path.parent}) is full" in str(problem)
    assert approvals.get(request.id).state == "pending" and len(approvals.events(request.id)) == 1
    filler.unlink()
    assert approvals.decide(request.id, APPROVER, "approve", approvers=APPROVERS).state == "approved"
    assert approvals.replay(request.id) == "approved" and len(approvals.events(request.id)) == 2
    connections.get().conn.close()
    check_database(path)


# ------------------------------------------------------------------------- read-only data dir


@pytest.fixture(scope="module")
def read_only_data(tmp_path_factory):
    """(a folder with a data folder in it, the same seen through a read-only bind mount)."""
    folder = tmp_path_factory.mktemp("read-only")
    writable, view = folder / "writable", folder / "view"
    open_db(writable / "data" / "ospo-bot.db").conn.close()
    view.mkdir()
    mount(["--bind", str(writable), str(view)])
    mount(["-o", "remount,ro,bind", str(view)])
    yield writable, view
    unmount(view)


@pytest.mark.parametrize(
    "command, folder, in_use",
    [
        (["ask", "what counts as trivial?"], "data", False),
        (["kb", "sync"], "data", False),
        (["serve", "--mode", "http"], "data", False),
        (["kb", "sync"], "data/not-made-yet", False),
        # Another process has the database open (its -shm and -wal exist): SQLite would open it read-only.
        (["ask", "what counts as trivial?"], "data", True),
    ],
    ids=["ask", "kb-sync", "serve", "kb-sync-new-folder", "ask-while-in-use"],
)
def test_a_read_only_data_dir_stops_start_up_with_what_to_do(
    command, folder, in_use, read_only_data, tmp_path, model_name
):
    writable, view = read_only_data
    data = view / folder
    env = {
        "OSPO_KNOWLEDGE_DIR": write_docs(tmp_path / "knowledge", SMALL_KB),
        "OSPO_DATA_DIR": data,
        "OSPO_EMBEDDING_MODEL": model_name,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": "test-secret",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",  # nothing there: `serve` must stop before it talks to Slack
    }
    other = sqlite3.connect(writable / "data" / "ospo-bot.db") if in_use else None
    try:
        if other:
            other.execute("SELECT count(*) FROM meta").fetchall()
        # "no-model": loading the model crashes, so the command must stop before it gets that far.
        result = run_injected(env, "no-model", "", *command)
    finally:
        if other:
            other.close()
    assert_clear_error(
        result,
        f"OSPO_DATA_DIR ({data}) is read-only",
        "make it writable, or set OSPO_DATA_DIR to a writable folder",
    )


# ----------------------------------------------------------------------- kill -9 mid kb sync


@pytest.mark.parametrize(
    "fault, argument, revert",
    [
        ("kill-after-vectors", "", True),  # Chroma has the edit, SQLite not; then the edit is undone
        ("kill-at-chunks-commit", "2", False),  # the first changed document committed, the second lost
    ],
    ids=["after-vectors-then-reverted", "second-document-lost"],
)
def test_kill_9_in_the_middle_of_kb_sync_is_repaired_by_the_next_sync(
    fault, argument, revert, synced, tmp_path, make_kb, model_name
):
    knowledge, data = tmp_path / "knowledge", tmp_path / "data"
    env = copy_synced(synced, knowledge, data, model_name)
    edit_to_v2(knowledge)
    killed = run_injected(env, fault, argument, "kb", "sync")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    if revert:
        write_docs(knowledge, {"contributing/trivial.md": SMALL_KB["contributing/trivial.md"]})
    check_database(data / "ospo-bot.db")
    assert_nothing_half_written(data / "ospo-bot.db", knowledge, model_name)
    kb = make_kb(knowledge, data)  # the next start
    broken = to_repair(kb)
    assert broken > 0, "the kill should leave Chroma ahead of SQLite"
    assert kb.sync().repaired == broken
    assert_index_matches_folder(kb)


# -------------------------------------------------------------------- kill -9 mid decision

DECIDE_AND_DIE = r"""
import os, signal, sqlite3, sys
path, request_id, action, kill_at = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
steps, deciding = 0, False
real_connect = sqlite3.connect

def connect(*args, **kwargs):
    connection = real_connect(*args, **kwargs)

    def traced(sql):
        global deciding
        deciding = deciding or sql.startswith("BEGIN IMMEDIATE")

    def step():  # every SQLite VM instruction from the decision's BEGIN IMMEDIATE on
        global steps
        if deciding:
            steps += 1
            if steps == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        return 0

    connection.set_trace_callback(traced)
    connection.set_progress_handler(step, 1)
    return connection

sqlite3.connect = connect
from bot.approvals import Approvals
from bot.licenses import default_policy_path, load_policy
from bot.store import ThreadLocalDB

approvals = Approvals(ThreadLocalDB(path).get, load_policy(default_policy_path()))
approvals.decide(request_id, sys.argv[5], action, reason="checked", approvers={sys.argv[5]})
print(steps)
"""


def decide_in_process(path: Path, request_id: int, action: str, kill_at: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", DECIDE_AND_DIE, str(path), str(request_id), action, str(kill_at), APPROVER],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


@pytest.mark.parametrize(
    "action, before, after, events_before",
    [("approve", "pending", "approved", 1), ("reopen", "approved", "pending", 2)],
)
def test_kill_9_in_the_middle_of_a_decision_leaves_it_whole_or_not_made(action, before, after, events_before, tmp_path):
    path = tmp_path / "data" / "ospo-bot.db"
    with restarted(path) as approvals:
        requests = []
        for _ in range(16):
            request = pending_request(approvals)
            if before == "approved":
                request = approvals.decide(request.id, OTHER_APPROVER, "approve", approvers=APPROVERS)
            requests.append(request)
    calibration = decide_in_process(path, requests[0].id, action, kill_at=0)  # not killed: counts the steps
    assert calibration.returncode == 0, calibration.stderr
    steps = int(calibration.stdout.split()[-1])
    kill_points = sorted({1, 2, 3, steps - 2, steps - 1, steps} | {steps * k // 10 for k in range(1, 10)})
    outcomes = set()
    for request, kill_at in zip(requests[1:], kill_points, strict=False):
        killed = decide_in_process(path, request.id, action, kill_at)
        assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stderr)
        state = state_after_restart(path, request.id)
        with restarted(path) as approvals:
            new = approvals.events(request.id)[events_before:]
            if state == before:
                assert new == [], f"killed at step {kill_at}: events without the decision"
                outcomes.add("not made")
                made = approvals.decide(request.id, APPROVER, action, reason="again", approvers=APPROVERS)
                assert made.state == after == approvals.replay(request.id)  # it can then be made normally
            else:
                assert state == after, f"killed at step {kill_at}: {state}"
                assert [e.actor for e in new] == [APPROVER] * len(new) and new[-1].to_state == after
                outcomes.add("whole")
    assert outcomes == {"not made", "whole"}, "the kill points should fall both before and after the commit"


@contextmanager
def restarted(path: Path) -> Iterator[Approvals]:
    """Approvals over a new connection, as after a restart."""
    db = open_db(path)
    try:
        yield Approvals(lambda: db, POLICY)
    finally:
        db.conn.close()


def state_after_restart(path: Path, request_id: int) -> str:
    """The stored state, read by a fresh connection before and after a checkpoint folds the WAL in:
    both must agree (the WAL holds only whole transactions), and the audit trail must replay to it."""
    with restarted(path) as approvals:
        state = approvals.get(request_id).state
        assert approvals.replay(request_id) == state
        approvals.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    check_database(path)
    again = sqlite3.connect(path)
    try:
        assert again.execute("SELECT state FROM approval_requests WHERE id = ?", [request_id]).fetchone()[0] == state
    finally:
        again.close()
    return state


def test_many_writers_in_one_process_take_turns_instead_of_timing_out(tmp_path, monkeypatch):
    """Overload: dozens of threads write at once, each on its own connection. They queue on the
    process's writer lock, so none waits out SQLite's busy timeout (made 1 ms here so that polling
    for the lock, as SQLite's busy handler does, would fail at once)."""
    monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 1)
    path = tmp_path / "ospo-bot.db"
    open_db(path)  # migrated once
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        db = open_db(path)
        try:
            for i in range(40):
                with db.writing():
                    db.execute(
                        "INSERT INTO bot_threads (channel, thread_ts, at) VALUES (?, ?, ?)", [f"C{n}", f"{i}.0", "now"]
                    )
        except sqlite3.OperationalError as error:
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert open_db(path).execute("SELECT count(*) FROM bot_threads").fetchone()[0] == 16 * 40
