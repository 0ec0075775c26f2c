"""The fake Slack Web API answers the real slack_sdk WebClient the way Slack does."""

from __future__ import annotations

import threading

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler

from tests.fakeslack import BOT_TOKEN, BOT_USER, FakeSlack


@pytest.fixture
def slack():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def client(slack, token=BOT_TOKEN, **kwargs) -> WebClient:
    return WebClient(token=token, base_url=slack.base_url, **kwargs)


def test_records_calls_with_their_arguments(slack):
    web = client(slack)
    assert web.auth_test()["user_id"] == BOT_USER
    posted = web.chat_postMessage(channel="C1", text="hello", blocks=[{"type": "divider"}])
    assert posted["channel"] == "C1" and posted["ts"]
    assert slack.calls_to("chat.postMessage") == [{"channel": "C1", "text": "hello", "blocks": [{"type": "divider"}]}]
    assert [call.method for call in slack.calls] == ["auth.test", "chat.postMessage"]


def test_answers_ok_false_like_slack(slack):
    web = client(slack)
    slack.fail("chat.postMessage", "not_in_channel")
    with pytest.raises(SlackApiError) as error:
        web.chat_postMessage(channel="C1", text="x")
    assert error.value.response["error"] == "not_in_channel"
    assert web.chat_postMessage(channel="C1", text="x")["ok"]  # the failure was used up


def test_bad_tokens_and_unknown_methods(slack):
    with pytest.raises(SlackApiError, match="invalid_auth"):
        client(slack, token="xoxb-wrong").auth_test()
    with pytest.raises(SlackApiError, match="unknown_method"):
        client(slack).api_call("no.such.method")


def test_rate_limit_is_retried_by_slack_sdk_after_retry_after(slack):
    slack.rate_limit("chat.postMessage", retry_after=0, times=2)
    web = client(slack, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])
    assert web.chat_postMessage(channel="C1", text="x")["ok"]
    assert len(slack.calls_to("chat.postMessage")) == 3


def test_rate_limit_without_a_retry_handler_surfaces_as_429(slack):
    slack.rate_limit("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as error:
        client(slack).chat_postMessage(channel="C1", text="x")
    assert error.value.response.status_code == 429
    assert error.value.response.headers["Retry-After"] == "7"


def test_server_errors_are_retried_by_the_server_error_handler(slack):
    slack.server_error("chat.update", status=503)
    web = client(slack, retry_handlers=[ServerErrorRetryHandler(max_retry_count=1)])
    assert web.chat_update(channel="C1", ts="1.1", text="x")["ok"]
    assert len(slack.calls_to("chat.update")) == 2


def test_form_encoded_methods_are_recorded_too(slack):
    web = client(slack)
    assert web.conversations_open(users="U42")["channel"]["id"] == "DU42"
    assert slack.calls_to("conversations.open") == [{"users": "U42"}]


def test_wait_for_follows_calls_that_arrive_while_it_waits_until_slack_answers_them(slack):
    web = client(slack)
    slack.hang("chat.postMessage", seconds=60, where=lambda args: args["channel"] == "C1")
    failed = []

    def post_hung() -> None:
        try:
            web.chat_postMessage(channel="C1", text="held")
        except SlackApiError as error:
            failed.append(error.response.status_code)

    hung = threading.Thread(target=post_hung)
    hung.start()
    assert slack.wait_for("chat.postMessage", where=lambda args: args["channel"] == "C1")  # arrived, unanswered
    web.chat_postMessage(channel="C2", text="through")
    assert [args["channel"] for args in slack.wait_for("chat.postMessage", ok=True)] == ["C2"]
    slack.clear_failures()
    assert [args["channel"] for args in slack.wait_for("chat.postMessage", ok=False)] == ["C1"]
    hung.join()
    assert failed == [503]
    calls = slack.wait_for_calls("chat.postMessage", count=2)
    assert [c.args["channel"] for c in calls] == ["C1", "C2"] and calls[0].at <= calls[1].at
