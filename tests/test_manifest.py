"""The app manifests ask for exactly what the bot uses: the events its listeners take, its shortcuts
and Workflow Builder steps, the scopes of bot/slack/scopes.py; and the Procfile runs both modes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.approvals import FIELD_SPECS, TYPES
from bot.licenses import default_policy
from bot.slack import ids
from bot.slack.scopes import EVENTS, SCOPES, missing

ROOT = Path(__file__).resolve().parents[1]
MANIFESTS = ("manifest.yml", "manifest-http.yml")
SOURCE = "".join(path.read_text() for path in (ROOT / "bot/slack").glob("*.py"))  # each surface's register()


def manifest(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


def registered(kind: str) -> set[str]:
    """What the code listens for: app.event("x") -> {"x"}; app.shortcut(ids.X) -> {ids.X's value}."""
    names = set(re.findall(rf'app\.{kind}\("([^"]+)"\)', SOURCE))
    names |= {getattr(ids, constant) for constant in re.findall(rf"app\.{kind}\(ids\.([A-Z_]+)\)", SOURCE)}
    return names


def test_the_events_subscribed_are_the_events_listened_to():
    listened = registered("event") - {"message"} | {"message.im", "message.channels", "message.groups"}
    listened |= {"assistant_thread_started", "assistant_thread_context_changed"}  # Bolt's Assistant (assistant.py)
    assert "app.assistant(assistant)" in SOURCE and "assistant.thread_context_changed(" in SOURCE
    if registered("function"):
        listened.add("function_executed")
    assert listened == set(EVENTS)
    for name in MANIFESTS:
        settings = manifest(name)["settings"]
        assert set(settings["event_subscriptions"]["bot_events"]) == set(EVENTS), name


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifests_match_the_bot(name):
    app = manifest(name)
    settings, features = app["settings"], app["features"]
    scopes = set(app["oauth_config"]["scopes"]["bot"])
    assert scopes == set(SCOPES)
    assert {scope for scope in EVENTS.values() if scope} <= scopes  # each event's scope is asked for
    assert [c["command"] for c in features["slash_commands"]] == [ids.COMMAND] and "app.command(ids.COMMAND)" in SOURCE
    shortcuts = {s["callback_id"]: s["type"] for s in features["shortcuts"]}
    assert shortcuts == {ids.ASK_SHORTCUT: "message", ids.APPROVAL_SHORTCUT: "global"}
    assert set(shortcuts) == registered("shortcut")
    assert all(len(s["name"]) <= 24 and len(s["description"]) <= 80 for s in features["shortcuts"])
    assert settings["interactivity"]["is_enabled"] and features["app_home"]["home_tab_enabled"]
    assert features["assistant_view"]["assistant_description"]
    assert features["unfurl_domains"] and len(features["unfurl_domains"]) <= 5
    # Workflow Builder steps need an org-ready app whose functions run in our process.
    assert settings["org_deploy_enabled"] is True and settings["function_runtime"] == "remote"
    assert settings["token_rotation_enabled"] is False  # the admin's choice: README "Token rotation"
    assert set(app["functions"]) == registered("function") == {ids.APPROVAL_STEP, ids.LICENSE_STEP}
    socket = name == "manifest.yml"
    assert settings["socket_mode_enabled"] is socket
    if not socket:
        assert settings["event_subscriptions"]["request_url"].endswith("/slack/events")
        assert settings["interactivity"]["request_url"].endswith("/slack/events")


@pytest.mark.parametrize("name", MANIFESTS)
def test_the_approval_step_asks_what_the_request_form_asks(name):
    step = manifest(name)["functions"][ids.APPROVAL_STEP]
    inputs = step["input_parameters"]["properties"]
    assert set(inputs) == {"requester", "type"} | set(FIELD_SPECS)
    assert step["input_parameters"]["required"] == ["requester", "type"]  # the rest depends on the type
    assert inputs["requester"]["type"] == "slack#/types/user_id" and inputs["type"]["enum"] == list(TYPES)
    kinds = {"bool": "boolean", "int": "integer"}
    for field, spec in FIELD_SPECS.items():
        assert inputs[field]["type"] == kinds.get(spec.kind, "string"), field
    outputs = step["output_parameters"]
    assert set(outputs["properties"]) == {"reference", "state", "decided_by", "conditions"}
    assert outputs["required"] == ["reference", "state"]


@pytest.mark.parametrize("name", MANIFESTS)
def test_the_license_step_offers_the_policys_uses(name):
    step = manifest(name)["functions"][ids.LICENSE_STEP]
    assert step["input_parameters"]["properties"]["use"]["enum"] == list(default_policy().uses)
    assert set(step["output_parameters"]["properties"]) == {
        "verdict",
        "verdict_label",
        "allowed",
        "expression",
        "reason",
    }


def test_the_manifests_differ_only_in_how_slack_reaches_the_bot():
    socket, http = manifest("manifest.yml"), manifest("manifest-http.yml")
    for app in (socket, http):
        app["settings"].pop("socket_mode_enabled")
        app["settings"]["event_subscriptions"].pop("request_url", None)
        app["settings"]["interactivity"].pop("request_url", None)
        for command in app["features"]["slash_commands"]:
            command.pop("url", None)
    assert socket == http


def test_missing_scopes_are_named_with_what_they_are_for():
    assert missing(",".join(SCOPES)) == {} and missing(None) == {}
    granted = ",".join(scope for scope in SCOPES if not scope.startswith("links:"))
    assert missing(granted) == {"links:read": SCOPES["links:read"], "links:write": SCOPES["links:write"]}


def test_procfile_runs_http_and_socket_mode():
    lines = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line)
    assert lines["web"] == "ospo-bot serve --mode http --port $PORT"
    assert lines["worker"] == "ospo-bot serve --mode socket"


def test_the_readme_names_every_scope_and_event():
    readme = (ROOT / "README.md").read_text()
    run_it = readme[readme.index("## Run it in Slack") :].split("\n## ", 1)[0]
    for name in [*SCOPES, *EVENTS]:
        assert f"`{name}`" in run_it, name
