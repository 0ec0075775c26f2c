"""The app manifests ask for exactly what the bot uses, and the Procfile runs both modes."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EVENTS = {"app_home_opened", "app_mention", "message.channels", "message.groups", "message.im"}
SCOPES = {
    "app_mentions:read",
    "channels:history",
    "groups:history",
    "im:history",
    "chat:write",
    "commands",
    "files:read",
    "files:write",
    "reactions:write",
    "usergroups:read",
}


def test_manifests_match_the_bot():
    for name, socket in (("manifest.yml", True), ("manifest-http.yml", False)):
        manifest = yaml.safe_load((ROOT / name).read_text())
        settings = manifest["settings"]
        assert set(settings["event_subscriptions"]["bot_events"]) == EVENTS
        assert set(manifest["oauth_config"]["scopes"]["bot"]) == SCOPES
        assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/ospo"]
        assert settings["interactivity"]["is_enabled"] and manifest["features"]["app_home"]["home_tab_enabled"]
        assert settings["socket_mode_enabled"] is socket
        if not socket:
            assert settings["event_subscriptions"]["request_url"].endswith("/slack/events")
            assert settings["interactivity"]["request_url"].endswith("/slack/events")


def test_every_event_in_the_manifest_has_a_listener():
    from bot.slack import ids

    source = "".join(path.read_text() for path in (ROOT / "bot/slack").glob("*.py"))  # each surface's register()
    for name in ("app_mention", "message", "app_home_opened"):
        assert f'app.event("{name}")' in source
    assert ids.COMMAND == "/ospo" and "app.command(ids.COMMAND)" in (ROOT / "bot/slack/commands.py").read_text()


def test_procfile_runs_http_and_socket_mode():
    lines = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line)
    assert lines["web"] == "ospo-bot serve --mode http --port $PORT"
    assert lines["worker"] == "ospo-bot serve --mode socket"
