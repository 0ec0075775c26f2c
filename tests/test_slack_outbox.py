"""End to end: Slack failing while people use the bot. A running `ospo-bot serve` (HTTP mode) talks
to the fake Slack, which is told to fail: HTTP 429 and 503 beyond the WebClient's retries, `ok: false`
(not_in_channel), or no answer within SLACK_API_TIMEOUT.

A request submitted while the approvals channel cannot be posted to is kept in SQLite, the requester
is told, and the housekeeping loop (OSPO_HOUSEKEEPING_SECONDS) posts it exactly once when Slack
answers again: the outbox. A claim held by another process is respected until its lease runs out.
A question whose answer times out is recorded and its asker told."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.approvals import OUTBOX, Approvals
from bot.claims import LEASE
from bot.licenses import default_policy_path, load_policy
from bot.store import open_db
from tests.conftest import bot_env, start_bot, stop_bot, wait_until
from tests.slackkit import SlackSide, dm, event, view_submission

APPROVALS = "C0APPROVE"
APPROVER = "U0APPROVER"
TIMEOUT = 2  # SLACK_API_TIMEOUT for this bot, seconds
HANG = 60  # a hung call outlasts any patience; it ends when the test lets Slack answer again
PROMPT = 5 * TIMEOUT  # what "at once" means for a timed-out call: SLACK_API_TIMEOUT is obeyed
_n = itertools.count(1)


@pytest.fixture(scope="module")
def bot(fake, tmp_path_factory, model_name):
    folder = tmp_path_factory.mktemp("outbox-bot")
    env = bot_env(
        folder,
        fake,
        model_name,
        SLACK_API_TIMEOUT=TIMEOUT,
        OSPO_APPROVALS_CHANNEL=APPROVALS,
        OSPO_APPROVERS=APPROVER,
        OSPO_HOUSEKEEPING_SECONDS="0.5",
    )
    process, base, log = start_bot(env, folder)
    yield {"slack": SlackSide(base + "/slack/events"), "db_path": Path(env["OSPO_DATA_DIR"]) / "ospo-bot.db"}
    stop_bot(process)


@pytest.fixture(autouse=True)
def slack_answers_again(fake):
    yield
    fake.clear_failures()


# -- helpers --------------------------------------------------------------------------------------
def db(bot):
    """The bot's SQLite database, as the bot opens it (bot/store.py's interface: transactions too)."""
    return open_db(bot["db_path"])


def form(marker: str) -> dict:
    """view.state.values of a contribution that needs a decision (a feature is never trivial)."""
    fields = {
        "repository_url": f"https://github.com/acme-oss/{marker}",
        "license": "MIT",
        "change_kind": "feature",
        "cla": "DCO",
        "security_fix": "no",
        "changed_lines": "40",
        "description": f"Add a --json flag ({marker})",
    }
    values = {"type": {"approval_type": {"type": "static_select", "selected_option": {"value": "contribute"}}}}
    for name, value in fields.items():
        if name in ("change_kind", "security_fix"):
            values[name] = {"value": {"type": "static_select", "selected_option": {"value": value}}}
        else:
            values[name] = {"value": {"type": "plain_text_input", "value": value}}
    return values


def text_of(args: dict) -> str:
    blocks = args.get("blocks") or []
    return str(args.get("text") or "") + (blocks if isinstance(blocks, str) else json.dumps(blocks))


def about(marker: str, channel: str):
    return lambda args: args.get("channel") == channel and marker in text_of(args)


def submit(bot, fake, user: str, marker: str | None = None, within: float = 30) -> dict:
    """Submit a request form as Slack would and wait (up to `within` seconds) for the requester's DM."""
    marker = marker or f"outbox{next(_n):04d}"
    payload = view_submission("approval_request", "", form(marker), user=user)
    payload["view"]["id"] = f"VOUT{next(_n):06d}"
    status, body = bot["slack"].send_interaction(payload)
    assert (status, body) == (200, ""), body
    told = fake.wait_for("chat.postMessage", where=about(marker, user), ok=True, timeout=within)[-1]
    request_id = int(told["text"].split(":")[0].removeprefix("OSPO-"))
    return {"id": request_id, "ref": f"OSPO-{request_id}", "marker": marker, "dm": told, "user": user}


def approvals_posts(fake, request: dict, ok: bool | None = None) -> list[dict]:
    return [a for a in fake.calls_to("chat.postMessage", ok=ok) if about(request["marker"], APPROVALS)(a)]


def message_row(bot, request: dict) -> dict | None:
    return next(db(bot).query("SELECT * FROM approval_messages WHERE request_id = ?", [request["id"]]), None)


def to_approvals(args: dict) -> bool:
    return args.get("channel") == APPROVALS


def posted_once(bot, fake, request: dict) -> None:
    """Posted for approvers, accepted by Slack exactly once, and remembered for decisions.
    A sentinel request refused once and posted by a later housekeeping round shows that the rounds
    in between did not post this one again."""
    fake.wait_for("chat.postMessage", where=about(request["marker"], APPROVALS), ok=True, timeout=30)
    wait_until(lambda: message_row(bot, request) is not None, 10, f"{request['ref']} in approval_messages")
    sentinel_marker = f"outbox{next(_n):04d}-sentinel"
    fake.fail("chat.postMessage", "not_in_channel", where=about(sentinel_marker, APPROVALS))
    sentinel = submit(bot, fake, "U0SENTINEL", sentinel_marker)
    fake.wait_for("chat.postMessage", where=about(sentinel_marker, APPROVALS), ok=True, timeout=30)
    assert len(approvals_posts(fake, request, ok=True)) == 1
    assert len(approvals_posts(fake, sentinel, ok=True)) == 1
    assert message_row(bot, request)["channel"] == APPROVALS


# -- 1. the approvals channel cannot be posted to ---------------------------------------------------
FAILURES = {
    # fake Slack told to fail every post to the approvals channel; attempts per try of the bot
    "429": (lambda fake: fake.rate_limit("chat.postMessage", 0, times=None, where=to_approvals), 4),
    "503": (lambda fake: fake.server_error("chat.postMessage", 503, times=None, where=to_approvals), 3),
    "not_in_channel": (lambda fake: fake.fail("chat.postMessage", "not_in_channel", None, to_approvals), 1),
    "timeout": (lambda fake: fake.hang("chat.postMessage", HANG, times=None, where=to_approvals), 1),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_request_submitted_while_slack_fails_is_kept_told_and_posted_once_slack_answers(bot, fake, failure):
    start_failing, calls_per_try = FAILURES[failure]
    start_failing(fake)
    request = submit(bot, fake, f"U0OUT{next(_n):04d}", within=PROMPT if failure == "timeout" else 30)

    # The requester hears that it is saved, and that approvers will see it later.
    assert request["dm"]["channel"] == request["user"]
    assert "approvers will see it as soon as Slack lets me post it" in text_of(request["dm"])
    assert f"Saved as {request['ref']}" in text_of(request["dm"])
    # It is in SQLite, pending, with its audit trail; nothing was posted for approvers.
    row = next(db(bot).query("SELECT * FROM approval_requests WHERE id = ?", [request["id"]]))
    assert (row["requester"], row["state"]) == (request["user"], "pending")
    trail = db(bot).query("SELECT to_state FROM approval_events WHERE request_id = ?", [row["id"]])
    assert [e["to_state"] for e in trail] == ["pending"]
    # Housekeeping keeps trying while Slack keeps failing (a second try after the first), and fails.
    fake.wait_for("chat.postMessage", count=2 * calls_per_try, where=about(request["marker"], APPROVALS), timeout=30)
    assert approvals_posts(fake, request, ok=True) == [] and message_row(bot, request) is None

    fake.clear_failures()  # Slack answers again
    posted_once(bot, fake, request)
    assert db(bot)["approval_requests"].get(request["id"])["state"] == "pending"


def test_a_request_slack_keeps_refusing_does_not_hold_back_the_others(bot, fake):
    """invalid_blocks is about one message, not Slack being down: later requests still go out."""
    refused_marker = f"outbox{next(_n):04d}-refused"
    fake.fail("chat.postMessage", "invalid_blocks", times=None, where=about(refused_marker, APPROVALS))
    refused = submit(bot, fake, f"U0OUT{next(_n):04d}", refused_marker)
    assert "approvers will see it" in text_of(refused["dm"])
    later = f"outbox{next(_n):04d}-later"
    fake.fail("chat.postMessage", "not_in_channel", where=about(later, APPROVALS))  # refused once only
    request = submit(bot, fake, f"U0OUT{next(_n):04d}", later)
    posted_once(bot, fake, request)
    assert approvals_posts(fake, refused, ok=True) == [] and message_row(bot, refused) is None

    fake.clear_failures()
    posted_once(bot, fake, refused)


def test_a_request_posted_at_once_gets_no_outbox_note(bot, fake):
    request = submit(bot, fake, f"U0OUT{next(_n):04d}")
    assert "approvers will see it" not in text_of(request["dm"])
    posted_once(bot, fake, request)


# -- 2. the claim: one process posts each request; a dead one's claim is taken over later ------------
def test_a_claim_held_elsewhere_is_respected_until_its_lease_runs_out(bot, fake):
    """Another process claimed the next request and died before posting it: nobody posts it while
    the claim is fresh; after LEASE the housekeeping loop takes it over and posts it."""
    database = db(bot)
    next_id = (database.execute("SELECT max(id) FROM approval_requests").fetchone()[0] or 0) + 1
    now = datetime.now(UTC)
    with database.conn:
        database.execute(
            "INSERT INTO claims (what, key, claimed_by, claimed_at) VALUES (?, ?, ?, ?)",
            [OUTBOX, str(next_id), "99999@gone/dead", now.isoformat(timespec="seconds")],
        )
    # Filed without Slack (as `ospo-bot demo-data` or another process would): pending, never posted.
    marker = f"outbox{next(_n):04d}-claimed"
    ledger = Approvals(lambda: database, load_policy(default_policy_path()))
    filed = ledger.submit(
        "U0CLAIMED",
        "contribute",
        {
            "repository_url": f"https://github.com/acme-oss/{marker}",
            "license": "MIT",
            "change_kind": "feature",
            "cla": "DCO",
            "security_fix": False,
            "description": f"Add a --json flag ({marker})",
        },
    )
    assert (filed.id, filed.state) == (next_id, "pending")
    request = {"id": filed.id, "ref": filed.ref, "marker": marker}

    # A later request refused once, then posted by housekeeping: rounds have run past the claimed one.
    sentinel_marker = f"outbox{next(_n):04d}-sentinel"
    fake.fail("chat.postMessage", "not_in_channel", where=about(sentinel_marker, APPROVALS))
    submit(bot, fake, "U0SENTINEL", sentinel_marker)
    fake.wait_for("chat.postMessage", where=about(sentinel_marker, APPROVALS), ok=True, timeout=30)
    assert approvals_posts(fake, request) == [] and message_row(bot, request) is None

    # The claim grows older than the lease: its holder is taken to be dead.
    stale = (now - LEASE - timedelta(minutes=1)).isoformat(timespec="seconds")
    with database.conn:
        database.execute("UPDATE claims SET claimed_at = ? WHERE what = ? AND key = ?", [stale, OUTBOX, str(next_id)])
    posted_once(bot, fake, request)
    assert database["claims"].count_where("what = ? AND key = ?", [OUTBOX, str(next_id)]) == 0  # released


# -- 3. an answer that times out ---------------------------------------------------------------------
def test_an_answer_that_times_out_is_recorded_and_the_asker_told(bot, fake):
    user, channel = f"U0TIME{next(_n):03d}", f"D0TIME{next(_n):03d}"
    fake.hang("chat.postMessage", HANG, where=lambda a: a.get("channel") == channel)
    question = f"how do I sign off my commits? ({user})"
    assert bot["slack"].send_event(event(dm(question, user=user, channel=channel)))[0] == 200

    def apologies():
        return [
            a
            for method in ("chat.postEphemeral", "chat.postMessage")
            for a in fake.calls_to(method, ok=True)
            if "Sorry" in a.get("text", "") and user in (a.get("user"), a.get("channel"))
        ]

    wait_until(apologies, PROMPT, f"an apology to {user}")
    # Not posted a second time behind the user's back: Slack may have shown the first one.
    assert len([a for a in fake.calls_to("chat.postMessage") if a.get("channel") == channel]) == 1
    recorded = list(db(bot).query("SELECT question FROM questions WHERE user = ?", [user]))
    assert [r["question"] for r in recorded] == [question]


def test_a_reaction_that_times_out_does_not_cost_the_answer(bot, fake):
    user, channel = f"U0TIME{next(_n):03d}", f"D0TIME{next(_n):03d}"
    fake.hang("reactions.add", HANG, where=lambda a: a.get("channel") == channel)
    assert bot["slack"].send_event(event(dm("how do I sign off my commits?", user=user, channel=channel)))[0] == 200
    answer = fake.wait_for("chat.postMessage", where=lambda a: a.get("channel") == channel, ok=True, timeout=PROMPT)[-1]
    assert "git commit -s" in text_of(answer)
