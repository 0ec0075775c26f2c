"""Socket Mode start-up: `ospo-bot serve` with SLACK_APP_TOKEN asks apps.connections.open for a
socket URL, connects to a local WebSocket server standing in for Slack's, acks an event
envelope and answers the DM through the Web API."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

from websockets.sync.server import serve as websocket_server

from tests.conftest import SMALL_KB, write_docs
from tests.fakeslack import BOT_TOKEN, FakeSlack
from tests.slackkit import DM, dm, event

APP_TOKEN = "xapp-1-test-app-token"


def test_socket_mode_connects_acks_and_answers(tmp_path, model_name):
    fake = FakeSlack(tokens=(BOT_TOKEN, APP_TOKEN)).start()
    received: queue.Queue = queue.Queue()
    envelope = {
        "envelope_id": "env-1",
        "type": "events_api",
        "accepts_response_payload": False,
        "payload": event(dm("how do I sign off my commits?")),
    }

    def slack_socket(connection):
        connection.send(json.dumps({"type": "hello", "num_connections": 1}))
        connection.send(json.dumps(envelope))
        for message in connection:  # the bot's acks
            received.put(json.loads(message))

    server = websocket_server(slack_socket, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake.socket_url = f"ws://127.0.0.1:{server.socket.getsockname()[1]}/link"
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": fake.base_url,
        "OSPO_KNOWLEDGE_DIR": str(write_docs(tmp_path / "kb", SMALL_KB)),
        "OSPO_DATA_DIR": str(tmp_path / "data"),
        "OSPO_EMBEDDING_MODEL": model_name,
    }
    env.pop("SLACK_SIGNING_SECRET", None)  # Socket Mode needs none
    log = tmp_path / "bot.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "ospo-bot"), "serve"], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        ack = received.get(timeout=120)
        assert ack == {"envelope_id": "env-1"}
        answer = fake.wait_for("chat.postMessage", where=lambda a: a.get("channel") == DM)[0]
        assert "git commit -s" in json.dumps(answer["blocks"])
        assert fake.calls_to("apps.connections.open"), "asked Slack for a socket URL"
        assert "Socket Mode connected" in log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=20)
        server.shutdown()
        fake.stop()
