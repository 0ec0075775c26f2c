"""End to end: a running `ospo-bot serve` (HTTP mode), the real Bolt app and WebClient talking
to the fake Slack, and Slack's side as signed payloads to /slack/events."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.slack.conversation import Later, Working
from tests.conftest import bot_env, start_bot, stop_bot, wait_until
from tests.slackkit import (
    DM,
    HELP_CHANNEL,
    OSPO_MEMBER,
    TRIAGE,
    UNREADABLE_FILES,
    SlackSide,
    block_action,
    broadcast,
    channel_message,
    command,
    dm,
    event,
    file_share,
    function_executed,
    global_shortcut,
    mention,
    message_shortcut,
    post,
    shared_file,
    sign,
    subtype_message,
    view_submission,
)


@pytest.fixture(scope="module")
def bot(fake, tmp_path_factory, model_name):
    folder = tmp_path_factory.mktemp("slack-bot")
    env = bot_env(
        folder,
        fake,
        model_name,
        OSPO_TRIAGE_CHANNEL=TRIAGE,
        OSPO_HELP_CHANNELS=HELP_CHANNEL,
        OSPO_HOUSEKEEPING_SECONDS="0.5",  # notices go out promptly in tests
        OSPO_APPROVERS=OSPO_MEMBER,  # the OSPO team: may resolve, save as knowledge, answer from the digest
    )
    process, base, log = start_bot(env, folder)
    yield {
        "base": base,
        "slack": SlackSide(base + "/slack/events"),
        "knowledge": env["OSPO_KNOWLEDGE_DIR"],
        "log": log,
        "env": env,
        "folder": folder,
    }
    stop_bot(process)


def posted(fake, where) -> dict:
    return fake.wait_for("chat.postMessage", where=where)[-1]


def blocks_text(message: dict) -> str:
    blocks = message.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return json.dumps(blocks)


def test_healthz_reports_the_index(bot):
    health = json.loads(urllib.request.urlopen(bot["base"] + "/healthz").read())
    assert health == {"status": "ok", "documents": 3, "chunks": 5, "vectors": 5, "degraded": False, "mode": "http"}


def test_dm_gets_an_answer_with_source_and_buttons(bot, fake):
    status, _ = bot["slack"].send_event(event(dm("how do I sign off my commits?")))
    assert status == 200
    message = posted(fake, lambda a: a.get("channel") == DM and "sign" in blocks_text(a).lower())
    text = blocks_text(message)
    assert "Signing off commits with the DCO" in text and "git commit -s" in text
    for action in ("feedback_up", "feedback_down", "escalate"):
        assert action in text
    assert "thread_ts" not in message or message["thread_ts"] is None


# -- helpers --------------------------------------------------------------------------------
_ids = iter(range(1, 10_000))


def new_dm() -> tuple[str, str]:
    """A fresh user and their DM channel, so tests sharing the one bot never see each other."""
    n = next(_ids)
    return f"U0T{n:05d}", f"D0T{n:05d}"


def new_channel() -> str:
    return f"C0T{next(_ids):05d}"


def blocks_of(args: dict) -> list[dict]:
    blocks = args.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def everything(args: dict) -> str:
    """The whole of what a call put in front of people: fallback text and blocks."""
    return str(args.get("text") or "") + blocks_text(args)


def button_value(message: dict, action_id: str) -> str:
    for block in blocks_of(message):
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return element["value"]
    raise AssertionError(f"no {action_id} button in {blocks_text(message)}")


def calls_where(fake, method: str, where) -> list[dict]:
    return [args for args in fake.calls_to(method) if where(args)]


def responses(fake, where) -> int:
    """How many responses (to a response_url) matching `where` came already. The module's tests share
    one fake Slack: a test waits for one more than that, or an earlier test's response passes for its own."""
    return len(calls_where(fake, "response", where))


def in_channel(channel: str):
    return lambda args: args.get("channel") == channel


def ask_dm(bot, fake, text: str, user: str, channel: str) -> dict:
    """DM the bot and return its answer (the first chat.postMessage in that DM)."""
    status, _ = bot["slack"].send_event(event(dm(text, user=user, channel=channel)))
    assert status == 200
    return posted(fake, in_channel(channel))


def sentinel(bot, fake) -> None:
    """A DM that must be answered: once it is, everything sent before it has been handled."""
    user, channel = new_dm()
    ask_dm(bot, fake, "how do I sign off my commits?", user, channel)


def db(bot):
    import sqlite_utils

    return sqlite_utils.Database(Path(bot["env"]["OSPO_DATA_DIR"]) / "ospo-bot.db")


def escalate_from_dm(bot, fake, question: str) -> dict:
    """Ask in a DM, click Ask the OSPO team; returns ids and the triage post."""
    user, channel = new_dm()
    answer = ask_dm(bot, fake, question, user, channel)
    qid = button_value(answer, "escalate")
    answer_ts = f"1800000000.{next(_ids):06d}"  # where the answer sits in the DM
    bot["slack"].send_interaction(block_action("escalate", qid, user=user, channel=channel, message_ts=answer_ts))
    fake.wait_for("chat.postEphemeral", where=lambda a: a.get("user") == user and "passed your question" in a["text"])
    triage = posted(fake, lambda a: a.get("channel") == TRIAGE and f"<@{user}>" in blocks_text(a))
    row = next(db(bot).query("SELECT * FROM escalations WHERE question_id = ?", [int(qid)]))
    return {"user": user, "channel": channel, "qid": qid, "answer_ts": answer_ts, "triage": triage, "escalation": row}


def ospo_reply(bot, fake, flow: dict, text: str) -> tuple[dict, dict]:
    """An OSPO member replies under the triage post; returns (relay to the asker, offer in triage)."""
    triage_ts = flow["escalation"]["triage_ts"]
    bot["slack"].send_event(event(channel_message(text, channel=TRIAGE, user=OSPO_MEMBER, thread_ts=triage_ts)))
    relay = posted(fake, lambda a: a.get("channel") == flow["channel"] and "OSPO team answered" in a.get("text", ""))
    offer = posted(
        fake,
        lambda a: a.get("channel") == TRIAGE and a.get("thread_ts") == triage_ts and "save_knowledge" in blocks_text(a),
    )
    return relay, offer


# -- 1. where the bot answers -------------------------------------------------------------------
def test_mention_is_answered_in_its_thread_and_so_are_follow_ups(bot, fake):
    channel = new_channel()
    question = mention("how do I sign off my commits?", channel=channel)
    bot["slack"].send_event(event(question))
    first = posted(fake, in_channel(channel))
    assert first["thread_ts"] == question["ts"]
    assert "Signing off commits with the DCO" in blocks_text(first)

    follow_up = channel_message("does a new feature need approval?", channel=channel, thread_ts=question["ts"])
    bot["slack"].send_event(event(follow_up))
    answers = fake.wait_for("chat.postMessage", count=2, where=in_channel(channel))
    assert answers[1]["thread_ts"] == question["ts"]
    assert "feedback_up" in blocks_text(answers[1])


def test_plain_message_in_a_random_channel_is_ignored(bot, fake):
    channel = new_channel()
    ignored = channel_message("how do I sign off my commits?", channel=channel)
    bot["slack"].send_event(event(ignored))
    sentinel(bot, fake)
    assert [c for c in list(fake.calls) if c.args.get("channel") == channel] == []


def test_plain_message_in_a_help_channel_is_answered_in_a_thread(bot, fake):
    user, _ = new_dm()
    question = channel_message("how do I sign off my commits?", channel=HELP_CHANNEL, user=user)
    assert "git commit -s" in blocks_text(answered_in_its_thread(bot, fake, question))


def answered_in_its_thread(bot, fake, message: dict) -> dict:
    bot["slack"].send_event(event(message))
    return posted(fake, lambda a: a.get("channel") == message["channel"] and a.get("thread_ts") == message["ts"])


# -- 2. what the bot ignores ----------------------------------------------------------------------
def test_bots_edits_deletions_and_joins_are_ignored(bot, fake):
    channels = []
    for extra in (
        {"bot_id": "B0OTHER"},
        {"subtype": "message_changed"},
        {"subtype": "message_deleted"},
        {"subtype": "channel_join"},
    ):
        user, channel = new_dm()
        channels.append(channel)
        bot["slack"].send_event(event(dm("how do I sign off my commits?", user=user, channel=channel, **extra)))
    join_in_help = channel_message(
        "<@U0JOINER> has joined the channel", channel=HELP_CHANNEL, user="U0JOINER", subtype="channel_join"
    )
    bot["slack"].send_event(event(join_in_help))
    bot_mention = mention("how do I sign off my commits?", channel=new_channel(), bot_id="B0OTHER")
    channels.append(bot_mention["channel"])
    bot["slack"].send_event(event(bot_mention))
    sentinel(bot, fake)
    assert [c.method for c in list(fake.calls) if c.args.get("channel") in channels] == []
    assert not [
        c
        for c in list(fake.calls)
        if c.args.get("thread_ts") == join_in_help["ts"] or c.args.get("timestamp") == join_in_help["ts"]
    ]


def test_every_other_subtype_is_ignored_for_its_reason(bot, fake):
    """Pins, topics, thread notices, EKM-hidden messages, huddles and subtypes Slack adds later."""
    from bot.slack.events import IGNORED

    channels = []
    for subtype in (*IGNORED, "some_future_subtype"):
        user, channel = new_dm()
        channels.append(channel)
        bot["slack"].send_event(event(subtype_message(subtype, channel, user=user, text="how do I sign off commits?")))
    sentinel(bot, fake)
    assert [c.method for c in list(fake.calls) if c.args.get("channel") in channels] == []


# -- 2b. messages with files, thread broadcasts, /me -------------------------------------------------
LICENSE_TEXT = b"MIT License\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\n"


def test_a_file_with_words_is_answered_from_the_words(bot, fake):
    user, channel = new_dm()
    license_file = fake.add_file("LICENSE", LICENSE_TEXT, "text/plain")
    message = file_share("can we ship a SaaS product with AGPL code?", [license_file], user=user, channel=channel)
    bot["slack"].send_event(event(message))
    answer = posted(fake, in_channel(channel))
    assert "AGPL in services" in blocks_text(answer)
    assert "I haven't looked at the file itself" in blocks_text(answer)  # honest about what was read
    assert license_file["id"] in [a["file"] for a in fake.calls_to("files.info")]  # looked for an SBOM
    assert fake.wait_for("reactions.remove", where=in_channel(channel))[-1]["timestamp"] == message["ts"]


def test_a_file_alone_gets_what_the_bot_does_with_files(bot, fake):
    user, channel = new_dm()
    license_file = fake.add_file("LICENSE", LICENSE_TEXT, "text/plain")
    bot["slack"].send_event(event(file_share("", [license_file], user=user, channel=channel)))
    reply = posted(fake, in_channel(channel))
    assert reply["text"].startswith("📎 I can read CycloneDX, SPDX and npm lockfiles") and "*LICENSE*" in reply["text"]


def test_files_slack_will_not_let_the_bot_read_change_nothing(bot, fake):
    """A Slack Connect stub, a deleted file, one past the plan's limit, one the app may not see."""
    user, channel = new_dm()
    bot["slack"].send_event(event(file_share("how do I sign off my commits?", UNREADABLE_FILES, user, channel)))
    assert "git commit -s" in blocks_text(posted(fake, in_channel(channel)))
    user, channel = new_dm()
    bot["slack"].send_event(event(file_share("", UNREADABLE_FILES[1:], user, channel)))
    assert posted(fake, in_channel(channel))["text"].startswith("📎 I got your file")
    # deleted, past the limit, denied: never asked for; the Slack Connect stub through files.info, as Slack asks
    unreadable = {f["id"] for f in UNREADABLE_FILES}
    assert [a["file"] for a in fake.calls_to("files.info") if a["file"] in unreadable] == ["F0STUB0001"]
    assert not [a for a in fake.calls_to("download") if a["file"] in unreadable]


def test_files_in_channels_follow_the_channel_rules(bot, fake):
    """In a help channel a file with words is answered in its thread; elsewhere, unless mentioned, ignored."""
    user, _ = new_dm()
    asked = file_share("how do I sign off my commits?", channel=HELP_CHANNEL, user=user)
    assert "git commit -s" in blocks_text(answered_in_its_thread(bot, fake, asked))
    quiet = new_channel()
    bot["slack"].send_event(event(file_share("how do I sign off my commits?", channel=quiet, user=user)))
    bot["slack"].send_event(event(file_share("", [shared_file("package-lock.json", "json")], channel=quiet)))
    sentinel(bot, fake)
    assert [c for c in list(fake.calls) if c.args.get("channel") == quiet] == []


def test_a_broadcast_reply_in_the_bots_thread_is_answered_like_any_reply(bot, fake):
    channel = new_channel()
    question = mention("how do I sign off my commits?", channel=channel)
    bot["slack"].send_event(event(question))
    posted(fake, in_channel(channel))
    bot["slack"].send_event(event(broadcast("does a new feature need approval?", channel, question["ts"])))
    answers = fake.wait_for("chat.postMessage", count=2, where=in_channel(channel))
    assert answers[1]["thread_ts"] == question["ts"] and "feedback_up" in blocks_text(answers[1])


def test_a_me_message_is_a_question_too(bot, fake):
    user, channel = new_dm()
    bot["slack"].send_event(event(subtype_message("me_message", channel, user=user, text="wonders how to sign off")))
    assert "feedback_up" in blocks_text(posted(fake, in_channel(channel)))


# -- 2c. buttons, modals, shortcuts and steps of an older version ------------------------------------
OLDER = "from an older version of ospo-bot"


def says_older(args) -> bool:
    return OLDER in args.get("text", "")


def test_an_old_button_is_acknowledged_and_explained(bot, fake):
    url = fake.response_url("old-button")
    before = responses(fake, says_older)
    status, _ = bot["slack"].send_interaction(block_action("renamed_in_v2", "7", response_url=url))
    assert status == 200  # not Bolt's 404: no error marker on the button
    said = fake.wait_for("response", before + 1, where=says_older)[before]
    assert said["response_type"] == "ephemeral" and said["replace_original"] is False

    user, channel = new_dm()  # no response_url (e.g. App Home): a private word where they are
    assert bot["slack"].send_interaction(block_action("gone_action", "1", user=user, channel=channel))[0] == 200
    fake.wait_for("chat.postEphemeral", where=lambda a: a.get("user") == user and OLDER in a["text"])


def test_an_old_button_inside_a_modal_updates_the_modal(bot, fake):
    payload = block_action("old_select", "x", user=new_dm()[0])
    payload["container"] = {"type": "view", "view_id": "V0OLD"}
    payload["view"] = {"id": "V0OLD", "hash": "h1", "type": "modal", "callback_id": "old_modal", "state": {}}
    del payload["message"]
    assert bot["slack"].send_interaction(payload)[0] == 200
    update = fake.wait_for("views.update", where=lambda a: a.get("view_id") == "V0OLD")[-1]
    assert OLDER in json.dumps(update["view"])


def test_an_old_modal_submission_is_answered_in_the_modal(bot, fake):
    status, body = bot["slack"].send_interaction(view_submission("renamed_modal", "1", {}))
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "update" and OLDER in json.dumps(answer["view"])


def test_an_old_shortcut_and_an_old_workflow_step(bot, fake):
    shortcut = global_shortcut("removed_shortcut")
    assert bot["slack"].send_interaction(shortcut)[0] == 200
    opened = fake.wait_for("views.open", where=lambda a: a.get("trigger_id") == shortcut["trigger_id"])[-1]
    assert OLDER in json.dumps(opened["view"])
    url = fake.response_url("old-message-shortcut")
    before = responses(fake, says_older)
    assert bot["slack"].send_interaction(message_shortcut("removed_message_shortcut", "hi", url))[0] == 200
    fake.wait_for("response", before + 1, where=says_older)

    body, execution = function_executed("removed_step", {})
    assert bot["slack"].send_event(body)[0] == 200
    failed = fake.wait_for("functions.completeError", where=lambda a: a["function_execution_id"] == execution)
    assert "older version of ospo-bot" in failed[-1]["error"]


def test_an_event_the_bot_does_not_act_on_is_acknowledged(bot, fake):
    """Not 404: Slack retries what is not acknowledged and may turn the subscription off."""
    status, _ = bot["slack"].send_event(event({"type": "channel_created", "channel": {"id": "C0NEW"}}))
    assert status == 200


# -- 3. the working indicator ---------------------------------------------------------------------
def test_eyes_reaction_while_working(bot, fake):
    user, channel = new_dm()
    message = dm("how do I sign off my commits?", user=user, channel=channel)
    bot["slack"].send_event(event(message))
    fake.wait_for("reactions.remove", where=in_channel(channel))
    calls = [(c.method, c.args) for c in list(fake.calls) if c.args.get("channel") == channel]
    assert [m for m, _ in calls] == ["reactions.add", "chat.postMessage", "reactions.remove"]
    for method, args in calls:
        if method.startswith("reactions."):
            assert args["name"] == "eyes" and args["timestamp"] == message["ts"]


def test_eyes_only_when_the_answer_takes_longer_than_the_delay(fake):
    """OSPO_WORKING_REACTION_MS (default 1 s; 0 in these tests' bots): a quick answer gets no reaction,
    a slow one gets it when the delay is up, taken off at the end."""
    client = WebClient(token="xoxb-test-token", base_url=fake.base_url)
    quick = Working(client, "D0QUICK", "1.000001", after=60)
    quick.end()
    slow = Working(client, "D0SLOW", "2.000002", after=0.01)
    fake.wait_for("reactions.add", where=in_channel("D0SLOW"))
    slow.end()
    assert [c.method for c in list(fake.calls) if c.args.get("channel") == "D0SLOW"] == [
        "reactions.add",
        "reactions.remove",
    ]
    assert [c for c in list(fake.calls) if c.args.get("channel") == "D0QUICK"] == []


def test_later_runs_its_calls_when_due_on_one_thread_and_survives_a_failing_one(caplog):
    """The 👀's delay: one shared thread, not a thread per answer."""
    later, ran, done = Later(), [], threading.Event()

    def note(name):
        def call():
            ran.append((name, threading.current_thread().name))
            if name == "last":
                done.set()

        return call

    later.call(0.2, note("last"))
    later.call(0.0, lambda: 1 / 0)  # logged; the calls after it still run
    later.call(0.05, note("first"))
    assert done.wait(10)
    assert ran == [("first", "ospo-later"), ("last", "ospo-later")]
    assert "a delayed call failed" in caplog.text


# -- 4. /ospo --------------------------------------------------------------------------------
def test_slash_ask_acks_at_once_and_answers_ephemerally_with_share(bot, fake):
    def about_signing_off(args):
        return "Signing off commits" in everything(args)

    before = responses(fake, about_signing_off)
    started = time.monotonic()
    status, _ = bot["slack"].send_command(command("ask how do I sign off my commits?", fake.response_url("ask")))
    assert status == 200 and time.monotonic() - started < 3
    reply = fake.wait_for("response", before + 1, where=about_signing_off)[before]
    assert reply["response_type"] == "ephemeral"
    assert "git commit -s" in blocks_text(reply)
    button_value(reply, "share")


def test_slash_help_bare_and_approve(bot, fake):
    for text in ("help", ""):
        status, _ = bot["slack"].send_command(command(text, fake.response_url("help")))
        assert status == 200
    helps = fake.wait_for("response", count=2, where=lambda a: "I answer open-source questions" in blocks_text(a))
    assert all(h["response_type"] == "ephemeral" for h in helps)
    approve = command("approve my-project", fake.response_url("approve"))
    status, _ = bot["slack"].send_command(approve)
    assert status == 200
    opened = fake.wait_for("views.open", where=lambda a: a.get("trigger_id") == approve["trigger_id"])[-1]
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    assert view["callback_id"] == "approval_request"  # /ospo approve opens the request form


# -- 4b. shortcuts -------------------------------------------------------------------------------
def test_ask_the_ospo_about_a_message_answers_privately_and_shares(bot, fake):
    user, channel = new_dm()[0], new_channel()
    url = fake.response_url("shortcut")
    shortcut = message_shortcut("ask_ospo", "<@U0OTHER> can we use AGPL code in our SaaS?", url, user, channel)

    def about_agpl(args):
        return "AGPL in services" in everything(args)

    def in_the_channel(args):
        return args.get("response_type") == "in_channel"

    def deleting(args):
        return args.get("delete_original") is True

    before = [responses(fake, where) for where in (about_agpl, in_the_channel, deleting)]
    assert bot["slack"].send_interaction(shortcut)[0] == 200
    reply = fake.wait_for("response", before[0] + 1, where=about_agpl)[before[0]]
    assert reply["response_type"] == "ephemeral"
    asked = next(db(bot).query("SELECT * FROM questions WHERE id = ?", [int(button_value(reply, "share"))]))
    assert asked["user"] == user and asked["source"] == "slack-shortcut"  # whoever ran it, not the author
    assert asked["question"] == "@U0OTHER can we use AGPL code in our SaaS?"  # as its reader saw it

    # Share in channel, in a channel the bot is not in: posted through the response_url instead.
    fake.fail("chat.postMessage", "not_in_channel", where=in_channel(channel))
    share_url = fake.response_url("share")
    click = block_action("share", button_value(reply, "share"), user=user, channel=channel, ephemeral=True)
    bot["slack"].send_interaction({**click, "response_url": share_url})
    shared = fake.wait_for("response", before[1] + 1, where=in_the_channel)[before[1]]
    assert "AGPL in services" in everything(shared)
    fake.wait_for("response", before[2] + 1, where=deleting)

    empty = message_shortcut("ask_ospo", "", fake.response_url("empty"), user, channel)
    bot["slack"].send_interaction(empty)
    fake.wait_for("response", where=lambda a: "no words for me to ask about" in a.get("text", ""))


def test_request_approval_shortcut_opens_the_request_form(bot, fake):
    shortcut = global_shortcut("request_approval")
    assert bot["slack"].send_interaction(shortcut)[0] == 200
    opened = fake.wait_for("views.open", where=lambda a: a.get("trigger_id") == shortcut["trigger_id"])[-1]
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    assert view["callback_id"] == "approval_request"  # the same form as /ospo approve


# -- 5, 6. what the answer says ------------------------------------------------------------------
def test_license_question_leads_with_the_policy_verdict(bot, fake):
    user, channel = new_dm()
    answer = ask_dm(bot, fake, "can I use SSPL code in our SaaS?", user, channel)
    blocks = blocks_of(answer)
    assert "License policy for SSPL-1.0" in blocks[0]["text"]["text"]
    assert len(blocks) >= 3 and blocks[1]["type"] == "section"  # the passage (or "not sure") follows
    assert "License policy" not in json.dumps(blocks[1:])


def test_question_naming_two_licenses_says_whether_they_fit_together(bot, fake):
    user, channel = new_dm()
    answer = ask_dm(bot, fake, "can I use Apache-2.0 code in a GPL-2.0-only project?", user, channel)
    blocks = blocks_of(answer)
    assert "License policy for Apache-2.0" in blocks[0]["text"]["text"]
    together = blocks[1]["text"]["text"]
    assert together.startswith("🔗 *License compatibility:* ⛔ not compatible")
    assert "Code under Apache-2.0 in a work distributed under GPL-2.0-only" in together
    assert "OSADL license compatibility matrix" in together


def test_not_confident_says_so_and_offers_the_ospo_team(bot, fake):
    user, channel = new_dm()
    answer = ask_dm(bot, fake, "what's for lunch?", user, channel)
    assert "I'm not sure" in blocks_text(answer)
    button_value(answer, "escalate")


def candidate_buttons(message: dict) -> list[str]:
    """The section ids of the "Show quote" buttons beside the candidates of a not-sure answer."""
    return [
        block["accessory"]["value"]
        for block in blocks_of(message)
        if (block.get("accessory") or {}).get("action_id") == "show_section"
    ]


def test_not_sure_lists_candidate_sections_and_shows_one_in_the_thread(bot, fake):
    user, channel = new_dm()
    answer = ask_dm(bot, fake, "who approves sponsorship of a conference booth?", user, channel)
    assert "I'm not sure" in blocks_text(answer)
    candidates = candidate_buttons(answer)
    assert 2 <= len(candidates) <= 3 and "cla/dco.md#how-to-sign-off" in candidates
    assert "Signing off commits with the DCO" in blocks_text(answer)  # document › heading and one line
    escalate = next(e for b in blocks_of(answer) for e in b.get("elements") or [] if e.get("action_id") == "escalate")
    assert escalate.get("style") == "primary"  # asking the OSPO team stays the main button

    click = block_action("show_section", "cla/dco.md#how-to-sign-off", user=user, channel=channel)
    bot["slack"].send_interaction(click)
    shown = posted(fake, lambda a: a.get("thread_ts") == click["message"]["ts"])
    assert shown["channel"] == channel and "git commit -s" in blocks_text(shown)
    assert "Signing off commits with the DCO" in blocks_text(shown)


def test_show_quote_under_a_private_answer_answers_privately_and_a_gone_section_is_said(bot, fake):
    def unsure(args):
        return "I'm not sure" in everything(args)

    def beside_the_original(args):
        return args.get("replace_original") is False

    before = responses(fake, unsure)
    status, _ = bot["slack"].send_command(
        command("ask who approves sponsorship of a conference booth?", fake.response_url("unsure"))
    )
    assert status == 200
    reply = fake.wait_for("response", before + 1, where=unsure)[before]
    (section_id, *_) = candidate_buttons(reply)
    url = fake.response_url("shown")
    before = responses(fake, beside_the_original)
    bot["slack"].send_interaction(block_action("show_section", section_id, ephemeral=True, response_url=url))
    shown = fake.wait_for("response", before + 1, where=beside_the_original)[before]
    assert shown["response_type"] == "ephemeral" and shown["text"].startswith("From ")
    assert "Show quote" not in blocks_text(shown) and len(blocks_of(shown)) == 2  # the quote and its source

    user, channel = new_dm()
    bot["slack"].send_interaction(block_action("show_section", "gone.md#nowhere", user=user, channel=channel))
    said = fake.wait_for("chat.postEphemeral", where=lambda a: a.get("user") == user)[-1]
    assert "no longer in the OSPO handbook" in said["text"]


# -- 7. feedback -----------------------------------------------------------------------------
def test_thumbs_up_and_down_with_reason(bot, fake):
    user, channel = new_dm()
    answer = ask_dm(bot, fake, "how do I sign off my commits?", user, channel)
    qid = button_value(answer, "feedback_up")

    bot["slack"].send_interaction(block_action("feedback_up", qid, user=user, channel=channel))
    thanks = fake.wait_for("chat.postEphemeral", where=lambda a: a.get("user") == user)[-1]
    assert "Thanks" in thanks["text"] and thanks["channel"] == channel
    assert [r["vote"] for r in db(bot).query("SELECT vote FROM feedback WHERE question_id = ?", [int(qid)])] == [1]

    down = block_action("feedback_down", qid, user=user, channel=channel)
    bot["slack"].send_interaction(down)
    opened = fake.wait_for("views.open", where=lambda a: a.get("trigger_id") == down["trigger_id"])[-1]
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    assert view["callback_id"] == "feedback_reason" and view["private_metadata"] == qid

    values = {"reason": {"text": {"type": "plain_text_input", "value": "It quoted the wrong section"}}}
    status, _ = bot["slack"].send_interaction(view_submission("feedback_reason", qid, values, user=user))
    assert status == 200

    def recorded():
        rows = list(
            db(bot).query("SELECT vote, reason FROM feedback WHERE question_id = ? AND user = ?", [int(qid), user])
        )
        return rows == [{"vote": -1, "reason": "It quoted the wrong section"}]

    wait_until(recorded, 10, "the 👎 reason in the feedback table")


# -- 8, 9. the human loop ----------------------------------------------------------------------
def test_ask_the_ospo_team_relay_and_resolve(bot, fake):
    # as Slack sends what was typed: "<" and "&" escaped
    flow = escalate_from_dm(bot, fake, "may I present our &lt;internal&gt; tool &amp; its code at a conference?")
    triage = flow["triage"]
    assert "may I present our &lt;internal&gt; tool &amp; its code" in blocks_text(triage)
    assert f"<@{flow['user']}>" in blocks_text(triage)
    assert button_value(triage, "resolve") == str(flow["escalation"]["id"])

    # A second click: no second escalation, no second triage post.
    bot["slack"].send_interaction(
        block_action("escalate", flow["qid"], user=flow["user"], channel=flow["channel"], message_ts=flow["answer_ts"])
    )
    fake.wait_for("chat.postEphemeral", where=lambda a: a.get("user") == flow["user"] and "already" in a["text"])
    assert (
        len(
            calls_where(
                fake,
                "chat.postMessage",
                lambda a: a.get("channel") == TRIAGE and f"<@{flow['user']}>" in blocks_text(a),
            )
        )
        == 1
    )
    assert db(bot)["escalations"].count_where("question_id = ?", [int(flow["qid"])]) == 1

    relay, offer = ospo_reply(bot, fake, flow, "<!here> Yes, after a review of the slides by the OSPO.")
    assert relay["thread_ts"] == flow["answer_ts"]
    assert "after a review of the slides" in everything(relay)
    assert "<!here>" not in everything(relay)  # relayed into the asker's thread, it must not ping
    assert "resolve" in blocks_text(offer)

    resolve = block_action(
        "resolve",
        str(flow["escalation"]["id"]),
        user=OSPO_MEMBER,
        channel=TRIAGE,
        message_ts=flow["escalation"]["triage_ts"],
    )
    bot["slack"].send_interaction(resolve)
    told = posted(fake, lambda a: a.get("channel") == flow["channel"] and "resolved" in a.get("text", ""))
    assert told["thread_ts"] == flow["answer_ts"]
    update = fake.wait_for("chat.update", where=lambda a: a.get("ts") == flow["escalation"]["triage_ts"])
    assert update[-1]["channel"] == TRIAGE and "Resolved" in blocks_text(update[-1])

    before = len(fake.calls)
    bot["slack"].send_interaction(
        block_action(
            "resolve",
            str(flow["escalation"]["id"]),
            user=OSPO_MEMBER,
            channel=TRIAGE,
            message_ts=flow["escalation"]["triage_ts"],
        )
    )
    sentinel(bot, fake)
    later = [c for c in fake.calls[before:] if c.args.get("channel") in (TRIAGE, flow["channel"])]
    assert later == []


def test_save_as_knowledge_answers_the_next_asker(bot, fake):
    question = "who approves speaking at open source conferences?"
    flow = escalate_from_dm(bot, fake, question)
    ospo_reply(bot, fake, flow, "The developer relations team approves conference talks; file a speaker request.")
    bot["slack"].send_interaction(
        block_action(
            "save_knowledge",
            str(flow["escalation"]["id"]),
            user=OSPO_MEMBER,
            channel=TRIAGE,
            message_ts=flow["escalation"]["triage_ts"],
        )
    )
    saved = posted(fake, lambda a: a.get("channel") == TRIAGE and a.get("text", "").startswith("Saved as learned/"))
    path = saved["text"].removeprefix("Saved as ")
    learned = Path(bot["env"]["OSPO_DATA_DIR"]) / path
    assert learned.parent.name == "learned" and learned.suffix == ".md"
    assert "developer relations team approves" in learned.read_text()

    user, channel = new_dm()
    answer = ask_dm(bot, fake, question, user, channel)
    assert "developer relations team approves" in blocks_text(answer)
    assert "I'm not sure" not in blocks_text(answer)
    row = next(db(bot).query("SELECT confident, top_path FROM questions WHERE user = ? ORDER BY id DESC", [user]))
    assert row["confident"] and row["top_path"].startswith("learned/")


def test_digest_answer_and_save_reaches_the_asker_and_the_knowledge_base(bot, fake):
    """The digest's "Answer & save to knowledge base" on an unanswered question."""
    user, channel = new_dm()
    question = "who signs off on hackathon prizes for open source projects?"
    answer = ask_dm(bot, fake, question, user, channel)
    assert "I'm not sure" in blocks_text(answer)
    question_id = button_value(answer, "feedback_up")
    bot["slack"].send_interaction(block_action("digest_answer", question_id, user=OSPO_MEMBER, channel="C0DIGEST"))
    modal = fake.wait_for("views.open", where=lambda a: "digest_answer" in json.dumps(a.get("view")))[-1]
    assert question in json.dumps(modal["view"])
    status, body = bot["slack"].send_interaction(
        view_submission("digest_answer", question_id, {"answer": {"text": {"value": "  "}}}, user=OSPO_MEMBER)
    )
    assert status == 200 and "errors" in body  # an empty answer is not saved
    bot["slack"].send_interaction(
        view_submission(
            "digest_answer",
            question_id,
            {"answer": {"text": {"value": "The OSPO lead signs off on hackathon prizes."}}},
            user=OSPO_MEMBER,
        )
    )
    relayed = posted(fake, lambda a: a.get("channel") == user and "hackathon prizes" in everything(a))
    assert relayed["text"].startswith("The OSPO team answered")
    saved = posted(fake, lambda a: a.get("channel") == OSPO_MEMBER and a.get("text", "").startswith("Saved as"))
    assert saved["text"].removeprefix("Saved as ").startswith("learned/")
    other_user, other_channel = new_dm()
    again = ask_dm(bot, fake, question, other_user, other_channel)
    assert "The OSPO lead signs off on hackathon prizes." in blocks_text(again)


# -- 10. Slack retries -------------------------------------------------------------------------
def test_retried_event_is_answered_once_even_after_a_restart(bot, fake):
    user, channel = new_dm()
    payload = event(dm("how do I sign off my commits?", user=user, channel=channel))
    assert bot["slack"].send_event(payload)[0] == 200
    assert (
        bot["slack"].send_event(payload, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})[0] == 200
    )
    posted(fake, in_channel(channel))
    sentinel(bot, fake)
    assert len(calls_where(fake, "chat.postMessage", in_channel(channel))) == 1

    process, base, _ = start_bot(bot["env"], bot["folder"])
    try:
        second = SlackSide(base + "/slack/events")
        assert second.send_event(payload, {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"})[0] == 200
        other_user, other_channel = new_dm()
        second.send_event(event(dm("how do I sign off my commits?", user=other_user, channel=other_channel)))
        posted(fake, in_channel(other_channel))  # the new process answers new events
    finally:
        stop_bot(process)
    assert len(calls_where(fake, "chat.postMessage", in_channel(channel))) == 1


# -- 11. signatures ---------------------------------------------------------------------------
def test_unsigned_badly_signed_and_stale_requests_are_refused(bot, fake):
    user, channel = new_dm()
    payload = event(dm("how do I sign off my commits?", user=user, channel=channel))
    body = json.dumps(payload)
    url = bot["slack"].url
    bad = {**sign(body), "X-Slack-Signature": "v0=" + "0" * 64}
    stale = sign(body, timestamp=int(time.time()) - 6 * 60)
    wrong_secret = sign(body, secret="not-the-secret")
    assert post(url, body, "application/json", bad, signed=False)[0] == 401
    assert post(url, body, "application/json", signed=False)[0] == 401
    assert post(url, body, "application/json", stale, signed=False)[0] == 401
    assert post(url, body, "application/json", wrong_secret, signed=False)[0] == 401
    sentinel(bot, fake)
    assert [c.method for c in list(fake.calls) if c.args.get("channel") == channel] == []
    # The refused requests did not use up the event id: the genuine one is answered.
    assert bot["slack"].send_event(payload)[0] == 200
    posted(fake, in_channel(channel))


# -- 12. Web API failures ----------------------------------------------------------------------
def test_rate_limited_answer_is_retried(bot, fake):
    user, channel = new_dm()
    fake.rate_limit("chat.postMessage", retry_after=1)
    bot["slack"].send_event(event(dm("how do I sign off my commits?", user=user, channel=channel)))
    attempts = fake.wait_for("chat.postMessage", count=2, where=in_channel(channel))
    assert attempts[0] == attempts[1] and "git commit -s" in blocks_text(attempts[1])
    assert not calls_where(fake, "chat.postEphemeral", lambda a: a.get("user") == user)


def test_failed_answer_gets_an_apology(bot, fake):
    user, channel = new_dm()
    fake.fail("chat.postMessage", "channel_not_found")
    bot["slack"].send_event(event(dm("how do I sign off my commits?", user=user, channel=channel)))
    apology = wait_for_apology(fake, user)
    assert apology["channel"] in (channel, user)


def test_slack_outage_gets_an_apology_and_the_next_answer_arrives(bot, fake):
    user, channel = new_dm()
    fake.server_error("chat.postMessage", 503, times=5)
    bot["slack"].send_event(event(dm("how do I sign off my commits?", user=user, channel=channel)))
    wait_for_apology(fake, user)
    assert len(calls_where(fake, "chat.postMessage", in_channel(channel))) == 3  # first try + 2 retries
    # Two 503s are still queued: the next answer gets through on its third try.
    other, other_channel = new_dm()
    bot["slack"].send_event(event(dm("how do I sign off my commits?", user=other, channel=other_channel)))
    fake.wait_for("chat.postMessage", count=3, where=in_channel(other_channel))
    assert not calls_where(fake, "chat.postEphemeral", lambda a: a.get("user") == other)


def wait_for_apology(fake, user: str) -> dict:
    """The apology: an ephemeral message where they asked, or a DM to them."""

    def apologies():
        return [
            c.args
            for c in list(fake.calls)
            if c.method in ("chat.postEphemeral", "chat.postMessage")
            and "Sorry" in c.args.get("text", "")
            and user in (c.args.get("user"), c.args.get("channel"))
        ]

    wait_until(apologies, 30, f"an apology to {user}")
    return apologies()[-1]


# -- 13. hostile input ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "",
        "Can I contribute to an Apache project? " * 1030,
        "🎉🔥👍🏽😀",
        "<!channel> <@U999> <https://evil|innocent>",
        "```\ngit commit -s -m 'fix'\nrm -rf /\n```",
    ],
    ids=["empty", "40k", "emoji", "pings-and-links", "code-block"],
)
def test_hostile_input_gets_a_reply(bot, fake, text):
    user, channel = new_dm()
    answer = ask_dm(bot, fake, text, user, channel)
    assert answer.get("text") or answer.get("blocks")
    assert "Sorry" not in everything(answer)
    assert not calls_where(fake, "chat.postEphemeral", lambda a: a.get("user") == user)  # no apology: no crash
    assert json.loads(urllib.request.urlopen(bot["base"] + "/healthz").read())["status"] == "ok"


def test_pings_and_links_reach_the_triage_channel_as_read_and_inert(bot, fake):
    # The question is kept as its asker read it (bot/slack/mrkdwn.py: to_plain): a link shows where it
    # goes, and nothing in it pings or links when the triage channel shows it.
    flow = escalate_from_dm(bot, fake, "<!channel> <@U999> <https://evil|innocent> R&amp;D")
    triage = everything(flow["triage"])
    assert "@channel @U999 innocent (https://evil) R&amp;D" in blocks_text(flow["triage"])
    for raw in ("<!channel>", "<@U999>", "<https://evil|innocent>", "&amp;amp;"):
        assert raw not in triage


def test_a_huge_question_reaches_the_triage_channel(bot, fake):
    question = "Can I contribute to an Apache project? " * 1030  # 40,000+ characters
    flow = escalate_from_dm(bot, fake, question)
    assert "Can I contribute to an Apache project?" in blocks_text(flow["triage"])
    relay, _ = ospo_reply(bot, fake, flow, "Yes. " * 8000)  # and a huge reply back
    assert "Yes." in blocks_text(relay)
    # Both stay within Slack's limits: checked with everything else in the last test.


# -- 14. Slack's limits, over everything sent in this module (keep this test last) --------------
def test_only_the_ospo_team_resolves_and_saves_knowledge(bot, fake):
    """Someone else who sees the triage post can neither save nor resolve (the asker may resolve)."""
    flow = escalate_from_dm(bot, fake, "who owns the company's github org settings?")
    ospo_reply(bot, fake, flow, "The OSPO owns them.")
    escalation = flow["escalation"]
    values = {
        "save_knowledge": escalation["id"],
        "resolve": escalation["id"],
        "digest_answer": escalation["question_id"],
    }
    for count, (action, value) in enumerate(values.items(), start=1):
        bot["slack"].send_interaction(block_action(action, str(value), user="U0STRANGER", channel=TRIAGE))
        fake.wait_for(
            "chat.postEphemeral",
            count=count,
            where=lambda a: a.get("user") == "U0STRANGER" and "Only the OSPO team" in a.get("text", ""),
        )
    row = next(db(bot).query("SELECT state FROM escalations WHERE id = ?", [escalation["id"]]))
    assert row["state"] == "open"
    assert not list(db(bot).query("SELECT * FROM learned WHERE escalation_id = ?", [escalation["id"]]))


def test_changed_policy_is_sent_to_those_who_were_quoted_it(bot, fake):
    """Edit the section an answer quoted: the running bot DMs the asker the new text."""
    user, channel = new_dm()
    answer = ask_dm(bot, fake, "what command signs off a commit for the DCO?", user, channel)
    assert "git commit -s" in blocks_text(answer)
    path = bot["knowledge"] / "cla/dco.md"
    path.write_text(path.read_text().replace("git commit -s", "git commit --signoff"))
    notice = fake.wait_for(
        "chat.postMessage", timeout=60, where=lambda a: a.get("channel") == user and "has changed" in a.get("text", "")
    )[-1]
    assert "git commit --signoff" in blocks_text(notice)
    assert "what command signs off a commit" in blocks_text(notice)


def test_every_block_kit_payload_stayed_within_slack_limits(fake):
    checked = 0
    for call in list(fake.calls):
        payloads = [call.args]
        if isinstance(call.args.get("view"), (dict, str)):
            view = call.args["view"]
            payloads.append(json.loads(view) if isinstance(view, str) else view)
        for payload in payloads:
            blocks = blocks_of(payload)
            if not blocks:
                continue
            checked += 1
            where = f"{call.method} {blocks_text(payload)[:200]}"
            assert len(blocks) <= 50, where
            for block in blocks:
                if block["type"] == "section":
                    assert len(block["text"]["text"]) <= 3000, where
                for element in block.get("elements") or []:
                    if element.get("type") == "button":
                        assert len(element.get("value", "")) <= 2000, where
                    if block["type"] == "context":
                        assert len(element.get("text", "")) <= 3000, where
            if call.method in ("chat.postMessage", "chat.postEphemeral", "chat.update", "response"):
                assert len(str(payload.get("text") or "")) <= 40_000, where
    assert checked >= 30  # the module sent plenty: an empty loop would prove nothing
