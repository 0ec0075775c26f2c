"""`ospo-bot serve`: Socket Mode when SLACK_APP_TOKEN is set, else HTTP through waitress (a
production WSGI server) with Bolt's WSGI adapter on POST /slack/events and GET /healthz.

The model and index are loaded before the bot reports ready, never on a user's first question.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from contextlib import contextmanager

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.config import ConfigError
from bot.search.knowledge_base import KnowledgeFolderError
from bot.slack.app import build_app
from bot.slack.delivery import SlackDelivery
from bot.slack.functions import settle_waiting
from bot.slack.outbox import post_outbox, send_notices
from bot.wiring import Core

log = logging.getLogger(__name__)
# /healthz waits this long for the vector store, then says degraded: a probe gives up after its own
# timeout (Kubernetes: 1 s), and a hung Chroma server must not make every replica look down.
HEALTH_WAIT_SECONDS = 0.5


class Server:
    """Everything `serve` runs: the Bolt app, the scheduler, and the housekeeping loop (knowledge
    changes, policy-change notices, the approvals outbox, workflow steps to end).

    Several `serve` processes may share one data dir: each piece of housekeeping work is claimed
    first (bot/claims.py), so each notice and each outboxed request goes to Slack once."""

    def __init__(self, core: Core, client: WebClient):
        self.core, self.settings = core, core.settings
        self.app: App = build_app(core, client)
        self.scheduler = None  # bot.scheduler.Scheduler while serving
        self.knowledge_problem: str | None = None  # why the last knowledge refresh was refused

    def start_scheduler(self):
        """The weekly digest and daily reminders (bot/scheduler.py), jobs kept in the bot's database.
        An unusable schedule stops the bot here, with the variable named."""
        from bot.scheduler import Scheduler

        if self.scheduler is None:
            try:
                delivery = SlackDelivery(self.app.client, self.settings.digest_channel)
                self.scheduler = Scheduler(self.core, delivery).start()
            except ConfigError as error:
                raise SystemExit(f"Cannot start the scheduler: {error}") from None
            for job in self.scheduler.scheduler.get_jobs():
                log.info("scheduled %s: next run %s", job.name, job.next_run_time)
        return self.scheduler

    def stop_scheduler(self) -> None:
        """Stop taking new runs; a digest being sent is finished first."""
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None

    @contextmanager
    def scheduled(self):
        """The scheduler runs while the server does, and stops on exit: Ctrl-C, or SIGTERM (turned
        into SystemExit here, in the main thread, so the finally below runs)."""
        self.start_scheduler()
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        try:
            yield self.scheduler
        finally:
            self.stop_scheduler()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    def send_notices(self) -> int:
        return send_notices(self.app.client, self.core)

    def refresh_knowledge(self) -> None:
        """Pick up knowledge changes (a `kb sync` elsewhere, edited files) and queue notices.
        A folder that became unreadable keeps the index as it was and is reported by /healthz
        (logged once, not every round), so an admin sees it before the answers go stale."""
        try:
            report = self.core.kb.ensure_fresh()
        except KnowledgeFolderError as error:
            if str(error) != self.knowledge_problem:
                log.error("knowledge not refreshed, answers come from the last good index: %s", error)
            self.knowledge_problem = str(error)
            return
        self.knowledge_problem = None
        if report:
            self.core.desk.queue_notices(report)

    def post_outbox(self) -> int:
        """Post the requests approvers have not seen because Slack failed when they came in."""
        return post_outbox(self.app.client, self.core)

    def end_workflow_steps(self) -> int:
        """Workflow steps whose request was decided without them being told, or that waited too long."""
        return settle_waiting(self.app.client, self.core)

    def housekeeping(self) -> None:
        """Each step on its own: a Chroma server that is down must not hold back the outbox."""
        for step in (self.refresh_knowledge, self.send_notices, self.post_outbox, self.end_workflow_steps):
            try:
                step()
            except Exception:  # the next round tries again
                log.exception("housekeeping: %s failed", step.__name__)

    def start_housekeeping(self, every: float = 60.0) -> threading.Event:
        stop = threading.Event()

        def loop():
            while True:
                try:
                    self.housekeeping()
                except Exception:  # keep the loop alive; the next round tries again
                    log.exception("housekeeping failed")
                if stop.wait(every):
                    return

        threading.Thread(target=loop, name="housekeeping", daemon=True).start()
        return stop

    def health(self) -> dict:
        figures = self.core.kb.health(within=HEALTH_WAIT_SECONDS)
        problem = self.knowledge_problem
        return {
            "status": "degraded" if figures["degraded"] or problem else "ok",
            **figures,
            **({"knowledge_problem": problem} if problem else {}),
            "mode": "socket" if self.settings.socket_mode else "http",
        }

    def wsgi(self):
        """The WSGI application: Slack on /slack/events, health on /healthz."""
        slack = SlackRequestHandler(self.app, path="/slack/events")

        def application(environ, start_response):
            if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
                body = json.dumps(self.health()).encode()
                start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
                return [body]
            return slack(environ, start_response)

        return application

    def http_server(self, host: str, port: int):
        """waitress serving wsgi(); run() it. It waits on its sockets with poll(), not select(): select
        fails ("filedescriptor out of range") once the process holds 1,024 files and sockets, which
        a busy bot comes near (SQLite's three files per thread's connection, Chroma's, Slack's calls)."""
        from waitress.server import create_server

        return create_server(self.wsgi(), host=host, port=port, threads=8, ident="ospo-bot", asyncore_use_poll=True)

    def serve_http(self, host: str, port: int, ready: threading.Event | None = None) -> None:
        server = self.http_server(host, port)
        with self.scheduled():
            log.warning("ospo-bot ready: HTTP on http://%s:%s/slack/events", host, server.effective_port)
            print(f"ospo-bot ready: HTTP on http://{host}:{server.effective_port}/slack/events", flush=True)
            if ready:
                ready.set()
            try:
                server.run()
            finally:
                server.close()

    def serve_socket_mode(self) -> None:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        handler = SocketModeHandler(
            self.app,
            self.settings.slack_app_token,
            web_client=WebClient(token=self.settings.slack_app_token, base_url=self.settings.slack_api_url),
        )
        with self.scheduled():
            handler.connect()
            print("ospo-bot ready: Socket Mode connected", flush=True)
            try:
                threading.Event().wait()  # until the process is stopped
            finally:
                handler.close()


def _exit_on_sigterm(signum, frame):
    raise SystemExit(0)
