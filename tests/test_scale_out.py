"""Scale-out: two `ospo-bot serve` processes (HTTP mode) sharing ONE data dir (one SQLite database)
and ONE Chroma server, both talking to the same fake Slack, as behind a load balancer.

The same traffic goes to both: Slack's retry of an event lands on the other replica, many users ask
the same question through either, two approvers decide the same request through different replicas
at the same moment, both housekeeping loops find the same outboxed requests, and both schedulers
wake for the same weekly digest. Every answer, decision, post and digest happens exactly once."""

from __future__ import annotations

import itertools
import json
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from bot.config import load_settings
from bot.scheduler import DIGEST_JOB, Scheduler
from bot.slack.client import web_client
from bot.slack.delivery import SlackDelivery
from bot.wiring import Core
from tests.conftest import SMALL_KB, bot_env, start_bot, stop_bot
from tests.fakeslack import BOT_TOKEN
from tests.slackkit import SlackSide, dm, event, view_submission

APPROVALS, DIGEST = "C0APPROVE", "C0DIGEST"
APPROVER, APPROVER2 = "U0APPROVER", "U0APPR2"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DIGEST_AFTER = timedelta(seconds=40)  # the digest job is due this long after the bots are launched
QUESTION = "how do I sign off my commits?"
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}  # Slack's headers on a retry
_n = itertools.count(1)


def long_guide() -> str:
    """A document of many sections: re-embedding it after an edit takes the better part of a
    second, longer than a housekeeping round, so both replicas see the edit while it is indexed."""
    steps = [
        f"## Step {i}: check item {i}\n\nThe release captain checks item {i} of the list and writes its outcome "
        f"in the release ticket before moving on; item {i} is never skipped, and a failed item stops the release "
        "until the owner of that item has fixed it and the release captain has checked it again.\n"
        for i in range(1, 31)
    ]
    signing = (
        "## Signing the release tag\n\nThe release captain signs the release tag with git tag -s and the "
        "company release key, so that users can verify where the release came from.\n"
    )
    return "---\ntitle: The release checklist\n---\n# The release checklist\n\n" + signing + "\n".join(steps)


KNOWLEDGE = {**SMALL_KB, "releasing/checklist.md": long_guide()}
CHUNKS = 36  # SMALL_KB's 5 and the guide's 31


@pytest.fixture(scope="module")
def replicas(fake, tmp_path_factory, model_name, chroma_server):
    """Both processes, launched at the same moment on an empty data dir (both index the knowledge
    base at start-up), with the weekly digest due at one instant shortly after."""
    folder = tmp_path_factory.mktemp("scale-out")
    due = (datetime.now(UTC) + DIGEST_AFTER).replace(microsecond=0)
    env = replica_env(folder, fake, model_name, KNOWLEDGE, due, **chroma_server)
    digest_due_at(env, due)
    with ThreadPoolExecutor(2) as pool:
        started = list(pool.map(lambda _: start_bot(env, folder), range(2)))
    yield {
        "env": env,
        "db_path": Path(env["OSPO_DATA_DIR"]) / "ospo-bot.db",
        "bases": [base for _, base, _ in started],
        "slack": [SlackSide(base + "/slack/events") for _, base, _ in started],
        "logs": [log for _, _, log in started],
        "digest_due": due,
    }
    for process, _, _ in started:
        stop_bot(process)


def replica_env(folder: Path, fake, model_name: str, knowledge: dict, due: datetime, **settings) -> dict:
    """What every replica of the scale-out tests is given: approvals, housekeeping every half second,
    the digest scheduled for `due`'s day and minute, and its log at INFO (the tests read who ran a job)."""
    return bot_env(
        folder,
        fake,
        model_name,
        knowledge,
        OSPO_APPROVALS_CHANNEL=APPROVALS,
        OSPO_APPROVERS=f"{APPROVER},{APPROVER2}",
        OSPO_HOUSEKEEPING_SECONDS="0.5",
        OSPO_DIGEST_CHANNEL=DIGEST,
        OSPO_DIGEST_CRON=f"{DAYS[due.weekday()]} {due:%H:%M}",
        OSPO_TIMEZONE="UTC",
        OSPO_LOG_LEVEL="INFO",
        **settings,
    )


def digest_due_at(env: dict, due: datetime) -> None:
    """Persist the digest job with its next run at `due` (APScheduler keeps a persisted job's next
    run when the schedule is unchanged): both processes' schedulers then wake for it at once."""
    settings = load_settings(**{k: str(v) for k, v in env.items()}, SLACK_BOT_TOKEN=BOT_TOKEN)
    delivery = SlackDelivery(web_client(settings), settings.digest_channel)
    scheduler = Scheduler(Core(settings), delivery).start(paused=True)
    scheduler.scheduler.modify_job(DIGEST_JOB, next_run_time=due)
    scheduler.shutdown()


# -- helpers ------------------------------------------------------------------------------------
def db(replicas) -> sqlite_utils.Database:
    return sqlite_utils.Database(replicas["db_path"])


def text_of(args: dict) -> str:
    blocks = args.get("blocks") or []
    return str(args.get("text") or "") + (blocks if isinstance(blocks, str) else json.dumps(blocks))


def in_channel(channel: str):
    return lambda args: args.get("channel") == channel


def to_approvals(args: dict) -> bool:
    return args.get("channel") == APPROVALS


def at_once(*calls):
    """Run the calls in threads released together; their results in order."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def answers_to(fake, channel: str) -> list[dict]:
    return [a for a in fake.calls_to("chat.postMessage", ok=True) if a.get("channel") == channel]


def sentinels(replicas, fake) -> None:
    """One more question through each replica, answered: work sent before it has been done."""
    for slack in replicas["slack"]:
        user, channel = f"U0SENT{next(_n):03d}", f"D0SENT{next(_n):03d}"
        slack.send_event(event(dm(QUESTION, user=user, channel=channel)))
        fake.wait_for("chat.postMessage", where=in_channel(channel), ok=True, timeout=60)


# -- 1. both replicas came up on one data dir ------------------------------------------------------
def test_both_replicas_share_one_complete_index(replicas):
    for base in replicas["bases"]:
        health = json.loads(urllib.request.urlopen(base + "/healthz", timeout=10).read())
        assert (health["status"], health["documents"], health["chunks"], health["vectors"]) == ("ok", 4, CHUNKS, CHUNKS)


# -- 2. Slack's retry of an event lands on the other replica ---------------------------------------
def deliver_each_to_both(replicas, fake, events: int) -> list[str]:
    """Each of `events` questions delivered to both replicas at the same moment (the second time as
    Slack's retry); checks each is answered once; the askers."""
    first, second = replicas["slack"]
    users, channels = [], []
    for _ in range(events):
        user, channel = f"U0RETRY{next(_n):03d}", f"D0RETRY{next(_n):03d}"
        payload = event(dm(QUESTION, user=user, channel=channel))
        acks = at_once(lambda p=payload: first.send_event(p), lambda p=payload: second.send_event(p, RETRY))
        assert [status for status, _ in acks] == [200, 200]
        users.append(user)
        channels.append(channel)
    for channel in channels:
        answer = fake.wait_for("chat.postMessage", where=in_channel(channel), ok=True, timeout=60)[-1]
        assert "git commit -s" in text_of(answer)
    sentinels(replicas, fake)
    assert {channel: len(answers_to(fake, channel)) for channel in channels} == dict.fromkeys(channels, 1)
    return users


def test_an_event_delivered_to_both_replicas_is_answered_once(replicas, fake):
    deliver_each_to_both(replicas, fake, 6)


# -- 3. many users, the same question, through either replica ---------------------------------------
def test_the_same_question_from_many_users_through_both_is_answered_once_each(replicas, fake):
    asks = []
    for i in range(16):
        user, channel = f"U0MANY{next(_n):03d}", f"D0MANY{next(_n):03d}"
        asks.append((replicas["slack"][i % 2], event(dm(QUESTION, user=user, channel=channel)), user, channel))
    acks = at_once(*[lambda s=slack, p=payload: s.send_event(p) for slack, payload, _, _ in asks])
    assert [status for status, _ in acks] == [200] * len(asks)
    for _, _, _, channel in asks:
        answer = fake.wait_for("chat.postMessage", where=in_channel(channel), ok=True, timeout=90)[-1]
        assert "git commit -s" in text_of(answer)
    sentinels(replicas, fake)
    assert [len(answers_to(fake, channel)) for _, _, _, channel in asks] == [1] * len(asks)
    users = [user for _, _, user, _ in asks]
    recorded = db(replicas).execute(
        f"SELECT user, count(*) FROM questions WHERE user IN ({','.join('?' * len(users))}) GROUP BY user", users
    )
    assert dict(recorded.fetchall()) == dict.fromkeys(users, 1)


# -- approval requests -------------------------------------------------------------------------------
def form(marker: str) -> dict:
    """The request form's state: a feature contribution, which always waits for an approver."""
    fields = {
        "repository_url": f"https://github.com/acme-oss/{marker}",
        "license": "MIT",
        "cla": "DCO",
        "changed_lines": "40",
        "description": f"Add a --json flag ({marker})",
    }
    values = {"type": {"approval_type": {"type": "static_select", "selected_option": {"value": "contribute"}}}}
    values |= {name: {"value": {"type": "plain_text_input", "value": v}} for name, v in fields.items()}
    for name, value in (("change_kind", "feature"), ("security_fix", "no")):
        values[name] = {"value": {"type": "static_select", "selected_option": {"value": value}}}
    return values


def about(marker: str, channel: str):
    return lambda args: args.get("channel") == channel and marker in text_of(args)


def submit(replicas, fake, slack: SlackSide) -> dict:
    user, marker = f"U0REQ{next(_n):04d}", f"scale{next(_n):04d}"
    payload = view_submission("approval_request", "", form(marker), user=user)
    payload["view"]["id"] = f"VSCALE{next(_n):06d}"
    assert slack.send_interaction(payload) == (200, "")
    told = fake.wait_for("chat.postMessage", where=about(marker, user), ok=True, timeout=60)[-1]
    request_id = int(told["text"].split(":")[0].removeprefix("OSPO-"))
    return {"id": request_id, "ref": f"OSPO-{request_id}", "marker": marker, "user": user, "dm": told}


def decision(request: dict, approver: str, view_id: str | None = None) -> dict:
    reason = {"reason": {"value": {"type": "plain_text_input", "value": f"fine by {approver}"}}}
    payload = view_submission("approval_approve", str(request["id"]), reason, user=approver)
    payload["view"]["id"] = view_id or f"VDEC{next(_n):06d}"
    return payload


def ack_body(response: tuple[int, str]) -> dict:
    status, body = response
    assert status == 200, body
    return json.loads(body) if body else {}


# -- 4. one decision, whichever replica each approver reaches ---------------------------------------
@pytest.mark.parametrize("who", ["two approvers", "one submission delivered twice"])
def test_the_same_decision_through_both_replicas_is_made_once(replicas, fake, who):
    first, second = replicas["slack"]
    request = submit(replicas, fake, first)
    fake.wait_for("chat.postMessage", where=about(request["marker"], APPROVALS), ok=True, timeout=30)
    if who == "two approvers":
        payloads = [decision(request, APPROVER), decision(request, APPROVER2)]
    else:
        payloads = [decision(request, APPROVER, view_id="VSAME01")] * 2
    bodies = at_once(
        lambda: ack_body(first.send_interaction(payloads[0])), lambda: ack_body(second.send_interaction(payloads[1]))
    )
    won = [p["user"]["id"] for p, body in zip(payloads, bodies, strict=True) if body == {}]
    lost = [body for body in bodies if body != {}]
    assert len(won) == 1 and len(lost) == 1, bodies
    assert lost[0]["response_action"] == "errors"
    assert f"{request['ref']} was already approved by {won[0]}" in lost[0]["errors"]["reason"]  # told who decided
    events = list(db(replicas).query("SELECT * FROM approval_events WHERE request_id = ?", [request["id"]]))
    assert [(e["to_state"], e["actor"]) for e in events] == [("pending", request["user"]), ("approved", won[0])]

    decided = about(request["ref"], request["user"])
    fake.wait_for("chat.postMessage", where=lambda a: decided(a) and "approved" in a["text"], timeout=30)
    sentinels(replicas, fake)
    ts = db(replicas)["approval_messages"].get(request["id"])["ts"]
    assert len([a for a in fake.calls_to("chat.update") if a.get("ts") == ts]) == 1
    assert len([a for a in fake.calls_to("chat.postMessage") if decided(a)]) == 2  # submitted, approved


# -- 5. both housekeeping loops, one post per outboxed request ------------------------------------------
def test_both_housekeeping_loops_post_each_outboxed_request_once(replicas, fake):
    """Slack refuses the approvals channel while requests come in through both replicas; then it
    answers again, rate-limiting each first post (Retry-After: 2), long enough for the other
    replica's housekeeping rounds to find the same request still unposted."""
    refusing = threading.Event()  # while set, Slack refuses every post to the approvals channel
    refusing.set()
    fake.fail("chat.postMessage", "not_in_channel", times=None, where=lambda a: refusing.is_set() and to_approvals(a))
    requests = [submit(replicas, fake, replicas["slack"][i % 2]) for i in range(4)]
    assert all("approvers will see it" in text_of(r["dm"]) for r in requests)
    fake.wait_for("chat.postMessage", count=3 * len(requests), where=in_channel(APPROVALS), timeout=30)  # retried

    def posts_of(request: dict) -> list[dict]:
        return [a for a in fake.calls_to("chat.postMessage", ok=True) if about(request["marker"], APPROVALS)(a)]

    assert [posts_of(r) for r in requests] == [[]] * len(requests)

    for r in requests:  # queued behind the refusal, so they apply from the moment it ends
        fake.rate_limit("chat.postMessage", retry_after=2, where=about(r["marker"], APPROVALS))
    refusing.clear()
    for r in requests:
        fake.wait_for("chat.postMessage", where=about(r["marker"], APPROVALS), ok=True, timeout=60)
    # A sentinel refused once and then posted from the outbox: the rounds before it are over.
    fake.fail("chat.postMessage", "not_in_channel", where=in_channel(APPROVALS))
    last = submit(replicas, fake, replicas["slack"][0])
    fake.wait_for("chat.postMessage", where=about(last["marker"], APPROVALS), ok=True, timeout=30)
    assert {r["ref"]: len(posts_of(r)) for r in requests} == {r["ref"]: 1 for r in requests}
    ids = [r["id"] for r in requests]
    rows = db(replicas).execute(
        f"SELECT count(*) FROM approval_messages WHERE request_id IN ({','.join('?' * len(ids))})", ids
    )
    assert rows.fetchone()[0] == len(requests)


# -- 6. both housekeeping loops, one policy-change notice -----------------------------------------------
def ask(replicas, fake, slack: SlackSide, question: str) -> str:
    user, channel = f"U0NOTE{next(_n):03d}", f"D0NOTE{next(_n):03d}"
    assert slack.send_event(event(dm(question, user=user, channel=channel)))[0] == 200
    fake.wait_for("chat.postMessage", where=in_channel(channel), ok=True, timeout=60)
    return user


def notices_to(fake, user: str) -> list[dict]:
    return [
        a
        for a in fake.calls_to("chat.postMessage", ok=True)
        if a.get("channel") == user and "has changed" in a.get("text", "")
    ]


def test_both_housekeeping_loops_send_each_policy_change_notice_once(replicas, fake):
    """Both replicas see the edited handbook at about the same time: the change is indexed once and
    each person quoted the old text gets one notice, although Slack rate-limits each notice's first
    try (Retry-After: 2) for long enough that both loops find it waiting."""
    knowledge = Path(replicas["env"]["OSPO_KNOWLEDGE_DIR"])
    first, second = replicas["slack"]
    quoted = [ask(replicas, fake, slack, "how do I sign the release tag?") for slack in (first, second)]
    sentinel = ask(replicas, fake, first, "is AGPL software allowed in our SaaS products?")

    for user in quoted:
        fake.rate_limit("chat.postMessage", 2, where=lambda a, u=user: a["channel"] == u and "has changed" in a["text"])
    guide = knowledge / "releasing/checklist.md"
    guide.write_text(guide.read_text().replace("release captain", "release manager").replace("-s", "--sign"))
    for user in quoted:
        fake.wait_for("chat.postMessage", where=lambda a, u=user: notices_to(fake, u) and a["channel"] == u, timeout=60)
    # A second edit, noticed by both loops after the first: the rounds for the first are over.
    agpl = knowledge / "using/agpl.md"
    agpl.write_text(agpl.read_text().replace("is not allowed", "is never allowed"))
    fake.wait_for("chat.postMessage", where=lambda a: bool(notices_to(fake, sentinel)), timeout=60)
    sentinels(replicas, fake)
    assert [len(notices_to(fake, user)) for user in [*quoted, sentinel]] == [1, 1, 1]
    assert all("git tag --sign" in text_of(notices_to(fake, user)[0]) for user in quoted)
    users = [*quoted, sentinel]
    queued = db(replicas).execute(
        f"SELECT user, count(*) FROM notices WHERE user IN ({','.join('?' * len(users))}) GROUP BY user", users
    )
    assert dict(queued.fetchall()) == dict.fromkeys(users, 1)
    for base in replicas["bases"]:  # and the index is whole: every chunk has its vector
        health = json.loads(urllib.request.urlopen(base + "/healthz", timeout=10).read())
        assert (health["chunks"], health["vectors"]) == (CHUNKS, CHUNKS)


# -- 7. both schedulers, one digest (keep last: it waits for the digest's time) ------------------------
def test_both_schedulers_wake_for_the_digest_and_it_is_sent_once(replicas, fake):
    due = replicas["digest_due"]
    wait = max(0.0, (due - datetime.now(UTC)).total_seconds()) + 60
    fake.wait_for("chat.postMessage", where=in_channel(DIGEST), ok=True, timeout=wait)
    fake.wait_for("files.completeUploadExternal", timeout=30)  # the chart: the digest run is complete
    sentinels(replicas, fake)
    digests = [a for a in fake.calls_to("chat.postMessage") if a.get("channel") == DIGEST and not a.get("thread_ts")]
    assert len(digests) == 1 and digests[0]["text"].startswith("OSPO weekly digest ")
    assert len(fake.calls_to("files.completeUploadExternal")) == 1
    runs = list(db(replicas).query("SELECT * FROM digest_runs"))
    assert len(runs) == 1 and runs[0]["sent_at"]
    # Both schedulers wait for the same time and usually both run the job (the claim lets one send); one
    # that wakes after the other has moved the shared job on to next week skips it (a loaded machine).
    ran = [log.read_text().count('Running job "Weekly digest') for log in replicas["logs"]]
    assert max(ran) == 1, ran
