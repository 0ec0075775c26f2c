"""How the app is installed: org-wide in an Enterprise Grid organisation (people of the org's other
workspaces are served, other organisations are not), and token rotation (SLACK_TOKEN_ROTATION): the
settings it needs, the first pair made from a refresh token or by exchanging the bot token, refreshing
before expiry, a restart reading the stored pair, and Bolt handing each request the current token.
In process through the real Bolt app, against the fake Slack (auth.test, oauth.v2.*)."""

from __future__ import annotations

import json

import pytest
from slack_bolt.request import BoltRequest

from bot.config import load_settings
from bot.slack.app import build_app
from bot.slack.client import web_client
from bot.slack.tokens import RotatingClient
from bot.wiring import Core
from tests.fakeslack import BOT_TOKEN, FakeSlack
from tests.slackkit import SIGNING_SECRET, event, sign

CREDENTIALS = {"SLACK_CLIENT_ID": "C1.ID", "SLACK_CLIENT_SECRET": "client-secret"}


@pytest.fixture
def fake():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def settings_for(fake, tmp_path, small_kb_dir, **env):
    return load_settings(
        OSPO_DATA_DIR=tmp_path / "data",
        OSPO_KNOWLEDGE_DIR=small_kb_dir,
        SLACK_API_URL=fake.base_url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_TOKEN_ROTATION="true",
        **env,
    )


def tokens_used(fake, method: str) -> list[str]:
    return [call.token for call in fake.calls if call.method == method]


def signed(payload: dict) -> BoltRequest:
    body = json.dumps(payload)
    return BoltRequest(body=body, headers={k.lower(): [v] for k, v in sign(body).items()})


def test_an_org_wide_install_serves_the_orgs_workspaces_and_no_one_else(fake, tmp_path, small_kb_dir):
    fake.auth = {"team_id": "E0ORG", "team": "Example Org", "enterprise_id": "E0ORG"}  # installed on the org
    settings = load_settings(
        OSPO_DATA_DIR=tmp_path / "data", OSPO_KNOWLEDGE_DIR=small_kb_dir, SLACK_API_URL=fake.base_url,
        SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, OSPO_APPROVALS_CHANNEL="C0APPR",
        OSPO_REQUEST_URL="https://ospo.example.com/r/{ref}",
    )  # fmt: skip
    core = Core(settings)
    request = core.approvals.submit("U0ASKER", "personal", {"description": "A weekend project"})
    app = build_app(core, process_before_response=True)
    url = f"https://ospo.example.com/r/{request.ref}"
    for n, (team, enterprise) in enumerate([("T0WS2", "E0ORG"), ("T0ELSEWHERE", "E0OTHER")]):
        shared = {"type": "link_shared", "channel": "C0APPR", "user": "U0APPROVER", "message_ts": f"1.{n}",
                  "links": [{"domain": "ospo.example.com", "url": url}]}  # fmt: skip
        payload = {**event(shared), "team_id": team, "enterprise_id": enterprise, "is_enterprise_install": True}
        payload["authorizations"] = [{"enterprise_id": "E0ORG", "team_id": None, "is_enterprise_install": True}]
        assert app.dispatch(signed(payload)).status == 200
    unfurled = {args["ts"] for args in fake.calls_to("chat.unfurl")}
    assert unfurled == {"1.0"}  # the org's other workspace, not another organisation


def test_rotation_needs_the_apps_credentials(tmp_path, small_kb_dir):
    settings = load_settings(OSPO_DATA_DIR=tmp_path, OSPO_KNOWLEDGE_DIR=small_kb_dir, SLACK_BOT_TOKEN=BOT_TOKEN,
                             SLACK_APP_TOKEN="xapp-1", SLACK_TOKEN_ROTATION="true")  # fmt: skip
    assert any("SLACK_CLIENT_ID or SLACK_CLIENT_SECRET is not set" in p for p in settings.slack_problems())
    assert not settings.model_copy(update={"slack_token_rotation": False}).slack_problems()
    rotating = load_settings(OSPO_DATA_DIR=tmp_path, OSPO_KNOWLEDGE_DIR=small_kb_dir, SLACK_REFRESH_TOKEN="xoxe-1-r",
                             SLACK_BOT_TOKEN="xoxe.xoxb-1-abc", **CREDENTIALS)  # fmt: skip
    assert {"client-secret", "xoxe-1-r"} <= set(rotating.secrets)  # kept out of the logs


def test_the_token_is_refreshed_before_it_expires_and_a_restart_reads_the_stored_pair(fake, tmp_path, small_kb_dir):
    fake.token_lifetime = 3600  # under the two hours' margin: every pair is refreshed at its next use
    settings = settings_for(fake, tmp_path, small_kb_dir, SLACK_REFRESH_TOKEN=fake.issue_refresh_token(), **CREDENTIALS)
    client = web_client(settings)
    assert isinstance(client, RotatingClient)
    client.auth_test()
    first, second = [t for t in tokens_used(fake, "auth.test") if t.startswith("xoxe.xoxb-")][-2:]
    assert first != second  # made from the refresh token, then refreshed as it expires within the hour
    fake.tokens -= {BOT_TOKEN, first}  # the old tokens expire
    fake.token_lifetime = 43200
    client.auth_test()
    client.auth_test()
    current = tokens_used(fake, "auth.test")[-1]
    assert current not in (BOT_TOKEN, first) and tokens_used(fake, "auth.test")[-2] == current  # good for 12 h

    refreshes = len(fake.calls_to("oauth.v2.access"))
    restarted = web_client(settings)  # a restart, or another replica on the same data dir
    restarted.auth_test()
    assert tokens_used(fake, "auth.test")[-1] == current and len(fake.calls_to("oauth.v2.access")) == refreshes


def test_without_a_refresh_token_the_bot_token_is_exchanged_for_a_rotating_pair(fake, tmp_path, small_kb_dir):
    client = web_client(settings_for(fake, tmp_path, small_kb_dir, **CREDENTIALS))
    client.chat_postMessage(channel="C0ROTATE", text="hello")
    assert fake.calls_to("oauth.v2.exchange")[-1]["token"] == BOT_TOKEN
    assert tokens_used(fake, "chat.postMessage")[-1].startswith("xoxe.xoxb-")


def test_wrong_credentials_say_what_to_check(fake, tmp_path, small_kb_dir):
    from bot.config import ConfigError

    client = web_client(settings_for(fake, tmp_path, small_kb_dir, SLACK_CLIENT_ID="C1.ID", SLACK_CLIENT_SECRET="no"))
    with pytest.raises(ConfigError, match="invalid_client_id.*SLACK_CLIENT_SECRET"):
        client.auth_test()


def test_bolt_hands_each_request_the_current_token(fake, tmp_path, small_kb_dir):
    settings = settings_for(fake, tmp_path, small_kb_dir, SLACK_REFRESH_TOKEN=fake.issue_refresh_token(), **CREDENTIALS)
    core = Core(settings)
    app = build_app(core, process_before_response=True)
    shared = {"type": "link_shared", "channel": "C0ROT", "user": "U0ROT", "message_ts": "1.2", "links": []}
    tokens = []

    @app.middleware  # runs after Bolt's authorize, before the bot's own listener
    def seen(context, next):
        tokens.append(context.client.token)
        return next()

    response = app.dispatch(signed(event(shared)))
    assert response.status == 200
    assert tokens and tokens[0].startswith("xoxe.xoxb-") and tokens[0] != BOT_TOKEN
