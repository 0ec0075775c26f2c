"""`ospo-bot serve`: Socket Mode when SLACK_APP_TOKEN is set, else HTTP through waitress (a
production WSGI server) with Bolt's WSGI adapter on POST /slack/events and GET /healthz.

The model and index are loaded before the bot reports ready, never on a user's first question.
"""

from __future__ import annotations

import json
import logging
import threading

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.helpdesk import HelpDesk
from bot.slack import blocks
from bot.slack.app import build_app

log = logging.getLogger(__name__)


class Bot:
    """Everything `serve` runs: the help desk, the Bolt app, and the notice sender."""

    def __init__(self, settings: Settings, desk: HelpDesk):
        self.settings = settings
        self.desk = desk
        self.app: App = build_app(settings, desk)

    def send_notices(self) -> int:
        """DM everyone whose quoted policy changed; each notice is sent once."""
        sent = 0
        for notice in self.desk.pending_notices():
            try:
                self.app.client.chat_postMessage(
                    channel=notice.user,
                    text="The policy I quoted you has changed.",
                    blocks=blocks.notice_blocks(notice),
                )
            except SlackApiError as error:
                log.warning("policy-change notice %s not delivered: %s", notice.id, error.response.get("error"))
                continue
            self.desk.notice_sent(notice.id)
            sent += 1
        return sent

    def housekeeping(self) -> None:
        """Pick up knowledge changes (a `kb sync` elsewhere, edited files) and send notices."""
        report = self.desk.kb.ensure_fresh()
        if report:
            self.desk.queue_notices(report)
        self.send_notices()

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
        kb = self.desk.kb
        return {
            "status": "ok",
            "documents": kb.db["documents"].count,
            "chunks": kb.db["chunks"].count,
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

    def serve_http(self, host: str, port: int, ready: threading.Event | None = None) -> None:
        from waitress.server import create_server

        server = create_server(self.wsgi(), host=host, port=port, threads=8, ident="ospo-bot")
        log.warning("ospo-bot ready: HTTP on http://%s:%s/slack/events", host, server.effective_port)
        print(f"ospo-bot ready: HTTP on http://{host}:{server.effective_port}/slack/events", flush=True)
        if ready:
            ready.set()
        server.run()

    def serve_socket_mode(self) -> None:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        handler = SocketModeHandler(
            self.app,
            self.settings.slack_app_token,
            web_client=WebClient(token=self.settings.slack_app_token, base_url=self.settings.slack_api_url),
        )
        handler.connect()
        print("ospo-bot ready: Socket Mode connected", flush=True)
        threading.Event().wait()  # until the process is stopped
