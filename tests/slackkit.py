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


def blocks_of(args: dict) -> list[dict]:
    """The blocks a Web API call carried (a JSON string when the client sent a form)."""
    blocks = args.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def text_of(args: dict) -> str:
    """Everything a call put in front of people: its text and its blocks."""
    return str(args.get("text") or "") + json.dumps(blocks_of(args), ensure_ascii=False)


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


# -- payloads of the 2026 surfaces, each shaped as the sample it names --------------------------------
def file_share(text: str, files: list[dict] | None = None, user: str = USER, channel: str = DM, **extra) -> dict:
    """A message with files, as bolt-python's captured sample (tests/scenario_tests/test_message_file_share.py):
    subtype file_share, the files' objects, the text's rich_text block."""
    ts = next_ts()
    return {
        "type": "message",
        "subtype": "file_share",
        "text": text,
        "files": files if files is not None else [shared_file("LICENSE", "text")],
        "upload": False,
        "user": user,
        "display_as_bot": False,
        "ts": ts,
        "blocks": [rich_text(text)] if text else [],
        "client_msg_id": f"cm-{next(_counter)}",
        "channel": channel,
        "event_ts": ts,
        "channel_type": "im" if channel.startswith("D") else "channel",
        **extra,
    }


def shared_file(name: str, filetype: str, user: str = USER) -> dict:
    """A file object as in that sample (the fields an app sees for a file it may read)."""
    file_id = f"F{next(_counter):08d}"
    return {
        "id": file_id,
        "created": int(time.time()),
        "timestamp": int(time.time()),
        "name": name,
        "title": name,
        "mimetype": "text/plain",
        "filetype": filetype,
        "pretty_type": filetype.title(),
        "user": user,
        "editable": False,
        "size": 11357,
        "mode": "hosted",
        "is_external": False,
        "external_type": "",
        "is_public": False,
        "url_private": f"https://files.slack.com/files-pri/{TEAM}-{file_id}/{name}",
        "url_private_download": f"https://files.slack.com/files-pri/{TEAM}-{file_id}/download/{name}",
        "permalink": f"https://example.slack.com/files/{user}/{file_id}/{name}",
    }


# Files an app may not read, as Slack sends them (docs.slack.dev/reference/objects/file-object and
# docs.slack.dev/apis/slack-connect/#check_file_info): a Slack Connect file that needs files.info, a
# deleted file, one past a free plan's limit, one the app may not see.
UNREADABLE_FILES = [
    {"id": "F0STUB0001", "file_access": "check_file_info"},
    {"id": "F0GONE0001", "mode": "tombstone"},
    {"id": "F0LIMIT001", "mode": "hidden_by_limit"},
    {"id": "F0DENIED01", "file_access": "access_denied"},
]


def rich_text(text: str) -> dict:
    return {
        "type": "rich_text",
        "block_id": f"rt{next(_counter)}",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
    }


def broadcast(text: str, channel: str, thread_ts: str, user: str = USER) -> dict:
    """A thread reply also sent to the channel, as bolt-python's captured sample
    (tests/scenario_tests/test_message_thread_broadcast.py): subtype thread_broadcast, with its root."""
    ts = next_ts()
    return {
        "type": "message",
        "subtype": "thread_broadcast",
        "text": text,
        "user": user,
        "ts": ts,
        "thread_ts": thread_ts,
        "root": {
            "type": "message",
            "text": "(the thread's first message)",
            "user": user,
            "ts": thread_ts,
            "thread_ts": thread_ts,
            "reply_count": 1,
            "is_locked": False,
        },
        "client_msg_id": f"cm-{next(_counter)}",
        "channel": channel,
        "event_ts": ts,
        "channel_type": "channel",
    }


def subtype_message(subtype: str, channel: str, user: str = USER, text: str = "", **extra) -> dict:
    """A message of another subtype (docs.slack.dev/reference/events/message#subtypes): the common fields."""
    return {
        "type": "message",
        "subtype": subtype,
        "channel": channel,
        "user": user,
        "text": text,
        "ts": next_ts(),
        "channel_type": "im" if channel.startswith("D") else "channel",
        **extra,
    }


def assistant_thread_started(user: str, channel: str, context_channel: str | None = None) -> tuple[dict, str]:
    """assistant_thread_started, as bolt-python's captured sample (tests/scenario_tests/test_events_assistant.py);
    returns (the event, the thread's ts)."""
    thread_ts = next_ts()
    context = {"channel_id": context_channel, "team_id": TEAM} if context_channel else {}
    return {
        "type": "assistant_thread_started",
        "assistant_thread": {"user_id": user, "context": context, "channel_id": channel, "thread_ts": thread_ts},
        "event_ts": next_ts(),
    }, thread_ts


def assistant_context_changed(user: str, channel: str, thread_ts: str, context_channel: str) -> dict:
    """assistant_thread_context_changed, as the same sample file."""
    return {
        "type": "assistant_thread_context_changed",
        "assistant_thread": {
            "user_id": user,
            "context": {"channel_id": context_channel, "team_id": TEAM},
            "channel_id": channel,
            "thread_ts": thread_ts,
        },
        "event_ts": next_ts(),
    }


def assistant_message(text: str, user: str, channel: str, thread_ts: str) -> dict:
    """A user's message in an assistant thread, as the same sample file (user_message_event_body)."""
    ts = next_ts()
    return {
        "user": user,
        "type": "message",
        "ts": ts,
        "text": text,
        "team": TEAM,
        "user_team": TEAM,
        "source_team": TEAM,
        "user_profile": {},
        "thread_ts": thread_ts,
        "parent_user_id": user,
        "channel": channel,
        "event_ts": ts,
        "channel_type": "im",
    }


def link_shared(urls: list[str], channel: str, user: str = USER, *, member: bool = True, **extra) -> dict:
    """link_shared, as Slack's documented sample (docs.slack.dev/reference/events/link_shared): channel,
    is_bot_user_member, user, message_ts, unfurl_id, source, links[{domain, url}]."""
    message_ts = next_ts()
    from urllib.parse import urlsplit

    return {
        "type": "link_shared",
        "channel": channel,
        "is_bot_user_member": member,
        "user": user,
        "message_ts": message_ts,
        "unfurl_id": f"{channel}.{message_ts}.{next(_counter):08x}",
        "source": "conversations_history",
        "links": [{"domain": urlsplit(url).hostname, "url": url} for url in urls],
        "event_ts": message_ts,
        **extra,
    }


def message_shortcut(
    callback_id: str, text: str, response_url: str, user: str = USER, channel: str = CHANNEL, author: str = "U0AUTHOR1"
) -> dict:
    """A message shortcut, as bolt-python's captured sample (tests/scenario_tests/test_app_using_methods_in_class.py):
    type message_action with the message, its channel and a response_url."""
    ts = next_ts()
    return {
        **global_shortcut(callback_id, user),
        "type": "message_action",
        "channel": {"id": channel, "name": "general"},
        "message_ts": ts,
        "message": {
            "type": "message",
            "text": text,
            "user": author,
            "ts": ts,
            "team": TEAM,
            "blocks": [rich_text(text)] if text else [],
        },
        "response_url": response_url,
    }


def global_shortcut(callback_id: str, user: str = USER) -> dict:
    """A global shortcut, as bolt-python's captured sample (tests/scenario_tests/test_shortcut.py)."""
    return {
        "type": "shortcut",
        "token": "unused",
        "action_ts": next_ts(),
        "team": {"id": TEAM, "domain": "example"},
        "user": {"id": user, "username": "someone", "team_id": TEAM},
        "callback_id": callback_id,
        "trigger_id": f"trig.{next(_counter)}",
    }


def function_executed(
    callback_id: str,
    inputs: dict,
    input_parameters: list[dict] | None = None,
    output_parameters: list[dict] | None = None,
) -> tuple[dict, str]:
    """function_executed (a Workflow Builder custom step), as bolt-python's captured sample
    (tests/scenario_tests/test_function.py); returns (the whole event_callback body, the execution id)."""
    from tests.fakeslack import WORKFLOW_TOKEN

    execution = f"Fx{next(_counter):08d}"
    body = event(
        {
            "type": "function_executed",
            "function": {
                "id": f"Fn{callback_id}",
                "callback_id": callback_id,
                "title": callback_id,
                "description": "",
                "type": "app",
                "input_parameters": input_parameters or [],
                "output_parameters": output_parameters or [],
                "app_id": "A0001",
                "date_updated": int(time.time()),
            },
            "inputs": inputs,
            "function_execution_id": execution,
            "workflow_execution_id": f"Wx{next(_counter):08d}",
            "event_ts": next_ts(),
            "bot_access_token": WORKFLOW_TOKEN,
        }
    )
    body.pop("authorizations")  # the sample has authed_users instead
    body["authed_users"] = ["UBOT0001"]
    return body, execution
