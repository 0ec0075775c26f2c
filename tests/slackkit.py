"""Slack's side of the conversation for the end-to-end tests: real payload shapes (event
callbacks, slash commands, block_actions, view_submission), signed like Slack signs them,
sent to the bot's real HTTP endpoint."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
USER = "U0ASKER1"
OSPO_MEMBER = "U0OSPO01"
DM = "D0ASKER1"
CHANNEL = "C0GENERAL"
HELP_CHANNEL = "C0ASKOSPO"
TRIAGE = "C0TRIAGE"
TEAM = "T0001"
_counter = itertools.count(1)


def sign(body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    base = f"v0:{timestamp}:{body}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


def post(
    url: str, body: str, content_type: str, headers: dict | None = None, signed: bool = True, timeout: float = 30
) -> tuple[int, str]:
    all_headers = {"Content-Type": content_type, **(sign(body) if signed else {}), **(headers or {})}
    request = urllib.request.Request(url, data=body.encode(), headers=all_headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def next_ts() -> str:
    return f"{int(time.time())}.{next(_counter):06d}"


def event(inner: dict, event_id: str | None = None) -> dict:
    return {
        "token": "unused",
        "team_id": TEAM,
        "api_app_id": "A0001",
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_counter):08d}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": "UBOT0001", "is_bot": True}],
        "event": inner,
    }


def dm(text: str, user: str = USER, channel: str = DM, **extra) -> dict:
    return {
        "type": "message",
        "channel_type": "im",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": next_ts(),
        "event_ts": next_ts(),
        **extra,
    }


def channel_message(text: str, channel: str = CHANNEL, user: str = USER, **extra) -> dict:
    return {
        "type": "message",
        "channel_type": "channel",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": next_ts(),
        **extra,
    }


def mention(text: str, channel: str = CHANNEL, user: str = USER, **extra) -> dict:
    return {
        "type": "app_mention",
        "channel": channel,
        "user": user,
        "text": f"<@UBOT0001> {text}",
        "ts": next_ts(),
        **extra,
    }


def command(text: str, response_url: str, user: str = USER, channel: str = CHANNEL, team: str = TEAM) -> dict:
    return {
        "token": "unused",
        "team_id": team,
        "channel_id": channel,
        "user_id": user,
        "command": "/ospo",
        "text": text,
        "response_url": response_url,
        "trigger_id": f"trig.{next(_counter)}",
        "api_app_id": "A0001",
    }


def block_action(
    action_id: str,
    value: str,
    *,
    user: str = USER,
    channel: str = CHANNEL,
    message_ts: str | None = None,
    thread_ts: str | None = None,
    ephemeral: bool = False,
    response_url: str = "",
    team: str = TEAM,
) -> dict:
    message_ts = message_ts or next_ts()
    message = {"type": "message", "ts": message_ts, **({"thread_ts": thread_ts} if thread_ts else {})}
    return {
        "type": "block_actions",
        "team": {"id": team},
        "user": {"id": user, "team_id": team},
        "api_app_id": "A0001",
        "trigger_id": f"trig.{next(_counter)}",
        "channel": {"id": channel},
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": ephemeral},
        **({} if ephemeral else {"message": message}),
        "response_url": response_url,
        "actions": [
            {"action_id": action_id, "block_id": "b", "type": "button", "value": value, "action_ts": next_ts()}
        ],
    }


def view_submission(callback_id: str, private_metadata: str, values: dict, user: str = USER, team: str = TEAM) -> dict:
    return {
        "type": "view_submission",
        "team": {"id": team},
        "user": {"id": user, "team_id": team},
        "api_app_id": "A0001",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": values},
        },
    }


class SlackSide:
    """Sends payloads to a running bot's /slack/events, signed."""

    def __init__(self, url: str):
        self.url = url

    def send_event(self, payload: dict, headers: dict | None = None) -> tuple[int, str]:
        return post(self.url, json.dumps(payload), "application/json", headers)

    def send_form(self, fields: dict, headers: dict | None = None, signed: bool = True) -> tuple[int, str]:
        return post(self.url, urlencode(fields), "application/x-www-form-urlencoded", headers, signed)

    def send_command(self, payload: dict) -> tuple[int, str]:
        return self.send_form(payload)

    def send_interaction(self, payload: dict) -> tuple[int, str]:
        return self.send_form({"payload": json.dumps(payload)})
