"""Who may do what, end to end: one table of every action by every role, driven through a running
`ospo-bot serve` (HTTP mode) with signed payloads as Slack sends them, and checked on what really
happened: the SQLite state (request state and audit events, escalations, saved knowledge) and what the
fake Slack received (the modal opened or the refusal, the decision told or not).

Roles: the requester (filed the request / asked the question; not an approver), an approver, an
approver acting on their own request, another user, the approver's id in a payload from another
workspace, and the bot's own user. The bot's user is in the approvers' user group on purpose, and the
other-workspace payload carries an approver's id: without the workspace and bot checks both would be
allowed everything, so each check is what the table proves.
"""

from __future__ import annotations

import itertools
import json
from functools import partial
from pathlib import Path

import pytest

from bot.approvals import VERBS, Approvals
from bot.licenses import default_policy_path, load_policy
from bot.slack.actions import ONLY_OSPO
from bot.slack.app import OTHER_WORKSPACE, is_foreign
from bot.store import open_db
from tests.conftest import bot_env, start_bot, stop_bot, wait_until
from tests.fakeslack import BOT_USER, TEAM, FakeSlack
from tests.slackkit import SlackSide, block_action, channel_message, command, dm, event, view_submission

APPROVALS, TRIAGE = "C0APPROVE", "C0TRIAGE"
APPROVER, APPROVER2, NOBODY = "U0APPROVER", "U0APPR2", "U0NOBODY1"
OSPO_GROUP = "S0OSPO"
OTHER_TEAM = "T0OTHER"
SECRET = "SECRET-REASON"  # typed into every modal: must never reach the log

# The table: may this role do this action? (approve, reject and ask for info are a button that opens
# a modal, then the modal's submission: both steps are checked.)
TABLE = """
action          requester  approver  own_request  other_user  other_workspace  bot
approve         deny       allow     deny         deny        deny             deny
reject          deny       allow     deny         deny        deny             deny
needs_info      deny       allow     deny         deny        deny             deny
reopen          deny       allow     deny         deny        deny             deny
cancel          allow      allow     allow        deny        deny             deny
resolve         allow      allow     allow        deny        deny             deny
save_knowledge  deny       allow     allow        deny        deny             deny
"""
_header, *_rows = [line.split() for line in TABLE.strip().splitlines()]
ROLES = _header[1:]
CELLS = [(row[0], role, verdict == "allow") for row in _rows for role, verdict in zip(ROLES, row[1:], strict=True)]


@pytest.fixture(scope="module")
def fake():
    slack = FakeSlack().start()
    slack.usergroups[OSPO_GROUP] = [BOT_USER]  # set before the bot starts: it caches the approvers
    yield slack
    slack.stop()


@pytest.fixture(scope="module")
def bot(fake, tmp_path_factory, model_name):
    folder = tmp_path_factory.mktemp("authorization-bot")
    env = bot_env(
        folder,
        fake,
        model_name,
        OSPO_TRIAGE_CHANNEL=TRIAGE,
        OSPO_APPROVALS_CHANNEL=APPROVALS,
        OSPO_APPROVERS=f"{APPROVER},{APPROVER2},{OSPO_GROUP}",
        OSPO_LOG_LEVEL="INFO",  # refused events are logged at INFO
    )
    process, base, log = start_bot(env, folder)
    database = open_db(Path(env["OSPO_DATA_DIR"]) / "ospo-bot.db")  # the bot's own file (WAL): setup and checks
    yield {
        "slack": SlackSide(base + "/slack/events"),
        "log": log,
        "db": database,
        # Setup only: requests filed and decided with the core library, as the bot would.
        "ledger": Approvals(lambda: database, load_policy(default_policy_path())),
    }
    stop_bot(process)


# -- who acts -------------------------------------------------------------------------------------
_n = itertools.count(1)


class Row:
    """One cell of the table: a fresh subject (request or escalation) and who acts on it."""

    def __init__(self, role: str):
        self.n = next(_n)
        self.role = role
        self.requester = APPROVER if role == "own_request" else f"U0REQ{self.n:04d}"
        self.actor = {
            "requester": self.requester,
            "approver": APPROVER,
            "own_request": APPROVER,
            "other_user": NOBODY,
            "other_workspace": APPROVER,
            "bot": BOT_USER,
        }[role]
        self.team = OTHER_TEAM if role == "other_workspace" else TEAM
        self.channel = f"C0ROW{self.n:04d}"  # where the actor clicks: their ephemerals are told apart by it


def log_text(bot) -> str:
    return bot["log"].read_text(errors="replace")


def refusals(bot, what: str) -> int:
    """How many refusals of `what` (e.g. "block_actions resolve") the bot has logged."""
    return log_text(bot).count(f"refused {what} ")


def count(fake, method: str, where) -> int:
    return len([a for a in fake.calls_to(method) if where(a)])


def says(text: str):
    return lambda args: text in str(args.get("text") or "")


def click(bot, fake, row: Row, action_id: str, value: str, channel: str | None = None) -> dict:
    payload = block_action(
        action_id,
        value,
        user=row.actor,
        team=row.team,
        channel=channel or row.channel,
        response_url=fake.response_url(f"row{row.n}"),
    )
    assert bot["slack"].send_interaction(payload)[0] == 200
    return payload


def click_refused(bot, fake, row: Row, action_id: str, value: str, denial: str) -> dict:
    """A click that must be refused: by the bot's check of the workspace or of bots, else with `denial`
    said privately to the actor. Returns the payload."""
    before_log = refusals(bot, f"block_actions {action_id}")
    before_told = count(fake, "response", says(OTHER_WORKSPACE))
    payload = click(bot, fake, row, action_id, value)
    if row.role == "other_workspace":  # told through the button's response_url, only to them
        fake.wait_for("response", count=before_told + 1, where=says(OTHER_WORKSPACE), timeout=10)
    elif row.role == "bot":  # a bot is told nothing; the refusal is logged before the request is answered
        assert refusals(bot, f"block_actions {action_id}") == before_log + 1
        assert f"user {BOT_USER} of team {TEAM}: sent by a bot" in log_text(bot)
    else:
        fake.wait_for(
            "chat.postEphemeral",
            where=lambda a: a.get("channel") == row.channel and a.get("user") == row.actor and denial in a["text"],
            timeout=10,
        )
    return payload


# -- approval requests ----------------------------------------------------------------------------
def pending_request(bot, row: Row):
    request = bot["ledger"].submit(
        row.requester,
        "contribute",
        {
            "repository_url": f"https://github.com/acme-oss/auth{row.n}",
            "license": "MIT",
            "change_kind": "feature",  # a feature always needs a decision
            "cla": "DCO",
            "security_fix": "no",
            "description": f"Add a feature (row {row.n})",
        },
    )
    assert request.state == "pending"
    return request


def requester_told(fake, request, state: str) -> list[dict]:
    return [
        a
        for a in fake.calls_to("chat.postMessage")
        if a.get("channel") == request.requester and a.get("text") == f"{request.ref}: {state}"
    ]


def approval_denial(row: Row, verb: str) -> str:
    """What the bot's own rules say to someone who may not decide."""
    return "your own request" if row.role == "own_request" else f"Only OSPO approvers may {verb} requests."


def check_modal_decision(bot, fake, row: Row, allowed: bool, action: str) -> None:
    """approve | reject | needs_info: the button opens the modal only for those allowed, and the
    modal's submission decides only for them (a forged submission is refused by itself)."""
    ledger = bot["ledger"]
    request = pending_request(bot, row)
    target = {"approve": "approved", "reject": "rejected", "needs_info": "needs_info"}[action]

    def opened(payload):
        return [a for a in fake.calls_to("views.open") if a.get("trigger_id") == payload["trigger_id"]]

    # 1. The button.
    if allowed:
        payload = click(bot, fake, row, f"approval_{action}", str(request.id))
        fake.wait_for("views.open", where=lambda a: a.get("trigger_id") == payload["trigger_id"], timeout=10)
        view = opened(payload)[0]["view"]
        view = json.loads(view) if isinstance(view, str) else view
        assert (view["callback_id"], view["private_metadata"]) == (f"approval_{action}", str(request.id))
    else:
        payload = click_refused(
            bot, fake, row, f"approval_{action}", str(request.id), approval_denial(row, VERBS[action])
        )
        assert opened(payload) == []

    # 2. The submission (forged, for those the button refused).
    before_log = refusals(bot, f"view_submission approval_{action}")
    submission = view_submission(
        f"approval_{action}",
        str(request.id),
        {"reason": {"value": {"type": "plain_text_input", "value": f"{SECRET} {row.n}"}}},
        user=row.actor,
        team=row.team,
    )
    submission["view"]["id"] = f"VROW{row.n:04d}"
    status, body = bot["slack"].send_interaction(submission)
    assert status == 200
    after = ledger.get(request.id)
    if allowed:
        assert body == "" or json.loads(body) == {}, body
        assert (after.state, ledger.events(request.id)[-1].actor) == (target, row.actor)
        fake.wait_for("chat.postMessage", where=lambda a: a in requester_told(fake, request, target), timeout=10)
        return
    assert after.state == "pending" and len(ledger.events(request.id)) == 1  # only "submitted -> pending"
    if row.role == "other_workspace":
        ack = json.loads(body)
        assert ack["response_action"] == "update" and OTHER_WORKSPACE in json.dumps(ack["view"])
    elif row.role == "bot":
        assert body == "" and refusals(bot, f"view_submission approval_{action}") == before_log + 1
    else:
        verb = VERBS[action]
        assert json.loads(body)["response_action"] == "errors"
        assert approval_denial(row, verb) in json.loads(body)["errors"]["reason"]
    assert requester_told(fake, request, target) == []
    assert SECRET not in log_text(bot)  # what people type stays out of the log


def check_reopen(bot, fake, row: Row, allowed: bool) -> None:
    ledger = bot["ledger"]
    request = pending_request(bot, row)
    ledger.decide(request.id, APPROVER2, "approve", approvers={APPROVER2})
    before = len(ledger.events(request.id))
    if allowed:
        click(bot, fake, row, "approval_reopen", str(request.id))
        fake.wait_for("chat.postMessage", where=lambda a: a in requester_told(fake, request, "pending"), timeout=10)
        trail = ledger.events(request.id)[before:]
        assert [(e.actor, e.from_state, e.to_state) for e in trail] == [
            (row.actor, "approved", "reopened"),
            (row.actor, "reopened", "pending"),
        ]
        assert ledger.get(request.id).state == "pending"
        return
    click_refused(bot, fake, row, "approval_reopen", str(request.id), approval_denial(row, "reopen"))
    assert ledger.get(request.id).state == "approved" and len(ledger.events(request.id)) == before
    assert requester_told(fake, request, "pending") == []


def check_cancel(bot, fake, row: Row, allowed: bool) -> None:
    """`/ospo cancel OSPO-42`: the answer comes through the command's response_url."""
    ledger = bot["ledger"]
    request = pending_request(bot, row)
    before_responses = len(fake.calls_to("response"))
    before_log = refusals(bot, "/ospo")
    payload = command(f"cancel {request.ref}", fake.response_url(f"row{row.n}"), user=row.actor, team=row.team)
    status, body = bot["slack"].send_command(payload)
    assert status == 200
    if allowed:
        told = fake.wait_for("response", count=before_responses + 1, timeout=10)[before_responses]
        assert told["text"] == f"{request.ref} cancelled."
        assert (ledger.get(request.id).state, ledger.events(request.id)[-1].actor) == ("cancelled", row.actor)
        return
    if row.role == "other_workspace":
        assert body == OTHER_WORKSPACE  # Slack shows a command's response body to the user alone
    elif row.role == "bot":
        assert body == "" and refusals(bot, "/ospo") == before_log + 1
    else:
        told = fake.wait_for("response", count=before_responses + 1, timeout=10)[before_responses]
        assert told["text"] == f"Only the requester or an OSPO approver may cancel {request.ref}."
    assert ledger.get(request.id).state == "pending" and len(ledger.events(request.id)) == 1
    assert f"cancel {request.ref}" not in log_text(bot)  # what people type stays out of the log


# -- escalated questions --------------------------------------------------------------------------
def escalated_question(bot, fake, row: Row, answered: bool) -> dict:
    """The requester asks in a DM and clicks "Ask the OSPO team"; an OSPO member may reply in triage."""
    db = bot["db"]
    dm_channel = f"D0ROW{row.n:04d}"
    bot["slack"].send_event(
        event(dm("may I present our internal tool at a conference?", user=row.requester, channel=dm_channel))
    )
    answer = fake.wait_for("chat.postMessage", where=lambda a: a.get("channel") == dm_channel, timeout=30)[0]
    blocks = answer["blocks"] if isinstance(answer["blocks"], list) else json.loads(answer["blocks"])
    question_id = next(e["value"] for b in blocks for e in b.get("elements") or [] if e.get("action_id") == "escalate")
    escalate = block_action(
        "escalate", question_id, user=row.requester, channel=dm_channel, message_ts="1800000000.000001"
    )
    bot["slack"].send_interaction(escalate)

    def triage_ts():
        found = list(db.query("SELECT * FROM escalations WHERE question_id = ?", [int(question_id)]))
        return found and found[0]["triage_ts"]

    wait_until(triage_ts, 10, "the escalation's triage post")
    escalation = next(db.query("SELECT * FROM escalations WHERE question_id = ?", [int(question_id)]))
    if answered:
        reply = channel_message(
            "File a speaker request.", channel=TRIAGE, user=APPROVER2, thread_ts=escalation["triage_ts"]
        )
        bot["slack"].send_event(event(reply))
        wait_until(
            lambda: db.execute("SELECT answer FROM escalations WHERE id = ?", [escalation["id"]]).fetchone()[0],
            10,
            "the OSPO reply recorded",
        )
    return escalation


def escalation_row(bot, escalation_id: int) -> dict:
    return next(bot["db"].query("SELECT * FROM escalations WHERE id = ?", [escalation_id]))


def check_resolve(bot, fake, row: Row, allowed: bool) -> None:
    escalation = escalated_question(bot, fake, row, answered=False)
    value = str(escalation["id"])

    def told_asker(args):
        return args.get("channel") == escalation["channel"] and "marked your question as resolved" in args["text"]

    if allowed:
        click(bot, fake, row, "resolve", value)
        fake.wait_for("chat.update", where=lambda a: a.get("ts") == escalation["triage_ts"], timeout=10)
        fake.wait_for("chat.postMessage", where=told_asker, timeout=10)
        after = escalation_row(bot, escalation["id"])
        assert (after["state"], after["resolved_by"]) == ("resolved", row.actor)
        return
    click_refused(bot, fake, row, "resolve", value, ONLY_OSPO)
    assert escalation_row(bot, escalation["id"])["state"] == "open"
    assert count(fake, "chat.update", lambda a: a.get("ts") == escalation["triage_ts"]) == 0
    assert count(fake, "chat.postMessage", told_asker) == 0


def check_save_knowledge(bot, fake, row: Row, allowed: bool) -> None:
    escalation = escalated_question(bot, fake, row, answered=True)
    value = str(escalation["id"])

    def saved(args):
        return args.get("thread_ts") == escalation["triage_ts"] and args["text"].startswith("Saved as ")

    def learned():
        return bot["db"]["learned"].count_where("escalation_id = ?", [escalation["id"]])

    if allowed:
        click(bot, fake, row, "save_knowledge", value, channel=TRIAGE)
        fake.wait_for("chat.postMessage", where=saved, timeout=30)
        assert learned() == 1
        return
    click_refused(bot, fake, row, "save_knowledge", value, ONLY_OSPO)
    assert learned() == 0 and count(fake, "chat.postMessage", saved) == 0


CHECKS = {
    "approve": partial(check_modal_decision, action="approve"),
    "reject": partial(check_modal_decision, action="reject"),
    "needs_info": partial(check_modal_decision, action="needs_info"),
    "reopen": check_reopen,
    "cancel": check_cancel,
    "resolve": check_resolve,
    "save_knowledge": check_save_knowledge,
}


@pytest.mark.parametrize(
    ("action", "role", "allowed"), CELLS, ids=[f"{a}-{r}-{'allow' if ok else 'deny'}" for a, r, ok in CELLS]
)
def test_who_may_do_what(bot, fake, action, role, allowed):
    CHECKS[action](bot, fake, Row(role), allowed)


# -- beyond the table -----------------------------------------------------------------------------
def test_a_message_from_another_workspace_is_not_answered(bot, fake):
    """A DM from someone of another workspace (Slack Connect): no answer, nothing recorded, one log line."""
    before = refusals(bot, "event_callback message")
    channel = "D0FOREIGN1"
    status, _ = bot["slack"].send_event(
        event(dm(f"{SECRET}: can we use AGPL code?", user="U0FOREIGN", channel=channel, user_team=OTHER_TEAM))
    )
    assert status == 200
    assert refusals(bot, "event_callback message") == before + 1
    assert bot["db"]["questions"].count_where("user = ?", ["U0FOREIGN"]) == 0
    assert count(fake, "chat.postMessage", lambda a: a.get("channel") == channel) == 0
    assert SECRET not in log_text(bot)


@pytest.mark.parametrize(
    ("payload", "home_enterprise", "foreign"),
    [
        ({"team": {"id": TEAM}, "user": {"id": "U1", "team_id": TEAM}}, None, False),
        ({"team_id": TEAM, "user_id": "U1"}, None, False),
        ({"team": {"id": OTHER_TEAM}, "user": {"id": "U1", "team_id": OTHER_TEAM}}, None, True),
        # Slack Connect: the click happens in our workspace, by someone of another organisation.
        ({"team": {"id": TEAM}, "user": {"id": "U1", "team_id": OTHER_TEAM}}, None, True),
        ({"team_id": TEAM, "event": {"type": "message", "user": "U1", "user_team": OTHER_TEAM}}, None, True),
        # Enterprise Grid: another workspace of our organisation is ours; of another organisation is not.
        ({"team": {"id": "T0SIBLING"}, "enterprise": {"id": "E0OURS"}}, "E0OURS", False),
        ({"team_id": "T0SIBLING", "enterprise_id": "E0OURS", "user_id": "U1"}, "E0OURS", False),
        ({"team": {"id": OTHER_TEAM}, "enterprise": {"id": "E0THEIRS"}}, "E0OURS", True),
        ({"team": {"id": OTHER_TEAM}}, "E0OURS", True),
        (
            {"team_id": TEAM, "enterprise_id": "E0OURS", "is_ext_shared_channel": True, "event": {"team": OTHER_TEAM}},
            "E0OURS",
            True,
        ),
    ],
)
def test_which_payloads_come_from_another_workspace(payload, home_enterprise, foreign):
    assert is_foreign(payload, TEAM, home_enterprise) is foreign
