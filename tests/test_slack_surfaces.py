"""End to end, the surfaces a Slack admin expects in 2026: the assistant pane, link unfurls and
request references, Workflow Builder steps. A running `ospo-bot serve` (HTTP mode) talks to the fake
Slack; Slack's side arrives as signed payloads shaped as the samples tests/slackkit.py names."""

from __future__ import annotations

import itertools
import json

import pytest

from tests.conftest import SMALL_KB, bot_db, bot_env, start_bot, stop_bot, wait_until
from tests.slackkit import (
    SlackSide,
    assistant_context_changed,
    assistant_message,
    assistant_thread_started,
    block_action,
    blocks_of,
    channel_message,
    dm,
    event,
    file_share,
    text_of,
)

TRIAGE, APPROVALS, HELP = "C0TRIAGE2", "C0APPROVE2", "C0HELP2"
APPROVER = "U0APPROVE2"
KNOWLEDGE = {
    **SMALL_KB,
    "cla/corporate.md": """
        ---
        title: Signing a CLA for the company
        url: https://handbook.example.com/cla
        updated: 2026-09-01
        ---
        # Signing a CLA for the company

        Only the OSPO signs corporate contributor license agreements.

        ## Who may sign a corporate CLA

        <!-- asked as:
        - can my manager just sign the cla for our team
        - who is allowed to sign a company cla
        -->

        Only the OSPO may sign a corporate contributor license agreement (CLA) for the company.
        Managers and engineers may not sign one, even for their own team.
        """,
}


@pytest.fixture(scope="module")
def bot(fake, tmp_path_factory, model_name):
    folder = tmp_path_factory.mktemp("surfaces-bot")
    env = bot_env(
        folder,
        fake,
        model_name,
        KNOWLEDGE,
        OSPO_TRIAGE_CHANNEL=TRIAGE,
        OSPO_APPROVALS_CHANNEL=APPROVALS,
        OSPO_HELP_CHANNELS=HELP,
        OSPO_APPROVERS=APPROVER,
        OSPO_HOUSEKEEPING_SECONDS="0.5",
    )
    process, base, log = start_bot(env, folder)
    yield {"slack": SlackSide(base + "/slack/events"), "env": env, "log": log}
    stop_bot(process)


# -- helpers ----------------------------------------------------------------------------------------
_n = itertools.count(1)


def new_user() -> tuple[str, str]:
    """A fresh person and their DM with the bot (the pane's threads live in it)."""
    n = next(_n)
    return f"U0S{n:05d}", f"D0S{n:05d}"


def button_values(message: dict, action_id: str) -> list[str]:
    return [
        e.get("value")
        for b in blocks_of(message)
        for e in [*(b.get("elements") or []), b.get("accessory") or {}]
        if e.get("action_id") == action_id
    ]


def in_thread(channel: str, thread_ts: str):
    return lambda a: a.get("channel") == channel and a.get("thread_ts") == thread_ts


def method_order(fake, channel: str, thread_ts: str) -> list[str]:
    """The Web API calls about one thread, in order (the pane's calls name it channel_id)."""
    return [
        c.method
        for c in list(fake.calls)
        if (c.args.get("channel") or c.args.get("channel_id")) == channel and c.args.get("thread_ts") == thread_ts
    ]


def open_thread(bot, fake, user: str, channel: str, viewing: str | None = None) -> str:
    """The person opens the pane: its thread's ts once the greeting is posted."""
    started, thread_ts = assistant_thread_started(user, channel, viewing)
    assert bot["slack"].send_event(event(started))[0] == 200
    fake.wait_for("assistant.threads.setSuggestedPrompts", where=lambda a: a.get("thread_ts") == thread_ts)
    return thread_ts


def prompts_of(fake, thread_ts: str) -> list[dict]:
    args = fake.wait_for("assistant.threads.setSuggestedPrompts", where=lambda a: a.get("thread_ts") == thread_ts)[-1]
    prompts = args["prompts"]
    return json.loads(prompts) if isinstance(prompts, str) else prompts


# -- 1. the assistant pane ---------------------------------------------------------------------------
def test_a_new_thread_is_greeted_with_default_prompts_before_anyone_asked(bot, fake):
    user, channel = new_user()
    thread_ts = open_thread(bot, fake, user, channel, viewing="C0VIEWING")
    greeting = fake.wait_for("chat.postMessage", where=in_thread(channel, thread_ts))[-1]
    assert "OSPO handbook" in greeting["text"]
    prompts = prompts_of(fake, thread_ts)
    assert [p["title"] for p in prompts] == [
        "Use a license",
        "Contribute upstream",
        "Release a project",
        "Ask for approval",
    ]
    assert bot_db(bot)["assistant_threads"].get((channel, thread_ts))["context"] == json.dumps(
        {"channel_id": "C0VIEWING", "team_id": "T0001"}
    )


def test_prompts_come_from_what_people_ask_most(bot, fake):
    """The sections people were answered from most, each as its "asked as" phrasing: never a person's words."""
    for question in ("can my manager sign the cla for our team?", "who may sign a company CLA?"):
        user, channel = new_user()
        bot["slack"].send_event(event(dm(question, user=user, channel=channel)))
        answer = fake.wait_for("chat.postMessage", where=lambda a, c=channel: a.get("channel") == c)[-1]
        assert "Who may sign a corporate CLA" in text_of(answer)
    user, channel = new_user()
    bot["slack"].send_event(event(dm("how do I sign off my commits?", user=user, channel=channel)))
    fake.wait_for("chat.postMessage", where=lambda a: a.get("channel") == channel)

    user, channel = new_user()
    prompts = prompts_of(fake, open_thread(bot, fake, user, channel))
    assert prompts[0] == {
        "title": "Who may sign a corporate CLA",
        "message": "Can my manager just sign the cla for our team?",
    }
    assert prompts[1]["title"] == "How to sign off"  # asked once, and it has no "asked as": the heading
    assert len(prompts) == 4 and prompts[2]["title"] == "Use a license"  # the rest: the defaults
    assert not any("for our team?" == p["message"] for p in prompts[1:])


def test_a_question_in_the_pane_shows_a_status_titles_the_thread_and_answers_as_a_dm(bot, fake):
    user, channel = new_user()
    thread_ts = open_thread(bot, fake, user, channel)
    bot["slack"].send_event(event(assistant_message("How do I sign off my commits?", user, channel, thread_ts)))
    answer = fake.wait_for("chat.postMessage", count=2, where=in_thread(channel, thread_ts))[-1]
    assert "git commit -s" in text_of(answer)
    for action in ("feedback_up", "feedback_down", "escalate"):  # the same buttons as in a DM
        assert button_values(answer, action)
    status = fake.wait_for("assistant.threads.setStatus", where=lambda a: a.get("thread_ts") == thread_ts)[-1]
    assert status["status"] == "is searching the OSPO handbook…" and status["channel_id"] == channel
    title = fake.wait_for("assistant.threads.setTitle", where=lambda a: a.get("thread_ts") == thread_ts)[-1]
    assert title["title"] == "How do I sign off my commits?"
    order = method_order(fake, channel, thread_ts)
    assert order.index("assistant.threads.setStatus") < len(order) - 1 - order[::-1].index("chat.postMessage")
    assert "reactions.add" not in [c.method for c in list(fake.calls) if c.args.get("channel") == channel]

    bot["slack"].send_event(event(assistant_message("does a new feature need approval?", user, channel, thread_ts)))
    fake.wait_for("chat.postMessage", count=3, where=in_thread(channel, thread_ts))
    titles = [a for a in fake.calls_to("assistant.threads.setTitle") if a.get("thread_ts") == thread_ts]
    assert len(titles) == 1  # from the first question only


def test_the_viewed_channel_is_kept_as_it_changes(bot, fake):
    user, channel = new_user()
    thread_ts = open_thread(bot, fake, user, channel, viewing="C0FIRST")
    bot["slack"].send_event(event(assistant_context_changed(user, channel, thread_ts, "C0SECOND")))

    def viewing() -> dict:
        return json.loads(bot_db(bot)["assistant_threads"].get((channel, thread_ts))["context"])

    wait_until(lambda: viewing().get("channel_id") == "C0SECOND", 30, "the new context to be stored")
    assert viewing() == {"channel_id": "C0SECOND", "team_id": "T0001"}


def test_asking_the_ospo_team_from_the_pane_comes_back_to_the_thread(bot, fake):
    user, channel = new_user()
    thread_ts = open_thread(bot, fake, user, channel)
    bot["slack"].send_event(
        event(assistant_message("who approves conference talks about our code?", user, channel, thread_ts))
    )
    answer = fake.wait_for("chat.postMessage", count=2, where=in_thread(channel, thread_ts))[-1]
    (question_id,) = button_values(answer, "escalate")
    answer_ts = "1800000100.000001"
    bot["slack"].send_interaction(
        block_action("escalate", question_id, user=user, channel=channel, message_ts=answer_ts, thread_ts=thread_ts)
    )
    triage = fake.wait_for(
        "chat.postMessage", where=lambda a: a.get("channel") == TRIAGE and f"<@{user}>" in text_of(a)
    )[-1]
    escalation = next(bot_db(bot).query("SELECT * FROM escalations WHERE question_id = ?", [int(question_id)]))
    assert escalation["thread_ts"] == thread_ts and "conference talks" in text_of(triage)
    reply = channel_message(
        "Developer relations does.", channel=TRIAGE, user=APPROVER, thread_ts=escalation["triage_ts"]
    )
    bot["slack"].send_event(event(reply))
    fake.wait_for("chat.postMessage", where=lambda a: in_thread(channel, thread_ts)(a) and "Developer" in text_of(a))


def test_files_in_the_pane_take_the_file_share_route(bot, fake):
    user, channel = new_user()
    thread_ts = open_thread(bot, fake, user, channel)
    alone = {**file_share("", user=user, channel=channel), "thread_ts": thread_ts}
    bot["slack"].send_event(event(alone))
    reply = fake.wait_for("chat.postMessage", count=2, where=in_thread(channel, thread_ts))[-1]
    assert reply["text"].startswith("📎 I got your file")
    worded = {**file_share("how do I sign off my commits?", user=user, channel=channel), "thread_ts": thread_ts}
    bot["slack"].send_event(event(worded))
    answer = fake.wait_for("chat.postMessage", count=3, where=in_thread(channel, thread_ts))[-1]
    assert "git commit -s" in text_of(answer) and "I don't open attached files" in text_of(answer)


def test_a_thread_of_an_ordinary_dm_is_answered_as_before(bot, fake):
    """No assistant pane (a workspace without it, or a reply under a DM answer): no status, the 👀."""
    user, channel = new_user()
    reply = dm("how do I sign off my commits?", user=user, channel=channel, thread_ts="1700000001.000001")
    bot["slack"].send_event(event(reply))
    answer = fake.wait_for("chat.postMessage", where=in_thread(channel, "1700000001.000001"))[-1]
    assert "git commit -s" in text_of(answer)
    assert not [a for a in fake.calls_to("assistant.threads.setStatus") if a.get("channel_id") == channel]
    assert fake.wait_for("reactions.remove", where=lambda a: a.get("channel") == channel)


def test_when_the_answer_cannot_be_posted_the_status_is_cleared_and_an_apology_sent(bot, fake):
    user, channel = new_user()
    thread_ts = open_thread(bot, fake, user, channel)
    fake.fail("chat.postMessage", "msg_too_long", where=in_thread(channel, thread_ts))
    bot["slack"].send_event(event(assistant_message("how do I sign off my commits?", user, channel, thread_ts)))
    cleared = fake.wait_for(
        "assistant.threads.setStatus", where=lambda a: a.get("thread_ts") == thread_ts and a.get("status") == ""
    )
    assert cleared
    fake.wait_for("chat.postEphemeral", where=lambda a: a.get("user") == user and "Sorry" in a.get("text", ""))
