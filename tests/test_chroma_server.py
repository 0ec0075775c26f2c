"""Server mode: the same sync and answers through a real Chroma server (CHROMA_HOST)."""

from __future__ import annotations

import os
import signal
import socket
import threading
import uuid
from contextlib import contextmanager

import httpx

from bot.search import knowledge_base
from bot.search.chroma_http import http_client
from bot.search.index import VectorStore
from tests.conftest import free_port as free_port_for_test
from tests.conftest import start_chroma, stop_process


@contextmanager
def silent_port():
    """A port whose listener never answers: the kernel completes connections, nothing reads them
    (a hung Chroma server, or a network partition)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        yield silent.getsockname()[1]


def run_within(seconds: float, work) -> None:
    """Run work on a thread and fail if it is still running after `seconds` (a hang, not an error)."""
    running = threading.Thread(target=work, daemon=True)
    running.start()
    running.join(timeout=seconds)
    assert not running.is_alive(), f"still waiting after {seconds} s"


def test_sync_and_ask_through_a_chroma_server(make_kb, small_kb_dir, tmp_path, chroma_server):
    kb = make_kb(small_kb_dir, **chroma_server)
    # One server may serve many knowledge bases: give this test its own collection.
    kb.index._vectors = VectorStore(kb.settings, collection=f"test_{uuid.uuid4().hex[:12]}")
    assert kb.index.vectors.where.startswith("Chroma server 127.0.0.1:")
    report = kb.sync()
    assert report.added == 5 and kb.index.vectors.count() == 5
    answer = kb.ask("can we run AGPL software in our hosted service?")
    assert answer.confident and answer.sources[0].path == "using/agpl.md"
    assert not (tmp_path / "data" / "chroma").exists()  # nothing embedded on local disk

    (small_kb_dir / "using/agpl.md").unlink()
    assert kb.sync().removed == 1
    assert kb.index.vectors.count() == 4


def test_server_and_embedded_modes_rank_alike(make_kb, small_kb_dir, tmp_path, chroma_server):
    embedded = make_kb(small_kb_dir, data_dir=tmp_path / "embedded")
    served = make_kb(small_kb_dir, data_dir=tmp_path / "served", **chroma_server)
    served.index._vectors = VectorStore(served.settings, collection=f"test_{uuid.uuid4().hex[:12]}")
    embedded.sync()
    served.sync()
    for question in ("sign off my commits", "AGPL in a service", "is a typo fix trivial"):
        assert [d.path for d in embedded.search(question).documents] == [
            d.path for d in served.search(question).documents
        ]


def test_unreachable_chroma_falls_back_to_keyword_search(make_kb, small_kb_dir, tmp_path):
    """Dense search gone (no server on that port): answers come from keyword search, marked degraded."""
    from tests.conftest import free_port

    make_kb(small_kb_dir).sync()  # SQLite (and FTS) filled by an embedded-mode sync
    kb = make_kb(small_kb_dir, CHROMA_HOST="127.0.0.1", CHROMA_PORT=free_port())
    result = kb.search("Developer Certificate of Origin sign off")
    assert result.degraded
    assert result.documents[0].path == "cla/dco.md"
    answer = kb.ask("what's for lunch")
    assert answer.degraded and not answer.confident
    health = kb.health()
    assert health["degraded"] and health["vectors"] is None and health["chunks"] == 5


def test_dense_search_resumes_when_the_chroma_server_comes_back(make_kb, small_kb_dir, tmp_path):
    """The Chroma server goes away mid-run and comes back. A bot that has searched already answers
    from its copy of the vectors (bot/search/nearest.py), and health() says degraded; one that starts
    meanwhile answers from keyword search, marked degraded; dense search resumes by itself."""
    port = free_port_for_test()
    server = start_chroma(tmp_path / "chroma", port)
    try:
        kb = make_kb(small_kb_dir, CHROMA_HOST="127.0.0.1", CHROMA_PORT=port)
        kb.sync()
        assert not kb.search("sign off commits").degraded
        stop_process(server)
        from_memory = kb.search("sign off commits")
        assert not from_memory.degraded and from_memory.documents[0].path == "cla/dco.md"
        assert kb.health()["degraded"]
        started_meanwhile = make_kb(small_kb_dir, CHROMA_HOST="127.0.0.1", CHROMA_PORT=port)
        down = started_meanwhile.search("sign off commits")
        assert down.degraded and down.documents[0].path == "cla/dco.md"
        server = start_chroma(tmp_path / "chroma", port)  # same data, same address
        back = started_meanwhile.search("sign off commits")
        assert not back.degraded and back.documents[0].path == "cla/dco.md"
        assert kb.health() | {"documents": 3} == {"documents": 3, "chunks": 5, "vectors": 5, "degraded": False}
    finally:
        stop_process(server)


def test_a_chroma_server_that_stops_answering_costs_a_timeout_not_the_bot(make_kb, small_kb_dir):
    """A server that accepts connections and never answers (hung, or a network partition): with
    CHROMA_TIMEOUT_SECONDS, the question is answered from keyword search, and health() says degraded,
    instead of both waiting for ever (chromadb's own client has no timeout)."""
    make_kb(small_kb_dir).sync()  # SQLite (and FTS) filled by an embedded-mode sync
    with silent_port() as port:
        kb = make_kb(small_kb_dir, CHROMA_HOST="127.0.0.1", CHROMA_PORT=port, CHROMA_TIMEOUT_SECONDS=1)
        done: dict = {}
        # a generous bound: each request gives up after 1 s
        run_within(60, lambda: done.update(result=kb.search("sign off commits"), health=kb.health()))
    assert done["result"].degraded and done["result"].documents[0].path == "cla/dco.md"
    assert done["health"]["degraded"] and done["health"]["vectors"] is None


def test_every_request_made_while_connecting_to_chroma_times_out():
    """chromadb makes requests while its client is constructed, on two HTTP sessions (the client's,
    and an admin client's that checks the tenant and database): a server that answers the first and
    hangs on the others must cost the timeout, not hold the bot."""
    import http.server
    import json

    class IdentityOnly(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if not self.path.endswith("/auth/identity"):
                hung.wait()  # until the test ends: a server stuck on its storage
                return
            body = json.dumps({"user_id": "", "tenant": "default_tenant", "databases": ["default_database"]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    hung = threading.Event()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), IdentityOnly)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    outcome: dict = {}

    def connect():
        try:
            http_client("127.0.0.1", server.server_address[1], timeout_seconds=1)
        except Exception as error:
            outcome["error"] = error

    try:
        run_within(60, connect)
        error = outcome.get("error")  # chromadb wraps it: "Could not connect to tenant default_tenant..."
        assert isinstance(error, httpx.TimeoutException) or isinstance(error.__context__, httpx.TimeoutException)
    finally:
        hung.set()
        server.shutdown()
        server.server_close()


def test_health_checks_answer_while_the_chroma_server_hangs(make_kb, small_kb_dir):
    """/healthz's look at the vector store waits a short while (a probe has its own timeout), not the
    CHROMA_TIMEOUT_SECONDS a hung server costs: meanwhile the bot is degraded, not down."""
    make_kb(small_kb_dir).sync()
    with silent_port() as port:
        kb = make_kb(small_kb_dir, CHROMA_HOST="127.0.0.1", CHROMA_PORT=port, CHROMA_TIMEOUT_SECONDS=600)
        probes: list = []
        # far less than one Chroma request may wait (600 s)
        run_within(60, lambda: probes.extend(kb.health(within=0.1) for _ in range(3)))
    assert [p["degraded"] for p in probes] == [True, True, True] and probes[0]["chunks"] == 5


def test_health_takes_a_slow_chroma_servers_recent_count_and_says_degraded_once_it_stays_silent(
    make_kb, small_kb_dir, tmp_path, monkeypatch
):
    """A count slower than a probe may wait (a busy server) is not an outage: the count that answered
    within RECENT_COUNT_SECONDS stands in for it. A server silent for longer is degraded, and one that
    answers again is not. The server is a real one, stopped (SIGSTOP) and resumed."""
    port = free_port_for_test()
    chroma = start_chroma(tmp_path / "chroma", port)
    try:
        kb = make_kb(small_kb_dir, CHROMA_HOST="127.0.0.1", CHROMA_PORT=port, CHROMA_TIMEOUT_SECONDS=600)
        kb.sync()
        assert kb.health(within=30) == {"documents": 3, "chunks": 5, "vectors": 5, "degraded": False}
        os.kill(chroma.pid, signal.SIGSTOP)
        try:
            slow = kb.health(within=0.1)  # its count waits for the server
            assert (slow["vectors"], slow["degraded"]) == (5, False)
            monkeypatch.setattr(knowledge_base, "RECENT_COUNT_SECONDS", 0.0)  # as if silent for longer
            silent = kb.health(within=0.1)
            assert (silent["vectors"], silent["degraded"]) == (None, True)
        finally:
            os.kill(chroma.pid, signal.SIGCONT)
        back = kb.health(within=30)  # the count that waited answers
        assert (back["vectors"], back["degraded"]) == (5, False)
    finally:
        stop_process(chroma)
