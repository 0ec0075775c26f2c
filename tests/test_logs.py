"""Secrets never reach the logs or an error message, and logs name payloads without what people
typed unless OSPO_LOG_LEVEL=DEBUG: a real `ospo-bot serve` with distinctive tokens, driven
through Slack failures (ok:false, 500s, 429, a timeout, a bad signature) and the apology path;
Socket Mode at DEBUG, where slack_sdk prints every body (the socket's ticket among them); and
configuration errors about tokens."""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from websockets.sync.server import serve as websocket_server

from bot.logs import REDACTED, RedactSecrets
from tests.conftest import SMALL_KB, bot_env, start_bot, stop_bot, write_docs
from tests.fakeslack import FakeSlack
from tests.slackkit import SIGNING_SECRET, SlackSide, dm, event, post, view_submission

BOT_TOKEN = "xoxb-31337-27182-LogsTestBotTokenValue"
APP_TOKEN = "xapp-1-A0LOGS-31415-LogsTestAppTokenValue"
TICKET = "LogsTestSocketTicket0042"
APPROVALS = "C0APPROVE"
SCRIPT = Path(sys.executable).parent / "ospo-bot"


def secrets_in(text: str) -> list[str]:
    return [name for name, value in SECRETS.items() if value in text]


SECRETS = {"bot token": BOT_TOKEN, "app token": APP_TOKEN, "signing secret": SIGNING_SECRET, "ticket": TICKET}


def in_channel(channel: str):
    return lambda args: args.get("channel") == channel


def test_logs_hold_no_secret_and_no_message_text_below_debug(tmp_path, model_name):
    """At INFO (more than the default WARNING shows): every failure is logged, by payload kind and
    id, never with the question or the justification people typed, nor with a secret."""
    fake = FakeSlack(tokens=(BOT_TOKEN,)).start()
    env = bot_env(
        tmp_path,
        fake,
        model_name,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_TIMEOUT="1",  # so that a hanging Slack times out quickly
        OSPO_LOG_LEVEL="INFO",
        OSPO_TRIAGE_CHANNEL="C0TRIAGE",
        OSPO_APPROVALS_CHANNEL=APPROVALS,
        OSPO_APPROVERS="U0APPROVER",
    )
    process, base, log = start_bot(env, tmp_path)
    slack = SlackSide(base + "/slack/events")
    typed = []  # every text a person typed

    def ask(n: int) -> str:
        text = f"LogsTestQuestion{n} how do I sign off my commits?"
        typed.append(text)
        assert slack.send_event(event(dm(text, user=f"U0LOG{n}", channel=f"D0LOG{n}")))[0] == 200
        return f"D0LOG{n}"

    try:
        fake.wait_for("chat.postMessage", where=in_channel(ask(1)))  # answered
        fake.fail("chat.postMessage", "invalid_auth", where=in_channel("D0LOG2"))
        fake.wait_for("chat.postEphemeral", where=in_channel(ask(2)))  # the apology
        fake.server_error("chat.postMessage", 500, times=3, where=in_channel("D0LOG3"))  # beyond the 2 retries
        fake.wait_for("chat.postEphemeral", where=in_channel(ask(3)))
        fake.rate_limit("chat.postMessage", retry_after=0, where=in_channel("D0LOG4"))
        fake.wait_for("chat.postMessage", ok=True, where=in_channel(ask(4)))  # retried after Retry-After
        fake.hang("chat.postMessage", 10, where=in_channel("D0LOG5"))
        fake.wait_for("chat.postEphemeral", where=in_channel(ask(5)))  # timed out: an exception, logged with its trace
        fake.clear_failures()

        forged = json.dumps(event(dm("LogsTestForged text", user="U0LOG6", channel="D0LOG6")))
        status, _ = post(base + "/slack/events", forged, "application/json", {"X-Slack-Signature": "v0=00"}, False)
        assert status == 401

        justification = "LogsTestJustification: the analytics service needs it"
        typed.append(justification)
        fake.fail("chat.postMessage", "not_in_channel", where=in_channel(APPROVALS))
        values = {
            "type": {"approval_type": {"type": "static_select", "selected_option": {"value": "exception"}}},
            "repository_url": {"value": {"type": "plain_text_input", "value": "https://github.com/mongodb/mongo"}},
            "license": {"value": {"type": "plain_text_input", "value": "SSPL"}},
            "use": {"value": {"type": "static_select", "selected_option": {"value": "saas"}}},
            "justification": {"value": {"type": "plain_text_input", "value": justification}},
        }
        assert slack.send_interaction(view_submission("approval_request", "", values, user="U0LOG7"))[0] == 200
        fake.wait_for("chat.postMessage", where=in_channel("U0LOG7"))  # the requester is told
        fake.wait_for("chat.postMessage", ok=False, where=in_channel(APPROVALS))
    finally:
        stop_bot(process)
        fake.stop()

    logged = log.read_text()
    assert "ERROR" in logged and "Traceback" in logged, "the failures were logged (else this test proves nothing)"
    assert secrets_in(logged) == []
    assert [text for text in typed if text in logged] == []
    assert "LogsTestForged" not in logged
    said = json.dumps([call.args for call in fake.calls])  # everything the bot put in front of people
    assert "Sorry, something went wrong on my side" in said
    assert secrets_in(said) == []


def test_debug_logs_show_payloads_but_never_a_token(tmp_path, model_name):
    """Socket Mode at DEBUG: slack_sdk prints every request and response body, and the answer of
    apps.connections.open holds the one-time ticket to the app's socket. What people typed may
    show at DEBUG (that is what DEBUG is for); tokens, secrets and the ticket never."""
    fake = FakeSlack(tokens=(BOT_TOKEN, APP_TOKEN)).start()
    acks: queue.Queue = queue.Queue()
    question = "LogsTestDebugQuestion how do I sign off my commits?"
    envelope = {"envelope_id": "env-1", "type": "events_api", "payload": event(dm(question, channel="D0DEBUG"))}

    def slack_socket(connection):
        connection.send(json.dumps({"type": "hello", "num_connections": 1}))
        connection.send(json.dumps(envelope))
        for message in connection:
            acks.put(json.loads(message))

    server = websocket_server(slack_socket, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake.socket_url = f"ws://127.0.0.1:{server.socket.getsockname()[1]}/link/?ticket={TICKET}&app_id=A0LOGS"
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,  # unused in Socket Mode, but configured: never shown either
        "SLACK_API_URL": fake.base_url,
        "OSPO_LOG_LEVEL": "DEBUG",
        "OSPO_KNOWLEDGE_DIR": str(write_docs(tmp_path / "knowledge", SMALL_KB)),
        "OSPO_DATA_DIR": str(tmp_path / "data"),
        "OSPO_EMBEDDING_MODEL": model_name,
        "OSPO_TRIAGE_CHANNEL": "C0TRIAGE",
    }
    log = tmp_path / "bot.log"
    with open(log, "wb") as output:
        process = subprocess.Popen([str(SCRIPT), "serve"], env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        assert acks.get(timeout=120) == {"envelope_id": "env-1"}
        fake.wait_for("chat.postMessage", where=in_channel("D0DEBUG"))
    finally:
        process.terminate()
        process.wait(timeout=20)
        server.shutdown()
        fake.stop()

    logged = log.read_text()
    assert "apps.connections.open" in logged and question in logged, "DEBUG shows requests and payloads"
    assert secrets_in(logged) == []
    assert REDACTED in logged


def test_configuration_errors_name_a_token_by_its_kind_only(tmp_path):
    """A token of the wrong kind pasted into the wrong variable is reported without its value."""
    user_token, bot_token = "xoxp-31337-LogsTestUserTokenValue", "xoxb-31337-LogsTestMisplacedBotToken"
    env = {
        **os.environ,
        "OSPO_DATA_DIR": str(tmp_path / "data"),
        "SLACK_BOT_TOKEN": user_token,
        "SLACK_APP_TOKEN": bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    }
    result = subprocess.run([str(SCRIPT), "serve"], env=env, capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "SLACK_BOT_TOKEN (got 'xoxp-...'): a bot token starts with xoxb-" in output
    assert "SLACK_APP_TOKEN (got 'xoxb-...'): an app-level token starts with xapp-" in output
    assert user_token not in output and bot_token not in output and SIGNING_SECRET not in output


def test_the_redaction_covers_arguments_exceptions_and_stacks():
    """What every handler applies (bot.logs.setup_logging): a token in a log argument, in an
    exception's text and in a stack, and a configured secret of any shape."""
    redact = RedactSecrets([SIGNING_SECRET, "short"])
    try:
        raise RuntimeError(f"auth failed for {BOT_TOKEN}")
    except RuntimeError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "calling %s with %s", None, sys.exc_info())
    record.args = (f"https://example/?ticket={TICKET}&x=1", {"token": APP_TOKEN, "secret": SIGNING_SECRET})
    record.stack_info = f"Stack (most recent call last):\n  token={BOT_TOKEN}"
    assert redact.filter(record)
    text = logging.Formatter("%(message)s").format(record)
    assert secrets_in(text) == [] and text.count(REDACTED) >= 5, text
    assert "short" not in redact.secrets  # too short to replace without mangling ordinary words


@pytest.mark.parametrize("token", ["xoxb-1-2-abc", "xoxp-1-2-abc", "xoxe.xoxp-1-abc", "xapp-1-A1-2-abc", "xoxa-2-abc"])
def test_every_kind_of_slack_token_is_redacted(token):
    assert RedactSecrets().redact(f"Bearer {token}, 'token': '{token}'") == f"Bearer {REDACTED}, 'token': '{REDACTED}'"
