"""Scale-out across hosts: two `ospo-bot serve` processes with SEPARATE data folders (as on two
machines) sharing only ONE PostgreSQL database (OSPO_DATABASE_URL) and ONE Chroma server
(CHROMA_HOST), both talking to the same fake Slack, as behind a load balancer. The knowledge folder
is the same on both (the same image or volume on every host).

Every guarantee README makes for several hosts: an event delivered to both is answered once; two
approvers deciding through different replicas make one decision and the loser is told who won; the
weekly digest is posted once, and each reminder once per request and day; a knowledge-base sync on
one is seen by the other, two syncs never overlap, and a replica killed in the middle of one is taken
over; PostgreSQL restarted mid-run loses and doubles nothing."""

from __future__ import annotations

import json
import os
import re
import signal
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from bot.approvals import Approvals
from bot.config import load_settings
from bot.licenses import default_policy_path, load_policy
from bot.scheduler import DIGEST_JOB, REMINDER_JOB, Scheduler
from bot.slack.client import web_client
from bot.slack.delivery import SlackDelivery
from bot.storage import postgres
from bot.store import open_db
from bot.wiring import Core
from tests.approval_data import TRIVIAL
from tests.conftest import SMALL_KB, start_bot, stop_bot, wait_until
from tests.fakeslack import BOT_TOKEN
from tests.slackkit import SlackSide, dm, event
from tests.test_scale_out import (
    APPROVALS,
    APPROVER,
    APPROVER2,
    DIGEST,
    QUESTION,
    RETRY,
    about,
    ack_body,
    answers_to,
    at_once,
    decision,
    deliver_each_to_both,
    in_channel,
    replica_env,
    sentinels,
    submit,
    text_of,
)

DUE_AFTER = timedelta(seconds=35)  # the digest and reminder jobs fall due this long after the launch
OLD = datetime.now(UTC) - timedelta(days=14)  # when the overdue request was made: past any SLA


def handbook(steps: int) -> str:
    """A document of many sections: editing all of them takes the sync a few seconds of embedding,
    long enough to see which replica holds the sync lock and who waits for it."""
    body = "\n".join(
        f"## Step {i}: check item {i}\n\nThe release captain checks item {i} and writes its outcome in the "
        f"release ticket; a failed item {i} stops the release until its owner has fixed it.\n"
        for i in range(1, steps + 1)
    )
    signing = "## Signing the release tag\n\nThe release captain signs the release tag with git tag -s.\n"
    return "---\ntitle: The release checklist\n---\n# The release checklist\n\n" + signing + body


STEPS = 150
KNOWLEDGE = {**SMALL_KB, "releasing/checklist.md": handbook(STEPS)}
CHUNKS = 5 + STEPS + 1


@pytest.fixture(scope="module")
def cluster(fake, tmp_path_factory, model_name, chroma_server, postgres_server):
    """One database, one Chroma collection, two hosts (data folders host-a/ and host-b/), the jobs
    due at one instant and a request already past its SLA; both replicas launched at once."""
    folder = tmp_path_factory.mktemp("scale-out-pg")
    url = postgres_server.new_database()
    due = (datetime.now(UTC) + DUE_AFTER).replace(microsecond=0)
    shared = replica_env(
        folder,
        fake,
        model_name,
        KNOWLEDGE,
        due,
        **chroma_server,
        CHROMA_COLLECTION=f"scale_{uuid.uuid4().hex[:10]}",
        OSPO_DATABASE_URL=url,
    )
    hosts = [folder / "host-a", folder / "host-b"]
    envs = [{**shared, "OSPO_DATA_DIR": host / "data"} for host in hosts]
    for host in hosts:
        host.mkdir()
    overdue = jobs_due_at(envs[0], due)
    with ThreadPoolExecutor(2) as pool:
        started = list(pool.map(lambda i: start_bot(envs[i], hosts[i]), range(2)))
    replicas = {
        "url": url,
        "server": postgres_server,
        "envs": envs,
        "hosts": hosts,
        "processes": [process for process, _, _ in started],
        "bases": [base for _, base, _ in started],
        "slack": [SlackSide(base + "/slack/events") for _, base, _ in started],
        "logs": [log for _, _, log in started],
        "due": due,
        "overdue": overdue,
    }
    yield replicas
    for process in replicas["processes"]:
        stop_bot(process)
    postgres_server.drop_database(url)


def jobs_due_at(env: dict, due: datetime) -> int:
    """Persist the digest and reminder jobs with their next run at `due` (APScheduler keeps a persisted
    job's next run when its schedule is unchanged), and one request pending since OLD; its id."""
    settings = load_settings(**{k: str(v) for k, v in env.items()}, SLACK_BOT_TOKEN=BOT_TOKEN)
    scheduler = Scheduler(Core(settings), SlackDelivery(web_client(settings), DIGEST)).start(paused=True)
    for job in (DIGEST_JOB, REMINDER_JOB):
        scheduler.scheduler.modify_job(job, next_run_time=due)
    scheduler.shutdown()
    ticks = iter(range(1000))
    approvals = Approvals(
        lambda: open_db(settings.database_url),
        load_policy(default_policy_path()),
        clock=lambda: (OLD + timedelta(seconds=next(ticks))).isoformat(timespec="seconds"),
    )
    fields = {**TRIVIAL, "change_kind": "feature", "repository_url": "https://github.com/acme-oss/overdue"}
    request = approvals.submit("U0OVERDUE", "contribute", fields)
    assert request.state == "pending"
    return request.id


def query(replicas, sql: str, args=None) -> list[tuple]:
    with psycopg.connect(replicas["url"], autocommit=True) as conn:
        return conn.execute(postgres.translate(sql, args is not None), args).fetchall()


def health(base: str) -> dict:
    return json.loads(urllib.request.urlopen(base + "/healthz", timeout=10).read())


def ask(slack: SlackSide, fake, question: str = QUESTION, headers: dict | None = None) -> tuple[str, str]:
    user, channel = f"U0PG{uuid.uuid4().hex[:6].upper()}", f"D0PG{uuid.uuid4().hex[:6].upper()}"
    assert slack.send_event(event(dm(question, user=user, channel=channel)), headers or {})[0] == 200
    fake.wait_for("chat.postMessage", where=in_channel(channel), ok=True, timeout=60)
    return user, channel


# -- 1. two hosts: nothing shared but the database and the Chroma server ---------------------------
def test_both_replicas_see_one_index_and_keep_no_state_of_their_own(cluster):
    for base in cluster["bases"]:
        figures = health(base)
        assert (figures["status"], figures["documents"], figures["chunks"], figures["vectors"]) == (
            "ok",
            4,
            CHUNKS,
            CHUNKS,
        )
    for host in cluster["hosts"]:
        data = host / "data"
        assert not list(data.glob("*.db")) and not (data / "chroma").exists(), sorted(data.iterdir())
    assert query(cluster, "SELECT count(*) FROM chunks") == [(CHUNKS,)]


# -- 2. Slack's retry of an event lands on the other replica ------------------------------------------
def test_an_event_delivered_to_both_replicas_is_answered_once(cluster, fake):
    users = deliver_each_to_both(cluster, fake, 4)
    placeholders = ", ".join("?" * len(users))
    asked = query(cluster, f'SELECT "user", count(*) FROM questions WHERE "user" IN ({placeholders}) GROUP BY 1', users)
    assert dict(asked) == dict.fromkeys(users, 1)


# -- 3. two approvers, two replicas, one decision -------------------------------------------------------
def test_two_approvers_through_different_replicas_make_one_decision(cluster, fake):
    first, second = cluster["slack"]
    request = submit(cluster, fake, first)
    fake.wait_for("chat.postMessage", where=about(request["marker"], APPROVALS), ok=True, timeout=30)
    payloads = [decision(request, APPROVER), decision(request, APPROVER2)]
    bodies = at_once(
        lambda: ack_body(first.send_interaction(payloads[0])), lambda: ack_body(second.send_interaction(payloads[1]))
    )
    won = [p["user"]["id"] for p, body in zip(payloads, bodies, strict=True) if body == {}]
    lost = [body for body in bodies if body != {}]
    assert len(won) == 1 and len(lost) == 1, bodies
    assert f"{request['ref']} was already approved by {won[0]}" in lost[0]["errors"]["reason"]  # told who won
    trail = query(
        cluster, "SELECT to_state, actor FROM approval_events WHERE request_id = ? ORDER BY id", [request["id"]]
    )
    assert trail == [("pending", request["user"]), ("approved", won[0])]
    decided = about(request["ref"], request["user"])
    fake.wait_for("chat.postMessage", where=lambda a: decided(a) and "approved" in a["text"], timeout=30)
    sentinels(cluster, fake)
    assert len([a for a in fake.calls_to("chat.postMessage") if decided(a)]) == 2  # submitted, approved


# -- 4. both schedulers wake at once: one digest, one reminder per approver -----------------------------
def test_the_digest_and_the_reminders_are_sent_once_by_two_schedulers(cluster, fake):
    due = cluster["due"]
    wait = max(0.0, (due - datetime.now(UTC)).total_seconds()) + 60
    fake.wait_for("chat.postMessage", where=in_channel(DIGEST), ok=True, timeout=wait)
    fake.wait_for("files.completeUploadExternal", timeout=30)  # the chart: the digest run is complete
    ref = f"OSPO-{cluster['overdue']}"
    reminded = lambda a: a.get("channel") in (APPROVER, APPROVER2) and "past their SLA" in a.get("text", "")  # noqa: E731
    fake.wait_for("chat.postMessage", count=2, where=reminded, timeout=30)
    sentinels(cluster, fake)
    digests = [a for a in fake.calls_to("chat.postMessage") if a.get("channel") == DIGEST and not a.get("thread_ts")]
    assert len(digests) == 1 and digests[0]["text"].startswith("OSPO weekly digest ")
    assert len(fake.calls_to("files.completeUploadExternal")) == 1
    reminders = [a for a in fake.calls_to("chat.postMessage", ok=True) if reminded(a)]
    assert sorted(a["channel"] for a in reminders) == sorted([APPROVER, APPROVER2]) and all(
        ref in a["text"] for a in reminders
    )
    assert query(cluster, "SELECT count(*) FROM digest_runs WHERE sent_at IS NOT NULL") == [(1,)]
    assert query(cluster, "SELECT request_id, kind FROM reminder_log") == [(cluster["overdue"], "sla")]
    # Both schedulers wait for the same time and usually both run each job (the claims let one send); one
    # that wakes after the other has moved the shared job on skips it (a loaded machine).
    for job in ('Running job "Weekly digest', 'Running job "Daily reminders'):
        ran = [log.read_text().count(job) for log in cluster["logs"]]
        assert max(ran) == 1, (job, ran)


# -- 5. a sync on one is seen by the other; never two at once; a replica killed mid-sync is taken over ----
def sync_lock_holders(replicas) -> tuple[list[int], int]:
    """(pids of the processes holding the sync lock, how many wait for it), from pg_locks."""
    rows = query(
        replicas,
        "SELECT a.application_name, l.granted FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND a.application_name LIKE ?",
        [postgres.SYNC_APPLICATION + " %"],
    )
    holders = [int(re.search(r" (\d+)@", name).group(1)) for name, granted in rows if granted]
    return holders, sum(1 for _, granted in rows if not granted)


def test_a_sync_runs_on_one_replica_at_a_time_and_a_killed_one_is_taken_over(cluster, fake):
    guide = cluster["envs"][0]["OSPO_KNOWLEDGE_DIR"] / "releasing/checklist.md"
    guide.write_text(guide.read_text().replace("release captain", "release manager").replace("-s.", "--sign."))
    pids = [p.pid for p in cluster["processes"]]
    seen: dict = {}

    def one_holds_and_the_other_waits() -> bool:
        holders, waiting = sync_lock_holders(cluster)
        assert len(holders) <= 1, holders  # never two syncs at once
        seen.update(holders=holders, waiting=waiting)
        return len(holders) == 1 and holders[0] in pids and waiting >= 1

    wait_until(one_holds_and_the_other_waits, 60, "one replica to sync while the other waits for the lock")
    victim = pids.index(seen["holders"][0])
    os.kill(pids[victim], signal.SIGKILL)  # killed in the middle of its sync
    cluster["processes"][victim].wait(10)
    survivor = cluster["bases"][1 - victim]

    def synced() -> bool:
        figures = health(survivor)
        return sync_lock_holders(cluster) == ([], 0) and (figures["chunks"], figures["vectors"]) == (CHUNKS, CHUNKS)

    wait_until(synced, 90, "the surviving replica to finish the sync")
    replaced_chunks = query(cluster, "SELECT count(*) FROM chunks WHERE text LIKE '%release manager%'")
    assert replaced_chunks == [(STEPS + 1,)]

    # The killed replica comes back on its own data folder and finds the sync done, by the other.
    port = int(cluster["bases"][victim].rsplit(":", 1)[1])
    process, base, log = start_bot(cluster["envs"][victim], cluster["hosts"][victim], port=port)
    cluster["processes"][victim], cluster["logs"][victim] = process, log
    for slack in cluster["slack"]:  # both answer from the new text
        _, channel = ask(slack, fake, "how do I sign the release tag?")
        answer = text_of(answers_to(fake, channel)[-1])
        assert "release manager" in answer and "release captain" not in answer, answer
    assert (health(base)["chunks"], health(base)["vectors"]) == (CHUNKS, CHUNKS)


# -- 6. PostgreSQL restarted mid-run: a request fails clearly, Slack's retry is answered once ----------
def test_a_question_while_postgresql_is_down_fails_clearly_and_slacks_retry_is_answered_once(cluster, fake):
    """The server stops (every connection of both replicas cut): a question waits for it up to
    WAIT_SECONDS, then the asker gets an apology and the log says what is wrong. Once it is back, Slack's
    retry of the event (to the other replica) is answered, once, and the first replica works again."""
    server = cluster["server"]
    first, second = cluster["slack"]
    user, channel = "U0PGDOWN1", "D0PGDOWN1"
    payload = event(dm(QUESTION, user=user, channel=channel))
    server.stop("fast")
    try:
        started = time.monotonic()
        status, _ = first.send_event(payload)
        waited = time.monotonic() - started
    finally:
        server.start()
    assert status >= 500 and waited >= postgres.WAIT_SECONDS - 1  # waited for the server, then failed
    apology = fake.wait_for("chat.postEphemeral", where=in_channel(channel), ok=True, timeout=30)[-1]
    assert "something went wrong" in apology["text"]
    assert "cannot reach the PostgreSQL database" in cluster["logs"][0].read_text()

    assert second.send_event(payload, RETRY)[0] == 200  # Slack retries the event, on the other replica
    fake.wait_for(
        "chat.postMessage", where=lambda a: in_channel(channel)(a) and "git commit -s" in text_of(a), timeout=60
    )
    ask(first, fake)  # the first replica is back too, with no restart of its own
    sentinels(cluster, fake)
    assert len([a for a in answers_to(fake, channel) if "git commit -s" in text_of(a)]) == 1
    assert query(cluster, 'SELECT count(*) FROM questions WHERE "user" = ?', [user]) == [(1,)]
