"""End to end: approval requests in Slack. A running `ospo-bot serve` (HTTP mode) talks to the fake
Slack; Slack's side (slash commands, button clicks, modal submissions) arrives as signed payloads.

The request form, the policy check on submission (auto-approved or posted for the approvers), who may
decide, the decision modals, "Ask for info" and the requester's answer, races and retried deliveries,
`/ospo status|cancel`, App Home, and "Request approval" under a handbook answer."""

from __future__ import annotations

import itertools
import json
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_settings
from bot.scheduler import send_reminders
from bot.slack.client import web_client
from bot.slack.delivery import SlackDelivery
from bot.wiring import Core
from tests.approval_data import contribution, form_state, submission
from tests.conftest import bot_db, bot_env, start_bot, stop_bot
from tests.fakeslack import BOT_TOKEN, FakeSlack
from tests.slackkit import (
    TEAM,
    SlackSide,
    block_action,
    blocks_of,
    command,
    dm,
    event,
    next_ts,
    text_of,
)

APPROVALS = "C0APPROVE"
APPROVER, APPROVER2, GROUP, GROUPIE = "U0APPROVER", "U0APPR2", "S0GROUP", "U0GROUPIE"
NOBODY = "U0NOBODY1"  # neither an approver nor in the group
RELEASE_FIELDS = ["description", "justification", "all_ours", "telemetry", "cryptography"]
RELEASE_FIELDS += ["proposed_license", "proposed_name", "repository_url"]


@pytest.fixture(scope="module")
def fake():
    slack = FakeSlack().start()
    # Set before the bot starts: the bot caches the approvers (and the group's members) for minutes.
    slack.usergroups[GROUP] = [GROUPIE]
    yield slack
    slack.stop()


@pytest.fixture(scope="module")
def bot(fake, tmp_path_factory, model_name):
    folder = tmp_path_factory.mktemp("approvals-bot")
    env = bot_env(
        folder,
        fake,
        model_name,
        OSPO_TRIAGE_CHANNEL="C0TRIAGE",
        OSPO_APPROVALS_CHANNEL=APPROVALS,
        OSPO_APPROVERS=f"{APPROVER},{APPROVER2},{GROUP}",
    )
    process, base, log = start_bot(env, folder)
    yield {"slack": SlackSide(base + "/slack/events"), "env": env, "log": log}
    stop_bot(process)


# -- helpers --------------------------------------------------------------------------------
_n = itertools.count(1)


def new_user() -> str:
    return f"U0R{next(_n):05d}"


def view_of(args: dict) -> dict:
    view = args["view"]
    return json.loads(view) if isinstance(view, str) else view


def buttons(blocks: list[dict]) -> dict[str, list[str]]:
    """action_id -> the values of every button with it."""
    found: dict[str, list[str]] = {}
    for block in blocks:
        for element in block.get("elements") or []:
            if element.get("type") == "button":
                found.setdefault(element["action_id"], []).append(element.get("value"))
    return found


def block(view: dict, block_id: str) -> dict:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def reason(text: str | None) -> dict:
    return {"reason": {"value": {"type": "plain_text_input", "value": text}}}


def ack_body(response: tuple[int, str]) -> dict:
    status, body = response
    assert status == 200, body
    return json.loads(body) if body else {}


def submit(bot, fake, user: str, kind: str = "contribute", **fields) -> dict:
    """Submit the request form; wait for the requester's DM; returns the request's row and messages."""
    marker = f"req{next(_n):05d}"
    if kind == "contribute":
        fields = contribution(marker, **fields)
    else:
        fields = {**fields, "description": f"{fields.get('description', 'Open-source it')} ({marker})"}
    assert (
        ack_body(bot["slack"].send_interaction(submission("approval_request", "", form_state(kind, **fields), user)))
        == {}
    )
    told = fake.wait_for("chat.postMessage", where=lambda a: a.get("channel") == user and marker in text_of(a))[-1]
    ref = told["text"].split(":")[0]
    row = row_of(bot, int(ref.removeprefix("OSPO-")))
    assert row["requester"] == user and marker in row["fields"]
    return {"id": row["id"], "ref": ref, "row": row, "dm": told, "marker": marker, "user": user}


def row_of(bot, request_id: int) -> dict:
    return next(bot_db(bot).query("SELECT * FROM approval_requests WHERE id = ?", [request_id]))


def events_of(bot, request_id: int) -> list[dict]:
    return list(bot_db(bot).query("SELECT * FROM approval_events WHERE request_id = ? ORDER BY id", [request_id]))


def channel_post(fake, request: dict) -> dict:
    text = f"{request['ref']} needs a decision"
    return fake.wait_for("chat.postMessage", where=lambda a: a.get("channel") == APPROVALS and a["text"] == text)[-1]


def channel_ts(bot, request: dict) -> str:
    return next(bot_db(bot).query("SELECT ts FROM approval_messages WHERE request_id = ?", [request["id"]]))["ts"]


def pending_request(bot, fake, user: str | None = None) -> dict:
    request = submit(bot, fake, user or new_user(), change_kind="feature")
    request["post"] = channel_post(fake, request)
    return request


def click(bot, action: str, request: dict, user: str, channel: str = APPROVALS) -> dict:
    payload = block_action(action, str(request["id"]), user=user, channel=channel)
    bot["slack"].send_interaction(payload)
    return payload


def opened(fake, payload: dict) -> dict:
    return view_of(fake.wait_for("views.open", where=lambda a: a.get("trigger_id") == payload["trigger_id"])[-1])


def decide(bot, action: str, request: dict, user: str, text: str | None) -> dict:
    payload = submission(f"approval_{action}", str(request["id"]), reason(text), user)
    return ack_body(bot["slack"].send_interaction(payload))


def updates_of(bot, fake, request: dict, count: int = 1) -> list[dict]:
    ts = channel_ts(bot, request)
    return fake.wait_for("chat.update", count=count, where=lambda a: a.get("ts") == ts)


def dms(fake, request: dict, count: int) -> list[dict]:
    """The requester's DMs about this request (the first is the one sent on submission)."""

    def about(args):
        return args.get("channel") == request["user"] and args.get("text", "").startswith(request["ref"] + ":")

    return fake.wait_for("chat.postMessage", count=count, where=about)


# -- 1. the form -----------------------------------------------------------------------------
def test_approve_opens_the_form_prefilled_and_changing_type_keeps_what_was_typed(bot, fake):
    user = new_user()
    bare = command("approve", fake.response_url("approve"), user=user)
    assert bot["slack"].send_command(bare) == (200, "")
    form = opened(fake, bare)
    assert form["callback_id"] == "approval_request" and form["type"] == "modal"
    assert [b["block_id"] for b in form["blocks"]][:7] == [
        "type",
        "repository_url",
        "license",
        "change_kind",
        "cla",
        "security_fix",
        "description",
    ]
    assert "initial_value" not in block(form, "repository_url")["element"]

    url = command("approve https://github.com/org/repo", fake.response_url("approve"), user=user)
    assert bot["slack"].send_command(url) == (200, "")
    assert block(opened(fake, url), "repository_url")["element"]["initial_value"] == "https://github.com/org/repo"

    typed = form_state(
        "release", description="Open-source our linter", repository_url="https://github.com/org/lint", license="MIT"
    )
    change = {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": user},
        "api_app_id": "A0001",
        "trigger_id": f"trig.type.{next(_n)}",
        "container": {"type": "view", "view_id": "VFORM0001"},
        "view": {
            "id": "VFORM0001",
            "hash": "1712345678.abcd",
            "type": "modal",
            "callback_id": "approval_request",
            "private_metadata": "",
            "state": {"values": typed},
        },
        "actions": [
            {
                "type": "static_select",
                "action_id": "approval_type",
                "block_id": "type",
                "selected_option": {"value": "release"},
                "action_ts": next_ts(),
            }
        ],
    }
    assert bot["slack"].send_interaction(change)[0] == 200
    update = fake.wait_for("views.update", where=lambda a: a.get("view_id") == "VFORM0001")[-1]
    assert update["hash"] == "1712345678.abcd"
    release = view_of(update)
    assert release["callback_id"] == "approval_request"
    assert [b["block_id"] for b in release["blocks"]] == ["type", *RELEASE_FIELDS]
    assert block(release, "type")["element"]["initial_option"]["value"] == "release"
    assert block(release, "description")["element"]["initial_value"] == "Open-source our linter"
    assert block(release, "repository_url")["element"]["initial_value"] == "https://github.com/org/lint"
    assert block(release, "repository_url")["optional"] and not block(release, "proposed_license")["optional"]


# -- 2. invalid input stays in the modal ---------------------------------------------------------
def test_invalid_submission_shows_errors_in_the_modal_and_records_nothing(bot, fake):
    user = new_user()
    marker = f"bad{next(_n)}"
    bad = contribution(marker, repository_url="not a url at all")
    del bad["license"]
    answer = ack_body(
        bot["slack"].send_interaction(submission("approval_request", "", form_state("contribute", **bad), user))
    )
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"license", "repository_url"}
    assert "license" in answer["errors"]["license"].lower()
    assert "https://github.com/owner/repo" in answer["errors"]["repository_url"]
    assert all(0 < len(message) <= 150 for message in answer["errors"].values())

    # The same person then submits a valid one: once its DM is there, the bad one would have shown up too.
    good = submit(bot, fake, user)
    assert bot_db(bot)["approval_requests"].count_where("requester = ?", [user]) == 1
    assert [a for a in fake.calls_to("chat.postMessage") if marker in text_of(a)] == []
    assert len([a for a in fake.calls_to("chat.postMessage") if a.get("channel") == user]) == 1
    assert good["row"]["state"] == "auto_approved"


# -- 3. trivial: auto-approved -----------------------------------------------------------------------
def test_trivial_bugfix_is_auto_approved_and_only_the_requester_hears(bot, fake):
    request = submit(bot, fake, new_user())
    assert request["row"]["state"] == "auto_approved" and request["row"]["decided_by"] == "ospo-bot"
    told = text_of(request["dm"])
    assert request["dm"]["channel"] == request["user"]
    assert "auto-approved" in told and "You can go ahead" in told
    for why in ("license MIT is permissive", "the change is bugfix", "12 changed lines, within 100", "DCO sign-off"):
        assert why in told
    assert "approval_approve" not in told
    # Posting for the approvers comes before the DM, so by now it would be there.
    assert [a for a in fake.calls_to("chat.postMessage") if request["marker"] in text_of(a)] == [request["dm"]]
    assert [e["to_state"] for e in events_of(bot, request["id"])] == ["auto_approved"]


# -- 4. not trivial: to the approvers ---------------------------------------------------------------
def test_feature_is_pending_and_posted_for_the_approvers_with_id_only_buttons(bot, fake):
    request = pending_request(bot, fake)
    assert request["row"]["state"] == "pending"
    post = request["post"]
    assert request["marker"] in text_of(post) and f"<@{request['user']}>" in text_of(post)
    assert "a new feature always needs OSPO approval" in text_of(post)  # the risk flag
    assert "Policy flags" in text_of(post)
    assert buttons(blocks_of(post)) == {
        "approval_approve": [str(request["id"])],
        "approval_reject": [str(request["id"])],
        "approval_needs_info": [str(request["id"])],
    }
    assert "pending" in text_of(request["dm"]) and "approval_answer" not in text_of(request["dm"])
    assert channel_ts(bot, request)  # remembered, so decisions can update this very message


# -- 5. who may decide --------------------------------------------------------------------------------
def test_only_approvers_decide_never_their_own_and_group_members_count(bot, fake):
    request = pending_request(bot, fake)

    stranger = click(bot, "approval_approve", request, NOBODY)
    told = fake.wait_for("chat.postEphemeral", where=lambda a: a.get("user") == NOBODY)[-1]
    assert told["channel"] == APPROVALS and "Only OSPO approvers may approve requests." in told["text"]
    assert not [a for a in fake.calls_to("views.open") if a.get("trigger_id") == stranger["trigger_id"]]
    # A forged submission (no modal was opened) is refused by the rules too.
    forged = decide(bot, "approve", request, NOBODY, None)
    assert forged["response_action"] == "errors" and "Only OSPO approvers" in forged["errors"]["reason"]
    assert row_of(bot, request["id"])["state"] == "pending"

    own = pending_request(bot, fake, user=APPROVER2)
    for action in ("approve", "reject"):
        mine = click(bot, f"approval_{action}", own, APPROVER2)
        said = fake.wait_for(
            "chat.postEphemeral",
            where=lambda a: a.get("user") == APPROVER2 and f"your own request {own['ref']}" in a["text"],
        )[-1]
        assert f"cannot {action}" in said["text"]
        assert not [a for a in fake.calls_to("views.open") if a.get("trigger_id") == mine["trigger_id"]]
    refused = decide(bot, "approve", own, APPROVER2, None)
    assert refused["response_action"] == "errors" and "own request" in refused["errors"]["reason"]
    assert row_of(bot, own["id"])["state"] == "pending"

    member = click(bot, "approval_approve", request, GROUPIE)
    assert opened(fake, member)["callback_id"] == "approval_approve"
    assert fake.calls_to("usergroups.users.list") and all(
        a.get("usergroup") == GROUP for a in fake.calls_to("usergroups.users.list")
    )
    assert decide(bot, "approve", request, GROUPIE, None) == {}
    assert row_of(bot, request["id"])["decided_by"] == GROUPIE
    # And the other approver may decide what APPROVER2 asked for.
    assert decide(bot, "reject", own, APPROVER, "Use the existing flag instead.") == {}
    assert row_of(bot, own["id"])["state"] == "rejected"


# -- 6. approve with conditions ------------------------------------------------------------------------
def test_approve_with_conditions_updates_the_post_and_tells_the_requester(bot, fake):
    request = pending_request(bot, fake)
    clicked = click(bot, "approval_approve", request, APPROVER)
    modal = opened(fake, clicked)
    assert modal["callback_id"] == "approval_approve" and modal["private_metadata"] == str(request["id"])
    assert block(modal, "reason")["optional"] and request["ref"] in modal["title"]["text"]

    assert decide(bot, "approve", request, APPROVER, "Keep it behind a flag & <@U0ALL> no pings") == {}
    update = updates_of(bot, fake, request)[-1]
    assert update["channel"] == APPROVALS
    shown = text_of(update)
    assert "approved" in shown and f"<@{APPROVER}>" in shown and "Keep it behind a flag &amp; &lt;@U0ALL&gt;" in shown
    assert set(buttons(blocks_of(update))) <= {"approval_reopen"}  # decided: no Approve / Reject / Ask
    told = text_of(dms(fake, request, 2)[-1])
    assert "approved" in told and "Conditions:" in told and "Keep it behind a flag" in told
    row = row_of(bot, request["id"])
    assert (row["state"], row["decided_by"]) == ("approved", APPROVER)
    assert row["conditions"] == "Keep it behind a flag & <@U0ALL> no pings"


# -- 7. reject needs a reason ----------------------------------------------------------------------------
def test_reject_requires_a_reason(bot, fake):
    request = pending_request(bot, fake)
    modal = opened(fake, click(bot, "approval_reject", request, APPROVER))
    assert modal["callback_id"] == "approval_reject" and not block(modal, "reason")["optional"]

    for empty in (None, "   "):
        refused = decide(bot, "reject", request, APPROVER, empty)
        assert refused["response_action"] == "errors"
        assert refused["errors"] == {"reason": "Say why."}
    assert row_of(bot, request["id"])["state"] == "pending"

    assert decide(bot, "reject", request, APPROVER, "The project's CLA assigns copyright.") == {}
    update = updates_of(bot, fake, request)[-1]
    assert "rejected" in text_of(update) and "assigns copyright" in text_of(update)
    assert set(buttons(blocks_of(update))) <= {"approval_reopen"}  # decided: no Approve / Reject / Ask
    told = text_of(dms(fake, request, 2)[-1])
    assert "rejected" in told and "assigns copyright" in told
    assert row_of(bot, request["id"])["state"] == "rejected"


# -- 8. ask for info, and the answer ----------------------------------------------------------------------
def test_ask_for_info_then_the_requester_answers_and_it_is_pending_again(bot, fake):
    request = pending_request(bot, fake)
    assert opened(fake, click(bot, "approval_needs_info", request, APPROVER))["callback_id"] == "approval_needs_info"
    assert decide(bot, "needs_info", request, APPROVER, "Which license will the new code carry?") == {}

    asked = dms(fake, request, 2)[-1]
    assert "Which license will the new code carry?" in text_of(asked)
    assert buttons(blocks_of(asked)) == {"approval_answer": [str(request["id"])]}
    waiting = updates_of(bot, fake, request)[-1]
    assert "needs info" in text_of(waiting) and not buttons(blocks_of(waiting))

    # Someone else cannot answer for them; the requester can.
    other = block_action("approval_answer", str(request["id"]), user=NOBODY, channel="D0NOBODY")
    bot["slack"].send_interaction(other)
    mine = block_action("approval_answer", str(request["id"]), user=request["user"], channel="D" + request["user"])
    bot["slack"].send_interaction(mine)
    modal = opened(fake, mine)
    assert modal["callback_id"] == "approval_answer" and modal["private_metadata"] == str(request["id"])
    assert "Which license will the new code carry?" in json.dumps(modal)
    assert not [a for a in fake.calls_to("views.open") if a.get("trigger_id") == other["trigger_id"]]

    empty = ack_body(
        bot["slack"].send_interaction(submission("approval_answer", str(request["id"]), reason(""), request["user"]))
    )
    assert empty["response_action"] == "errors" and "reason" in empty["errors"]
    answer = submission("approval_answer", str(request["id"]), reason("Apache-2.0, like the rest."), request["user"])
    assert ack_body(bot["slack"].send_interaction(answer)) == {}

    again = updates_of(bot, fake, request, count=2)[-1]
    assert "pending" in text_of(again)
    assert buttons(blocks_of(again)) == {
        "approval_approve": [str(request["id"])],
        "approval_reject": [str(request["id"])],
        "approval_needs_info": [str(request["id"])],
    }
    assert "pending" in dms(fake, request, 3)[-1]["text"]
    assert row_of(bot, request["id"])["state"] == "pending"
    trail = [(e["from_state"], e["to_state"], e["reason"]) for e in events_of(bot, request["id"])]
    assert trail == [
        ("submitted", "pending", None),
        ("pending", "needs_info", "Which license will the new code carry?"),
        ("needs_info", "pending", "Apache-2.0, like the rest."),
    ]


def test_a_reminder_offers_the_answer_button_that_really_answers(bot, fake):
    """The daily reminder to a requester whose request waits on them used to say "type `/ospo answer
    OSPO-n ...`", a command that does not exist (the text was then answered as a question). It now
    carries the Answer button of the "Ask for info" DM: a click opens the same modal, and the answer
    puts the request back in the queue. The reminder is sent the way the running bot's scheduler
    sends it, by a second process on the same database (as a second replica would)."""
    request = pending_request(bot, fake)
    assert decide(bot, "needs_info", request, APPROVER, "Which team will maintain it?") == {}
    settings = load_settings(**{k: str(v) for k, v in bot["env"].items()}, SLACK_BOT_TOKEN=BOT_TOKEN)
    core, client = Core(settings), web_client(settings)
    later = datetime.now(UTC) + timedelta(days=settings.needs_info_reminder_days + 1)
    assert send_reminders(core, SlackDelivery(client, None), now=later) >= 1

    reminder = fake.wait_for(
        "chat.postMessage", where=lambda a: a.get("channel") == request["user"] and "waited" in a.get("text", "")
    )[-1]
    assert request["ref"] in reminder["text"] and "Which team will maintain it?" in text_of(reminder)
    assert "/ospo answer" not in text_of(reminder)
    assert buttons(blocks_of(reminder)) == {"approval_answer": [str(request["id"])]}

    clicked = block_action("approval_answer", str(request["id"]), user=request["user"], channel="D" + request["user"])
    bot["slack"].send_interaction(clicked)
    modal = opened(fake, clicked)
    assert modal["callback_id"] == "approval_answer" and "Which team will maintain it?" in json.dumps(modal)
    answer = submission("approval_answer", str(request["id"]), reason("The platform team."), request["user"])
    assert ack_body(bot["slack"].send_interaction(answer)) == {}
    assert row_of(bot, request["id"])["state"] == "pending"
    assert events_of(bot, request["id"])[-1]["reason"] == "The platform team."


# -- 9. two approvers at the same moment --------------------------------------------------------------------
def test_two_approvers_at_once_make_exactly_one_decision(bot, fake):
    request = pending_request(bot, fake)
    start = threading.Barrier(2)
    answers: dict[str, dict] = {}

    def approve(approver: str) -> None:
        payload = submission("approval_approve", str(request["id"]), reason(f"ok from {approver}"), approver)
        start.wait()
        answers[approver] = ack_body(bot["slack"].send_interaction(payload))

    threads = [threading.Thread(target=approve, args=(a,)) for a in (APPROVER, APPROVER2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert set(answers) == {APPROVER, APPROVER2}
    winners = [a for a, body in answers.items() if body == {}]
    losers = [body for body in answers.values() if body != {}]
    assert len(winners) == 1 and len(losers) == 1, answers
    assert losers[0]["response_action"] == "errors"
    assert f"already approved by {winners[0]}" in losers[0]["errors"]["reason"]

    events = events_of(bot, request["id"])
    assert [e["to_state"] for e in events].count("approved") == 1
    assert [e["actor"] for e in events if e["to_state"] == "approved"] == winners
    row = row_of(bot, request["id"])
    assert (row["state"], row["decided_by"], row["conditions"]) == ("approved", winners[0], f"ok from {winners[0]}")
    assert "approved" in text_of(updates_of(bot, fake, request)[-1])
    assert "approved" in dms(fake, request, 2)[-1]["text"]  # submitted + one decision
    pending_request(bot, fake)  # a sentinel: once it is through, a second update or DM would be too
    assert len(updates_of(bot, fake, request)) == 1 and len(dms(fake, request, 2)) == 2


# -- 10. retried deliveries ---------------------------------------------------------------------------------
def test_a_retried_decision_changes_nothing_twice(bot, fake):
    request = pending_request(bot, fake)
    payload = submission("approval_approve", str(request["id"]), reason("fine"), APPROVER)
    assert ack_body(bot["slack"].send_interaction(payload)) == {}
    again = ack_body(bot["slack"].send_interaction(payload))
    assert again["response_action"] == "errors" and "already approved" in again["errors"]["reason"]
    assert [e["to_state"] for e in events_of(bot, request["id"])] == ["pending", "approved"]
    pending_request(bot, fake)  # a sentinel
    assert len(updates_of(bot, fake, request)) == 1 and len(dms(fake, request, 2)) == 2


def test_a_retried_request_form_is_recorded_once(bot, fake):
    user = new_user()
    marker = f"retry{next(_n)}"
    payload = submission("approval_request", "", form_state("contribute", **contribution(marker)), user)
    assert ack_body(bot["slack"].send_interaction(payload)) == {}
    assert ack_body(bot["slack"].send_interaction(payload)) == {}
    fake.wait_for("chat.postMessage", where=lambda a: a.get("channel") == user)
    submit(bot, fake, user)  # a second, genuine request from the same person: handled after the retry
    assert bot_db(bot)["approval_requests"].count_where("requester = ? AND fields LIKE ?", [user, f"%{marker}%"]) == 1
    assert len([a for a in fake.calls_to("chat.postMessage") if marker in text_of(a)]) == 1


# -- 11. /ospo status and /ospo cancel ------------------------------------------------------------------------
def slash(bot, fake, text: str, user: str) -> dict:
    """/ospo <text> as user; what the bot posted to that command's response_url."""
    before = len(fake.calls_to("response"))  # commands here are sent one at a time
    assert bot["slack"].send_command(command(text, fake.response_url("slash"), user=user)) == (200, "")
    return fake.wait_for("response", count=before + 1)[before]


def test_status_history_and_cancel(bot, fake):
    user = new_user()
    trivial = submit(bot, fake, user)
    pending = pending_request(bot, fake, user)

    mine = slash(bot, fake, "status", user)
    assert mine["response_type"] == "ephemeral"
    listed = text_of(mine)
    assert f"*{trivial['ref']}*" in listed and "auto-approved" in listed
    assert f"*{pending['ref']}*" in listed and "pending" in listed
    assert f"*{pending['ref']}*" not in text_of(slash(bot, fake, "status", new_user()))

    history = text_of(slash(bot, fake, f"status {pending['ref']}", user))
    assert "History" in history and "submitted → pending" in history and f"<@{user}>" in history
    assert "No request" in slash(bot, fake, f"status {pending['ref']}", NOBODY)["text"]

    refused = slash(bot, fake, f"cancel {pending['ref']}", NOBODY)
    assert "Only the requester or an OSPO approver may cancel" in refused["text"]
    assert row_of(bot, pending["id"])["state"] == "pending"

    done = slash(bot, fake, f"cancel {pending['ref']}", user)
    assert done["text"] == f"{pending['ref']} cancelled." and done["response_type"] == "ephemeral"
    assert row_of(bot, pending["id"])["state"] == "cancelled"
    update = updates_of(bot, fake, pending)[-1]
    assert "cancelled" in text_of(update) and not buttons(blocks_of(update))
    assert [e["to_state"] for e in events_of(bot, pending["id"])] == ["pending", "cancelled"]
    assert "cancelled" in text_of(slash(bot, fake, f"status {pending['ref']}", user))
    # Cancelling what was already decided says why not.
    assert "cannot become cancelled" in slash(bot, fake, f"cancel {trivial['ref']}", user)["text"]


def test_dates_are_in_each_persons_time_zone_not_utc(bot, fake):
    """users.info's tz, looked up once per person: the requester in New York;
    the approvals channel (many readers) in OSPO_TIMEZONE. Slack's <!date> token renders each date in
    the reader's own zone; its fallback is the text notifications show."""
    user = new_user()
    fake.time_zones[user] = "America/New_York"
    request = pending_request(bot, fake, user)
    created = datetime.fromisoformat(request["row"]["created_at"])

    def fallback(zone: str) -> str:
        local = created.astimezone(ZoneInfo(zone))
        return f"^{{date_short_pretty}} at {{time}}|{local:%-d %b %Y %H:%M} {local.tzname()}>"

    assert fallback("UTC") in text_of(request["post"])  # the channel: OSPO_TIMEZONE
    for _ in range(2):
        assert fallback("America/New_York") in text_of(slash(bot, fake, f"status {request['ref']}", user))
    assert len([a for a in fake.calls_to("users.info") if a.get("user") == user]) == 1  # cached

    assert decide(bot, "approve", request, APPROVER2, "Keep the DCO sign-off") == {}
    told = dms(fake, request, 2)[-1]  # the requester's DM: the decision's time in New York
    decided = datetime.fromisoformat(row_of(bot, request["id"])["decided_at"]).astimezone(ZoneInfo("America/New_York"))
    assert f"|{decided:%-d %b %Y %H:%M} {decided.tzname()}>" in text_of(told)
    assert "+00:00" not in text_of(told)  # no raw ISO time left anywhere a person reads


# -- 12. App Home ------------------------------------------------------------------------------------------
def home_of(bot, fake, user: str) -> dict:
    before = len([a for a in fake.calls_to("views.publish") if a.get("user_id") == user])
    opened_home = {"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home", "event_ts": next_ts()}
    assert bot["slack"].send_event(event(opened_home))[0] == 200
    return view_of(fake.wait_for("views.publish", count=before + 1, where=lambda a: a.get("user_id") == user)[-1])


def test_app_home_shows_approvers_the_queue_and_others_their_own(bot, fake):
    requester = new_user()
    own = [pending_request(bot, fake, requester), submit(bot, fake, requester)]
    for _ in range(24):  # 2 blocks each: more than 50 blocks if the queue were shown whole
        pending_request(bot, fake)
    queue = [r["id"] for r in bot_db(bot).query("SELECT id FROM approval_requests WHERE state = 'pending' ORDER BY id")]
    assert len(queue) > 25

    home = home_of(bot, fake, APPROVER)
    assert home["type"] == "home" and len(home["blocks"]) <= 50
    shown = json.dumps(home)
    assert f"Waiting for a decision* ({len(queue)}, oldest first)" in shown
    found = buttons(home["blocks"])
    assert found["approval_approve"] == [str(i) for i in queue[: len(found["approval_approve"])]]
    assert 10 <= len(found["approval_approve"]) <= len(queue)
    assert found["approval_reject"] == found["approval_needs_info"] == found["approval_approve"]
    assert all(len(b["text"]["text"]) <= 3000 for b in home["blocks"] if b["type"] == "section")

    theirs = home_of(bot, fake, requester)
    assert len(theirs["blocks"]) <= 50
    seen = json.dumps(theirs)
    assert all(f"*{r['ref']}*" in seen for r in own)
    assert "Waiting for a decision" not in seen and not buttons(theirs["blocks"]).get("approval_approve")
    others = bot_db(bot).query("SELECT id FROM approval_requests WHERE requester != ?", [requester])
    assert not any(f"*OSPO-{r['id']}*" in seen for r in others)  # (the help text names OSPO-42 as an example)


# -- 13. "Request approval" under an answer ---------------------------------------------------------------
def test_answer_from_contributing_offers_request_approval(bot, fake):
    user, channel = new_user(), f"D0A{next(_n):05d}"
    question = "what counts as a trivial contribution?"
    bot["slack"].send_event(event(dm(question, user=user, channel=channel)))
    answer = fake.wait_for("chat.postMessage", where=lambda a: a.get("channel") == channel)[-1]
    assert "Trivial contributions" in text_of(answer), text_of(answer)
    qid = buttons(blocks_of(answer))["approval_open"]
    assert qid == buttons(blocks_of(answer))["feedback_up"]

    clicked = block_action("approval_open", qid[0], user=user, channel=channel)
    bot["slack"].send_interaction(clicked)
    form = opened(fake, clicked)
    assert form["callback_id"] == "approval_request"
    assert block(form, "description")["element"]["initial_value"] == question

    # An answer from elsewhere in the handbook (here using/) offers no approval.
    other_user, other_channel = new_user(), f"D0A{next(_n):05d}"
    bot["slack"].send_event(
        event(dm("is network copyleft software allowed in our SaaS products?", user=other_user, channel=other_channel))
    )
    agpl = fake.wait_for("chat.postMessage", where=lambda a: a.get("channel") == other_channel)[-1]
    assert "Network copyleft licenses" in text_of(agpl) and "feedback_up" in buttons(blocks_of(agpl))
    assert "approval_open" not in buttons(blocks_of(agpl))


# -- Slack's limits, over everything this module sent (keep last) -------------------------------------------
def test_every_approval_payload_stayed_within_slack_limits(fake):
    checked = 0
    for call in list(fake.calls):
        payloads = [call.args] + ([view_of(call.args)] if "view" in call.args else [])
        for payload in payloads:
            if not blocks_of(payload):
                continue
            checked += 1
            where = f"{call.method} {json.dumps(payload)[:200]}"
            assert len(blocks_of(payload)) <= (100 if payload.get("type") in ("modal", "home") else 50), where
            for b in blocks_of(payload):
                if b["type"] == "section":
                    assert len(b["text"]["text"]) <= 3000, where
                element = b.get("element") or {}
                if "initial_value" in element:
                    assert len(element["initial_value"]) <= element["max_length"], where
                for e in b.get("elements") or []:
                    assert len(e.get("value") or "") <= 2000, where
            if payload.get("type") == "modal":
                assert len(payload["title"]["text"]) <= 24 and len(payload.get("private_metadata", "")) <= 3000
    assert checked >= 40
