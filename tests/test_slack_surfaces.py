"""End to end, the surfaces a Slack admin expects in 2026: the assistant pane, link unfurls and
request references, Workflow Builder steps. A running `ospo-bot serve` (HTTP mode) talks to the fake
Slack; Slack's side arrives as signed payloads shaped as the samples tests/slackkit.py names."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import yaml

from tests.approval_data import contribution, form_state, submission
from tests.conftest import SMALL_KB, bot_db, bot_env, start_bot, stop_bot, wait_until
from tests.slackkit import (
    SlackSide,
    assistant_context_changed,
    assistant_message,
    assistant_thread_started,
    block_action,
    blocks_of,
    channel_message,
    command,
    dm,
    event,
    file_share,
    function_executed,
    link_shared,
    text_of,
)

TRIAGE, APPROVALS, HELP = "C0TRIAGE2", "C0APPROVE2", "C0HELP2"
APPROVER = "U0APPROVE2"
REQUEST_URL = "https://ospo.example.com/requests/{ref}"
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
        OSPO_REQUEST_URL=REQUEST_URL,
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
    stored = "SELECT * FROM escalations WHERE question_id = ? AND triage_ts IS NOT NULL"
    wait_until(lambda: list(bot_db(bot).query(stored, [int(question_id)])), 30, "the triage post recorded")
    escalation = next(bot_db(bot).query(stored, [int(question_id)]))
    assert escalation["thread_ts"] == thread_ts and "conference talks" in text_of(triage)
    reply = channel_message(
        "Developer relations does.", channel=TRIAGE, user=APPROVER, thread_ts=escalation["triage_ts"]
    )
    bot["slack"].send_event(event(reply))
    fake.wait_for("chat.postMessage", where=lambda a: in_thread(channel, thread_ts)(a) and "Developer" in text_of(a))


def test_files_in_the_pane_take_the_file_share_route(bot, fake):
    user, channel = new_user()
    thread_ts = open_thread(bot, fake, user, channel)
    notes = fake.add_file("notes.txt", b"Remember the NOTICE file.\n", "text/plain")
    alone = {**file_share("", [notes], user=user, channel=channel), "thread_ts": thread_ts}
    bot["slack"].send_event(event(alone))
    reply = fake.wait_for("chat.postMessage", count=2, where=in_thread(channel, thread_ts))[-1]
    assert reply["text"].startswith("📎 I can read CycloneDX, SPDX and npm lockfiles")
    worded = file_share("how do I sign off my commits?", [notes], user=user, channel=channel) | {"thread_ts": thread_ts}
    bot["slack"].send_event(event(worded))
    answer = fake.wait_for("chat.postMessage", count=3, where=in_thread(channel, thread_ts))[-1]
    assert "git commit -s" in text_of(answer) and "I haven't looked at the file itself" in text_of(answer)


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


# -- 2. unfurls and request references ----------------------------------------------------------------
def pending_request(bot, fake, user: str) -> dict:
    """A request the policy leaves to the OSPO (a feature), posted in the approvals channel."""
    marker = f"unf{next(_n):05d}"
    values = form_state("contribute", **contribution(marker, change_kind="feature"))
    assert bot["slack"].send_interaction(submission("approval_request", "", values, user)) == (200, "")
    post = fake.wait_for("chat.postMessage", where=lambda a: a.get("channel") == APPROVALS and marker in text_of(a))[-1]
    ref = post["text"].split()[0]
    return {"id": int(ref.removeprefix("OSPO-")), "ref": ref, "url": REQUEST_URL.format(ref=ref), "user": user}


def unfurled(fake, shared: dict) -> dict:
    """What chat.unfurl said about one shared message: {url: blocks}."""
    args = fake.wait_for("chat.unfurl", where=lambda a: a.get("ts") == shared["message_ts"])[-1]
    unfurls = args["unfurls"]
    return json.loads(unfurls) if isinstance(unfurls, str) else unfurls


def test_a_handbook_link_unfurls_into_the_sections_quote(bot, fake):
    section = "https://handbook.example.com/cla#who-may-sign-a-corporate-cla"
    page = "https://HANDBOOK.example.com/trivial/"  # the document's first section; case and slash vary
    unknown = "https://handbook.example.com/no-such-page"
    shared = link_shared([section, page, unknown], "C0ANYWHERE", member=False)
    assert bot["slack"].send_event(event(shared))[0] == 200
    unfurls = unfurled(fake, shared)
    assert set(unfurls) == {section, page}  # an unknown page is left as Slack shows it
    quoted = json.dumps(unfurls[section], ensure_ascii=False)  # "›" as itself, not \u203a
    assert "Only the OSPO may sign a corporate contributor license agreement" in quoted
    assert "Signing a CLA for the company › Who may sign a corporate CLA" in quoted
    assert "Small fixes to outside projects need no approval" in json.dumps(unfurls[page])

    nothing = link_shared([unknown], "C0ANYWHERE")
    bot["slack"].send_event(event(nothing))
    sentinel(bot, fake)
    assert not [a for a in fake.calls_to("chat.unfurl") if a.get("ts") == nothing["message_ts"]]


def test_nothing_unfurls_in_a_slack_connect_channel(bot, fake):
    shared = link_shared(["https://handbook.example.com/cla"], "C0SHARED")
    bot["slack"].send_event({**event(shared), "is_ext_shared_channel": True})
    sentinel(bot, fake)
    assert not [a for a in fake.calls_to("chat.unfurl") if a.get("channel") == "C0SHARED"]


def test_a_request_link_unfurls_only_for_those_who_may_see_it_and_follows_its_changes(bot, fake):
    user, user_dm = new_user()
    request = pending_request(bot, fake, user)
    in_approvals = link_shared([request["url"]], APPROVALS, user=APPROVER)
    bot["slack"].send_event(event(in_approvals))
    card = json.dumps(unfurled(fake, in_approvals)[request["url"]])
    assert request["ref"] in card and "pending" in card and "Waiting for the OSPO" in card

    in_own_dm = link_shared([request["url"]], user_dm, user=user)  # the requester's DM with the bot
    bot["slack"].send_event(event(in_own_dm))
    assert request["ref"] in json.dumps(unfurled(fake, in_own_dm))
    elsewhere = [
        link_shared([request["url"]], "C0TEAMCHAT", user=user),  # a channel it was never posted in
        link_shared([request["url"]], "D0SOMEONE", user="U0SOMEONE"),  # someone else's DM with the bot
        link_shared([request["url"]], "D0TWOPEOPLE", user=user, member=False),  # a DM between two people
        link_shared([request["url"]], "COMPOSER", user=user, source="composer"),  # not sent yet
        link_shared([REQUEST_URL.format(ref="OSPO-999999")], APPROVALS, user=APPROVER),  # no such request
    ]
    for shared in elsewhere:
        bot["slack"].send_event(event(shared))
    sentinel(bot, fake)
    assert not [a for a in fake.calls_to("chat.unfurl") if a.get("ts") in {s["message_ts"] for s in elsewhere}]
    assert not [a for a in fake.calls_to("chat.unfurl") if a.get("unfurl_id")]

    # Cancelled: every unfurl of it says so, without what it asked for.
    assert (
        bot["slack"].send_command(command(f"cancel {request['ref']}", fake.response_url("cancel"), user=user))[0] == 200
    )
    for shared in (in_approvals, in_own_dm):
        refreshed = fake.wait_for(
            "chat.unfurl", where=lambda a, s=shared: a.get("ts") == s["message_ts"] and "Withdrawn" in json.dumps(a)
        )[-1]
        assert "cancelled" in json.dumps(refreshed) and "acme-oss" not in json.dumps(refreshed)


def test_a_request_named_in_words_gets_its_card_where_it_may_be_seen(bot, fake):
    user, user_dm = new_user()
    request = pending_request(bot, fake, user)
    bot["slack"].send_event(event(dm(f"what's happening with {request['ref']}?", user=user, channel=user_dm)))
    card = fake.wait_for(
        "chat.postMessage", where=lambda a: a.get("channel") == user_dm and request["ref"] in a.get("text", "")
    )[-1]
    assert "Waiting for the OSPO" in text_of(card) and "feedback_up" not in text_of(card)  # a card, not an answer

    stranger, stranger_dm = new_user()
    bot["slack"].send_event(
        event(dm(f"status of {request['ref']} and OSPO-987654?", user=stranger, channel=stranger_dm))
    )
    said = fake.wait_for("chat.postEphemeral", where=lambda a: a.get("user") == stranger)[-1]
    assert f"I can't show {request['ref']} here" in said["text"] and "There is no request OSPO-987654" in said["text"]
    assert not [a for a in fake.calls_to("chat.postMessage") if a.get("channel") == stranger_dm]

    talk = channel_message(f"{request['ref']} looks fine to me", channel=APPROVALS, user=APPROVER)
    bot["slack"].send_event(event(talk))
    in_thread_card = fake.wait_for("chat.postMessage", where=in_thread(APPROVALS, talk["ts"]))[-1]
    assert request["ref"] in in_thread_card["text"]
    shown = "SELECT 1 FROM request_shown WHERE channel = ? AND thread_ts = ?"
    wait_until(lambda: list(bot_db(bot).query(shown, [APPROVALS, talk["ts"]])), 30, "the card recorded")
    again = channel_message(f"agreed on {request['ref']}", channel=APPROVALS, user="U0OTHER", thread_ts=talk["ts"])
    bot["slack"].send_event(event(again))
    elsewhere = channel_message(f"did {request['ref']} go through?", channel="C0RANDOM2", user=user)
    bot["slack"].send_event(event(elsewhere))
    sentinel(bot, fake)
    assert len([a for a in fake.calls_to("chat.postMessage") if in_thread(APPROVALS, talk["ts"])(a)]) == 1
    assert not [a for a in fake.calls_to("chat.postMessage") if a.get("channel") == "C0RANDOM2"]

    # Decided: the cards follow.
    decision = submission(
        "approval_approve",
        str(request["id"]),
        {"reason": {"value": {"type": "plain_text_input", "value": ""}}},
        APPROVER,
    )
    assert bot["slack"].send_interaction(decision) == (200, "")
    for channel in (user_dm, APPROVALS):
        fake.wait_for(
            "chat.update",
            where=lambda a, c=channel: (
                a.get("channel") == c and "approved" in text_of(a) and request["ref"] in a.get("text", "")
            ),
        )


# -- 3. Workflow Builder steps ---------------------------------------------------------------------
def run_step(bot, callback_id: str, inputs: dict) -> str:
    """Slack runs one of the app's steps in a workflow: its execution id."""
    body, execution = function_executed(callback_id, inputs)
    assert bot["slack"].send_event(body)[0] == 200
    return execution


def step_end(fake, execution: str) -> tuple[str, dict]:
    """How Slack was told the step ended: ("completeSuccess", its args) or ("completeError", its args)."""
    methods = ("functions.completeSuccess", "functions.completeError")

    def ended():
        return [(m, a) for m in methods for a in fake.calls_to(m) if a.get("function_execution_id") == execution]

    wait_until(ended, 60, f"the end of step {execution}")
    method, args = ended()[0]
    if isinstance(args.get("outputs"), str):  # slack_sdk sends an object as JSON in a form field
        args = {**args, "outputs": json.loads(args["outputs"])}
    return method.removeprefix("functions."), args


def approval_inputs(user: str, marker: str, **overrides) -> dict:
    """The step's inputs as Workflow Builder sends them: the form's fields, booleans and numbers typed."""
    return {
        "requester": user,
        "type": "contribute",
        **contribution(marker, security_fix=False, changed_lines=12),
        **overrides,
    }


def test_the_approval_step_waits_for_the_decision_and_hands_on_the_reference(bot, fake):
    user, user_dm = new_user()
    execution = run_step(bot, "request_ospo_approval", approval_inputs(user, "wfa00001", change_kind="feature"))
    post = fake.wait_for("chat.postMessage", where=lambda a: a.get("channel") == APPROVALS and "wfa00001" in text_of(a))
    ref = post[-1]["text"].split()[0]
    fake.wait_for(
        "chat.postMessage", where=lambda a: a.get("channel") == user and ref in text_of(a)
    )  # the requester told
    sentinel(bot, fake)
    assert execution not in fake.executions  # waiting: nothing decided yet

    decision = submission("approval_approve", ref.removeprefix("OSPO-"), reason_of("Keep the DCO sign-off"), APPROVER)
    assert bot["slack"].send_interaction(decision) == (200, "")
    method, args = step_end(fake, execution)
    assert method == "completeSuccess"  # every output the manifest declares
    assert args["outputs"] == {
        "reference": ref,
        "state": "approved",
        "decided_by": APPROVER,
        "conditions": "Keep the DCO sign-off",
    }


def test_an_auto_approved_request_completes_the_step_at_once(bot, fake):
    user, _ = new_user()
    execution = run_step(bot, "request_ospo_approval", approval_inputs(user, "wfa00002"))
    method, args = step_end(fake, execution)
    assert method == "completeSuccess" and args["outputs"]["state"] == "auto_approved"
    assert args["outputs"]["reference"].startswith("OSPO-") and "decided_by" not in args["outputs"]


def test_a_completion_slack_did_not_take_is_sent_again(bot, fake):
    user, _ = new_user()
    fake.fail("functions.completeSuccess", error="internal_error", where=lambda a: True)
    execution = run_step(bot, "request_ospo_approval", approval_inputs(user, "wfa00008"))
    wait_until(lambda: fake.executions.get(execution) == "completed", 60, "the completion sent again")
    attempts = [a for a in fake.calls_to("functions.completeSuccess") if a["function_execution_id"] == execution]
    assert len(attempts) == 2  # refused once, then sent by the housekeeping loop


def test_the_approval_step_fails_with_the_reason_when_rejected_invalid_or_too_slow(bot, fake):
    user, _ = new_user()
    rejected = run_step(bot, "request_ospo_approval", approval_inputs(user, "wfa00003", change_kind="feature"))
    post = fake.wait_for("chat.postMessage", where=lambda a: a.get("channel") == APPROVALS and "wfa00003" in text_of(a))
    ref = post[-1]["text"].split()[0]
    decision = submission(
        "approval_reject", ref.removeprefix("OSPO-"), reason_of("Not under the MIT license"), APPROVER
    )
    assert bot["slack"].send_interaction(decision) == (200, "")
    method, args = step_end(fake, rejected)
    assert (method, args["error"]) == ("completeError", f"{ref} was rejected by the OSPO: Not under the MIT license")

    invalid = run_step(bot, "request_ospo_approval", approval_inputs(user, "wfa00004", license=""))
    method, args = step_end(fake, invalid)
    assert method == "completeError" and "license:" in args["error"] and "Workflow Builder" in args["error"]
    not_a_type = run_step(bot, "request_ospo_approval", approval_inputs(user, "wfa00005", type="ship-it"))
    assert "must be one of contribute" in step_end(fake, not_a_type)[1]["error"]
    stored = "SELECT 1 FROM approval_requests WHERE fields LIKE '%wfa00004%' OR fields LIKE '%wfa00005%'"
    assert not list(bot_db(bot).query(stored))  # nothing was asked of the OSPO

    slow = run_step(bot, "request_ospo_approval", approval_inputs(user, "wfa00006", change_kind="feature"))
    waiting = "SELECT 1 FROM workflow_steps WHERE execution = ?"
    wait_until(lambda: list(bot_db(bot).query(waiting, [slow])), 30, "the step to wait")
    with bot_db(bot).conn as db:  # two weeks pass
        db.execute("UPDATE workflow_steps SET started_at = '2020-01-01T00:00:00+00:00' WHERE execution = ?", [slow])
    method, args = step_end(fake, slow)  # the housekeeping loop ends it
    assert method == "completeError" and "was not decided within 14 days" in args["error"]


def test_a_cancelled_request_fails_its_step(bot, fake):
    user, _ = new_user()
    execution = run_step(bot, "request_ospo_approval", approval_inputs(user, "wfa00007", change_kind="feature"))
    post = fake.wait_for("chat.postMessage", where=lambda a: a.get("channel") == APPROVALS and "wfa00007" in text_of(a))
    ref = post[-1]["text"].split()[0]
    assert bot["slack"].send_command(command(f"cancel {ref}", fake.response_url("cancel"), user=user))[0] == 200
    method, args = step_end(fake, execution)
    assert method == "completeError" and args["error"].startswith(f"{ref} was cancelled")


@pytest.mark.parametrize(
    ("license", "use", "verdict", "allowed"),
    [("Apache 2", "distribute", "conditions", True), ("GPLv3", "distribute", "review", False)],
)
def test_the_license_step_outputs_the_verdict_for_a_use(bot, fake, license, use, verdict, allowed):
    execution = run_step(bot, "check_license", {"license": license, "use": use})
    method, args = step_end(fake, execution)
    assert method == "completeSuccess"
    assert args["outputs"]["verdict"] == verdict and args["outputs"]["allowed"] is allowed
    assert args["outputs"]["reason"] and args["outputs"]["expression"]
    manifest = yaml.safe_load((Path(__file__).parents[1] / "manifest.yml").read_text())
    assert set(args["outputs"]) == set(manifest["functions"]["check_license"]["output_parameters"]["properties"])


def test_the_license_step_fails_on_a_use_the_policy_does_not_know(bot, fake):
    execution = run_step(bot, "check_license", {"license": "MIT", "use": "resell"})
    method, args = step_end(fake, execution)
    assert method == "completeError" and "must be one of contribute, distribute, saas, internal" in args["error"]


def reason_of(text: str) -> dict:
    return {"reason": {"value": {"type": "plain_text_input", "value": text}}}


def sentinel(bot, fake) -> None:
    """A DM that must be answered: once it is, everything sent before it has been handled."""
    user, channel = new_user()
    bot["slack"].send_event(event(dm("how do I sign off my commits?", user=user, channel=channel)))
    fake.wait_for("chat.postMessage", where=lambda a: a.get("channel") == channel)
