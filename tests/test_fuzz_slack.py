"""Fuzzing the Slack entry points: arbitrary text in every field people control, and payloads
with parts missing, dispatched to the real Bolt app (real listeners, real core, real SQLite and
model) talking to the fake Slack. Nothing may raise past our handlers: a failure reaching the
error handler is a failure here, because in production it would be an apology instead of an
answer."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_bolt import BoltRequest

from bot.config import load_settings
from bot.slack.app import build_app
from bot.wiring import Core
from tests.conftest import SMALL_KB, write_docs
from tests.fakeslack import BOT_TOKEN, FakeSlack
from tests.slackkit import block_action, channel_message, command, dm, event, mention, view_submission

TEXT = st.text(max_size=300) | st.sampled_from(
    [
        "",
        " ",
        "<!channel>",
        "<@U123|x>",
        "```code```",
        "🙂" * 50,
        "x" * 5000,
        "OSPO-0",
        "ospo-99999999999",
        "approve",
        "status OSPO-1",
        "cancel #1",
        "ask",
        "help",
        "\x00",
        "%s%n",
        "' OR 1=1 --",
    ]
)
IDS = st.text(alphabet="0123456789-ospOSP#x ", max_size=20) | st.sampled_from(
    ["99999999999999999999", "-1", "0", "9223372036854775808", "1e3", " 7 "]
)  # 20 digits overflowed SQLite once


@pytest.fixture(scope="module")
def slack_app(tmp_path_factory, model_name):
    folder = tmp_path_factory.mktemp("fuzz")
    fake = FakeSlack().start()
    config = load_settings(
        OSPO_KNOWLEDGE_DIR=write_docs(folder / "kb", SMALL_KB),
        OSPO_DATA_DIR=folder / "data",
        OSPO_EMBEDDING_MODEL=model_name,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=fake.base_url,
        OSPO_TRIAGE_CHANNEL="C0TRIAGE",
        OSPO_APPROVALS_CHANNEL="C0APPROVE",
        OSPO_APPROVERS="U0ASKER1",
    )
    config.slack_signing_secret = None  # requests below are dispatched in-process, unsigned
    core = Core(config.model_copy(update={"slack_app_token": "xapp-1"})).build_all()
    core.kb.sync()
    app = build_app(core, process_before_response=True)
    failures: list[BaseException] = []

    @app.error
    def record(error):
        failures.append(error)

    yield app, failures, fake
    fake.stop()


def dispatch(app, body: dict | str, form: bool = False):
    raw = urlencode(body) if form else json.dumps(body)
    headers = {"content-type": ["application/x-www-form-urlencoded" if form else "application/json"]}
    return app.dispatch(BoltRequest(body=raw, headers=headers, mode="socket_mode"))


FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(text=TEXT)
def test_messages_and_mentions(slack_app, text):
    app, failures, _ = slack_app
    failures.clear()
    for inner in (dm(text), mention(text), channel_message(text, channel="C0TRIAGE", thread_ts="1.1")):
        dispatch(app, event(inner))
    assert failures == []


@FUZZ
@given(text=TEXT)
def test_slash_commands(slack_app, text):
    app, failures, fake = slack_app
    failures.clear()
    dispatch(app, command(text, fake.response_url("fuzz")), form=True)
    assert failures == []


@FUZZ
@given(
    action=st.sampled_from(
        [
            "feedback_up",
            "feedback_down",
            "escalate",
            "share",
            "resolve",
            "save_knowledge",
            "digest_answer",
            "approval_open",
            "approval_approve",
            "approval_reject",
            "approval_needs_info",
            "approval_reopen",
            "approval_answer",
        ]
    ),
    value=IDS,
)
def test_buttons(slack_app, action, value):
    app, failures, fake = slack_app
    failures.clear()
    dispatch(app, {"payload": json.dumps(block_action(action, value, response_url=fake.response_url("b")))}, form=True)
    assert failures == []


@FUZZ
@given(
    callback=st.sampled_from(
        [
            "feedback_reason",
            "digest_answer",
            "approval_request",
            "approval_approve",
            "approval_reject",
            "approval_needs_info",
            "approval_answer",
        ]
    ),
    metadata=IDS,
    text=TEXT,
)
def test_modal_submissions(slack_app, callback, metadata, text):
    app, failures, _ = slack_app
    failures.clear()
    values = {
        name: {"value": {"type": "plain_text_input", "value": text}, "text": {"value": text}}
        for name in ("reason", "answer", "repository_url", "license", "cla", "description")
    }
    values["type"] = {"approval_type": {"selected_option": {"value": "contribute"}}}
    dispatch(app, {"payload": json.dumps(view_submission(callback, metadata, values))}, form=True)
    assert failures == []


def test_a_broken_handler_would_be_caught(slack_app):
    """The harness can fail: a listener that raises reaches the error handler and is seen.
    (A type change always comes from a modal in Slack; this one has no view.)"""
    app, failures, _ = slack_app
    failures.clear()
    dispatch(
        app,
        {
            "payload": json.dumps(
                {
                    "type": "block_actions",
                    "user": {"id": "U1"},
                    "trigger_id": "t",
                    "actions": [{"action_id": "approval_type", "value": "x"}],
                }
            )
        },
        form=True,
    )
    assert failures and isinstance(failures[0], KeyError)
    failures.clear()
