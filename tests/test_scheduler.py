"""The digest schedule (bot/scheduler.py): cron from the configuration, local time across DST,
exactly-once delivery through the digest_runs claim, late runs, restarts, reminders, and the chart
upload, against real SQLite and the fake Slack. Time is passed in (`now=`), never slept on; the two
tests that let APScheduler itself run a job set its persisted next_run_time and wait on Slack's side.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.approvals import Approvals
from bot.config import ConfigError, load_settings
from bot.licenses import default_policy_path, load_policy
from bot.scheduler import (
    DIGEST_GRACE,
    DIGEST_JOB,
    REMINDER_JOB,
    STALE_CLAIM,
    Scheduler,
    claim_period,
    deliver_digest,
    digest_trigger,
    parse_schedule,
    previous_fire_time,
    send_reminders,
)
from bot.slack.client import group_members, web_client
from bot.slack.delivery import SlackDelivery
from bot.store import open_db
from bot.wiring import Core
from tests.conftest import done_with
from tests.fakeslack import BOT_TOKEN, FakeSlack

BERLIN = ZoneInfo("Europe/Berlin")
CHANNEL = "CDIGEST01"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FEATURE = {
    "repository_url": "https://github.com/example/widget",
    "license": "MIT",
    "change_kind": "feature",
    "cla": "dco",
    "security_fix": False,
    "description": "Add a --json flag.",
}


@pytest.fixture(scope="module")
def slack():
    server = FakeSlack().start()
    yield server
    server.stop()


@pytest.fixture
def fake(slack):
    """The module's fake Slack, its record of calls emptied for each test."""
    with slack._lock:
        slack.calls.clear()
        slack._failures.clear()
    return slack


@pytest.fixture
def make_settings(tmp_path, fake, database_env):
    def make(**env):
        values = {
            "OSPO_DATA_DIR": tmp_path / "data",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_URL": fake.base_url,
            "OSPO_DIGEST_CHANNEL": CHANNEL,
            "OSPO_TIMEZONE": "Europe/Berlin",
            "OSPO_DIGEST_CRON": "mon 09:00",
            "OSPO_APPROVERS": "",
            **database_env,
        }
        settings = load_settings(**(values | env))
        done_with(open_db(settings.database))  # created and migrated, as `serve` does before any job runs
        return settings

    return make


@pytest.fixture
def schedulers():
    """Schedulers a test starts; all shut down at its end."""
    started: list[Scheduler] = []
    yield started
    for s in started:
        s.shutdown(wait=True)


def parts(settings) -> tuple[Core, SlackDelivery]:
    """The core and the Slack delivery that `serve` runs its scheduler with, for these settings."""
    client = web_client(settings)
    return Core(settings, group_members=group_members(client)), SlackDelivery(client, settings.digest_channel)


def scheduler_for(settings) -> Scheduler:
    return Scheduler(*parts(settings))


def deliver(settings, **options) -> bool:
    return deliver_digest(*parts(settings), **options)


def remind_all(settings, **options) -> int:
    return send_reminders(*parts(settings), **options)


def digests(fake) -> list[dict]:
    """The digest messages themselves (not their thread replies)."""
    return [a for a in fake.calls_to("chat.postMessage") if a.get("channel") == CHANNEL and not a.get("thread_ts")]


def weeks_sent(fake) -> list[str]:
    """The week label of each digest message, with " (late)" when it was marked late."""
    found = []
    for message in digests(fake):
        assert message["text"].startswith("OSPO weekly digest ")
        label = message["text"].split()[3].rstrip(":")
        found.append(label + (" (late)" if message["text"].endswith(" (late)") else ""))
    return found


def row(settings, period: str) -> dict | None:
    db = open_db(settings.database)
    try:
        found = list(db.query("SELECT * FROM digest_runs WHERE period = ?", [period]))
    finally:
        done_with(db)
    return found[0] if found else None


def at(text: str, tz=BERLIN) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


# -- configuration ------------------------------------------------------------------------------
def test_the_schedule_comes_from_the_configuration(make_settings):
    trigger = digest_trigger(make_settings(OSPO_DIGEST_CRON="mon-fri 08:30", OSPO_TIMEZONE="America/New_York"))
    fields = {f.name: str(f) for f in trigger.fields}
    assert (fields["day_of_week"], fields["hour"], fields["minute"]) == ("mon-fri", "8", "30")
    assert trigger.timezone == ZoneInfo("America/New_York")
    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 21, 12, tzinfo=UTC))  # a Saturday
    assert fire.astimezone(ZoneInfo("America/New_York")).isoformat() == "2026-11-23T08:30:00-05:00"


def test_an_unusable_schedule_stops_the_start_with_a_clear_message(make_settings):
    with pytest.raises(ConfigError, match=r"OSPO_DIGEST_CRON.*mon 09:00"):
        make_settings(OSPO_DIGEST_CRON="monday at 9")  # the format: config.py refuses it
    with pytest.raises(ConfigError, match=r"OSPO_DIGEST_CRON \('fri-mon 09:00'\).*in week order"):
        scheduler_for(make_settings(OSPO_DIGEST_CRON="fri-mon 09:00"))  # the right shape, but not a range
    with pytest.raises(ConfigError, match="OSPO_TIMEZONE"):
        parse_schedule("mon 09:00", "Mars/Olympus")


# -- local time across DST -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "before, after, utc_hours",
    [
        ("2026-10-12", "2026-11-02", [7, 7, 8, 8]),  # CEST -> CET on Sunday 25 October 2026
        ("2026-03-16", "2026-04-06", [8, 8, 7, 7]),  # CET -> CEST on Sunday 29 March 2026
    ],
)
def test_the_digest_fires_at_nine_local_time_across_a_dst_change(make_settings, fake, before, after, utc_hours):
    settings = make_settings()
    trigger = digest_trigger(settings)
    fires, fire = [], trigger.get_next_fire_time(None, at(before + "T00:00"))
    while fire < at(after + "T23:59"):
        fires.append(fire)
        fire = trigger.get_next_fire_time(fire, fire)
    local = [f.astimezone(BERLIN) for f in fires]
    assert [(f.weekday(), f.hour, f.minute) for f in local] == [(0, 9, 0)] * 4  # Mondays 09:00 in Berlin
    assert [f.astimezone(UTC).hour for f in fires] == utc_hours  # the UTC instant moves with the clocks

    scheduler = scheduler_for(settings)
    for f in fires:  # each run, at its time, sends the week just ended, on time
        assert previous_fire_time(trigger, f + timedelta(minutes=5)) == f.astimezone(UTC)
        assert scheduler.run_digest(now=f + timedelta(seconds=2)) is True
    labels = [(f - timedelta(days=7)).strftime("%G-W%V") for f in local]
    assert weeks_sent(fake) == labels
    assert all(row(settings, label)["late"] == 0 for label in labels)


def test_on_the_dst_sunday_itself_the_job_keeps_its_local_time(make_settings):
    trigger = digest_trigger(make_settings(OSPO_DIGEST_CRON="sun 09:00"))
    for day, utc_hour in (("2026-10-25", 8), ("2026-03-29", 7)):
        fire = trigger.get_next_fire_time(None, at(day + "T00:00"))
        assert fire.astimezone(BERLIN).isoformat()[:19] == day + "T09:00:00"
        assert fire.astimezone(UTC).hour == utc_hour


def test_an_hour_that_happens_twice_fires_twice_but_posts_once(make_settings, fake):
    """02:30 on 25 October 2026 happens twice in Berlin and APScheduler fires at both; the claim
    on the week makes the second run a no-op. (02:30 on 29 March does not exist: it fires once.)"""
    settings = make_settings(OSPO_DIGEST_CRON="sun 02:30")
    trigger = digest_trigger(settings)
    first = trigger.get_next_fire_time(None, at("2026-10-25T00:00"))
    second = trigger.get_next_fire_time(first, first)
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)
    assert {first.astimezone(BERLIN).strftime("%H:%M"), second.astimezone(BERLIN).strftime("%H:%M")} == {"02:30"}
    scheduler = scheduler_for(settings)
    assert scheduler.run_digest(now=first) is True
    assert scheduler.run_digest(now=second) is False
    assert len(digests(fake)) == 1

    spring = trigger.get_next_fire_time(None, at("2026-03-29T00:00"))
    following = trigger.get_next_fire_time(spring, spring)
    assert following.astimezone(UTC) - spring.astimezone(UTC) == timedelta(days=7) - timedelta(hours=1)


# -- exactly once ------------------------------------------------------------------------------
def test_threads_racing_for_one_period_send_it_once(make_settings, fake):
    settings = make_settings()
    core, delivery = parts(settings)
    rounds, racers = 12, 8
    for n in range(1, rounds + 1):
        label = f"2025-W{n:02d}"
        start = threading.Barrier(racers)
        results: list[bool] = []

        def race(label=label, start=start, results=results):
            start.wait()
            results.append(deliver_digest(core, delivery, week=label, now=datetime(2026, 1, 5, tzinfo=UTC)))

        threads = [threading.Thread(target=race) for _ in range(racers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [False] * (racers - 1) + [True], label
    assert sorted(weeks_sent(fake)) == [f"2025-W{n:02d}" for n in range(1, rounds + 1)]
    assert len(fake.uploads()) == rounds  # one chart each


def test_two_schedulers_on_one_database_send_each_week_once(make_settings, fake):
    """Two bots started by mistake: two Scheduler objects (two processes' worth), one database."""
    settings = make_settings()
    bots = [scheduler_for(settings), scheduler_for(settings)]
    trigger = digest_trigger(settings)
    fire = trigger.get_next_fire_time(None, at("2026-09-01T00:00"))
    for _ in range(6):
        start = threading.Barrier(6)
        results: list[bool] = []

        def run(bot, fire=fire, start=start, results=results):
            start.wait()
            results.append(bot.run_digest(now=fire + timedelta(seconds=1)))

        threads = [threading.Thread(target=run, args=(bots[i % 2],)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results.count(True) == 1
        fire = trigger.get_next_fire_time(fire, fire)
    assert len(digests(fake)) == 6


def test_a_claim_left_by_a_crash_is_taken_over_after_a_while(make_settings, fake):
    settings = make_settings()
    now = at("2026-11-23T09:00")
    db = open_db(settings.database)
    assert claim_period(db, "2026-W47", now - timedelta(minutes=5), who="1@crashed") is not None
    done_with(db)
    # a fresh claim without sent_at: its sender may still be sending
    assert deliver(settings, week="2026-W47", now=now) is False
    # older than STALE_CLAIM: its sender died; the next run takes it over and sends
    later = now + STALE_CLAIM
    assert deliver(settings, week="2026-W47", now=later) is True
    record = row(settings, "2026-W47")
    assert record["sent_at"] == later.astimezone(UTC).isoformat(timespec="seconds")
    assert record["claimed_by"] != "1@crashed"
    assert deliver(settings, week="2026-W47", now=later + timedelta(days=1)) is False  # sent: never again
    assert len(digests(fake)) == 1


def test_a_take_over_after_the_post_finishes_in_its_thread(make_settings, fake):
    """The sender died after posting the digest (message_ts recorded) but before the chart."""
    settings = make_settings()
    now = at("2026-11-23T09:00")
    db = open_db(settings.database)
    claim_period(db, "2026-W47", now, who="1@crashed")
    with db.writing():
        db.execute("UPDATE digest_runs SET message_ts = '1699999999.000001' WHERE period = '2026-W47'")
    done_with(db)
    assert deliver(settings, week="2026-W47", now=now + timedelta(hours=1)) is True
    assert digests(fake) == []  # not posted again
    assert fake.calls_to("files.completeUploadExternal")[0]["thread_ts"] == "1699999999.000001"


def test_a_failed_post_gives_the_week_back(make_settings, fake):
    from slack_sdk.errors import SlackApiError

    settings = make_settings()
    fake.fail("chat.postMessage", "channel_not_found")
    with pytest.raises(SlackApiError):
        deliver(settings, week="2026-W47", now=at("2026-11-23T09:00"))
    assert row(settings, "2026-W47") is None  # nothing posted, nothing claimed: a retry may send it
    assert deliver(settings, week="2026-W47", now=at("2026-11-23T09:05")) is True


# -- missed runs and restarts (APScheduler itself runs the job) ----------------------------------
def recent_cron(now: datetime, ago: timedelta) -> tuple[str, datetime]:
    """A weekly cron (UTC) whose latest fire time is `ago` before now, and that fire time."""
    fire = (now - ago).replace(second=0, microsecond=0)
    return f"{DAYS[fire.weekday()]} {fire:%H:%M}", fire


def run_due_job(settings, schedulers, fire: datetime) -> Scheduler:
    """Start a scheduler on settings' database with the digest job due at `fire` (as if the bot had
    been down then), let APScheduler run it, and stop."""
    first = scheduler_for(settings).start(paused=True)
    first.scheduler.modify_job(DIGEST_JOB, next_run_time=fire)
    first.shutdown()  # down through the scheduled time; the job stays due in the database
    second = scheduler_for(settings).start()
    schedulers.append(second)
    return second


def test_a_run_missed_while_down_is_sent_once_late(make_settings, fake, schedulers):
    now = datetime.now(UTC)
    cron, fire = recent_cron(now, timedelta(hours=3))
    settings = make_settings(OSPO_DIGEST_CRON=cron, OSPO_TIMEZONE="UTC")
    bot = run_due_job(settings, schedulers, fire)
    fake.wait_for("files.completeUploadExternal", timeout=20)
    bot.shutdown()  # waits for the run to finish
    label = (fire - timedelta(days=7)).strftime("%G-W%V")
    assert weeks_sent(fake) == [f"{label} (late)"]
    assert "(late)" in str(digests(fake)[0]["blocks"])
    assert row(settings, label)["late"] == 1

    again = scheduler_for(settings).start()  # restarted once more: nothing is due, nothing is sent
    schedulers.append(again)
    job = again.scheduler.get_job(DIGEST_JOB)
    assert (job.coalesce, job.misfire_grace_time) == (True, DIGEST_GRACE.total_seconds())
    assert job.next_run_time == fire + timedelta(days=7)
    assert again.run_digest(now=datetime.now(UTC)) is False
    assert len(digests(fake)) == 1


def test_a_restart_after_the_run_does_not_resend(make_settings, fake, schedulers):
    now = datetime.now(UTC)
    cron, fire = recent_cron(now, timedelta(minutes=2))
    settings = make_settings(OSPO_DIGEST_CRON=cron, OSPO_TIMEZONE="UTC")
    bot = run_due_job(settings, schedulers, fire)
    fake.wait_for("files.completeUploadExternal", timeout=20)
    bot.shutdown()
    label = (fire - timedelta(days=7)).strftime("%G-W%V")
    assert weeks_sent(fake) == [label]  # on time: not late
    assert row(settings, label)["late"] == 0

    restarted = scheduler_for(settings).start()  # the same database: the job is there, due next week
    schedulers.append(restarted)
    assert restarted.next_run_time() == fire + timedelta(days=7)
    assert restarted.next_run_time(REMINDER_JOB) > datetime.now(UTC)
    assert deliver(settings, week=label) is False
    assert len(digests(fake)) == 1


def test_a_late_run_is_marked_and_a_missed_week_is_sent_only_once(make_settings, fake):
    settings = make_settings()
    scheduler = scheduler_for(settings)
    monday = at("2026-11-23T09:00")
    assert scheduler.run_digest(now=monday + timedelta(minutes=30)) is True  # within the hour: on time
    sunday = monday + timedelta(days=7) + DIGEST_GRACE - timedelta(hours=1)  # next Monday's run, missed until Sunday
    assert scheduler.run_digest(now=sunday) is True
    assert scheduler.run_digest(now=sunday + timedelta(minutes=1)) is False
    assert weeks_sent(fake) == ["2026-W47", "2026-W48 (late)"]
    assert (row(settings, "2026-W47")["late"], row(settings, "2026-W48")["late"]) == (0, 1)


def test_a_changed_schedule_reschedules_the_persisted_job(make_settings, schedulers):
    first = scheduler_for(make_settings()).start(paused=True)
    assert first.next_run_time() == digest_trigger(make_settings()).get_next_fire_time(None, datetime.now(UTC))
    first.shutdown()
    second = scheduler_for(make_settings(OSPO_DIGEST_CRON="tue 10:15")).start(paused=True)
    schedulers.append(second)
    nxt = second.next_run_time().astimezone(BERLIN)
    assert (nxt.weekday(), nxt.hour, nxt.minute) == (1, 10, 15)


# -- no channel --------------------------------------------------------------------------------
def test_without_a_digest_channel_the_scheduler_runs_and_the_digest_job_only_logs(
    make_settings, fake, schedulers, caplog
):
    settings = make_settings(OSPO_DIGEST_CHANNEL=None)
    scheduler = scheduler_for(settings).start()
    schedulers.append(scheduler)
    assert scheduler.scheduler.running and scheduler.next_run_time() is not None
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        assert scheduler.run_digest(now=at("2026-11-23T09:00")) is False
    assert "OSPO_DIGEST_CHANNEL is not set" in caplog.text
    assert fake.calls_to("chat.postMessage") == []
    with pytest.raises(ConfigError, match="OSPO_DIGEST_CHANNEL"):
        deliver(settings, week="2026-W47")


# -- delivery ------------------------------------------------------------------------------------
def test_the_digest_arrives_in_slack_with_its_details_and_chart(make_settings, fake):
    settings = make_settings()
    db = open_db(settings.database)
    clock = lambda: "2026-11-18T10:00:00+00:00"  # noqa: E731
    ledger = Approvals(lambda: db, load_policy(default_policy_path()), clock=clock)
    for n in range(5):  # more waiting requests than the message shows: the rest go in the thread
        ledger.submit(f"UREQ{n}", "contribute", FEATURE)
    assert deliver(settings, week="2026-W47", now=at("2026-11-23T09:00")) is True
    [message] = digests(fake)
    assert weeks_sent(fake) == ["2026-W47"] and "5 waiting" in message["text"]
    assert "2026-W47" in str(message["blocks"])
    ts = row(settings, "2026-W47")["message_ts"]
    [reply] = [a for a in fake.calls_to("chat.postMessage") if a.get("thread_ts")]
    assert (reply["channel"], reply["thread_ts"]) == (CHANNEL, ts)
    assert "OSPO-5" in str(reply["blocks"])  # the whole queue

    [start] = fake.calls_to("files.getUploadURLExternal")
    [(file_id, png)] = fake.uploads().items()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and int(start["length"]) == len(png)
    assert start["filename"] == "ospo-digest-2026-W47.png"
    [done] = fake.calls_to("files.completeUploadExternal")
    assert (done["channel_id"], done["thread_ts"]) == (CHANNEL, ts)
    assert file_id in done["files"]
    methods = [c.method for c in fake.calls]
    assert methods.index("files.getUploadURLExternal") < methods.index("upload")
    assert methods.index("upload") < methods.index("files.completeUploadExternal")
    assert row(settings, "2026-W47")["sent_at"] is not None


def test_by_default_the_last_complete_week_in_the_time_zone(make_settings, fake):
    settings = make_settings(OSPO_TIMEZONE="Pacific/Auckland")
    # Monday 00:30 in Auckland is still Sunday in UTC: the week just ended is W47 there
    assert deliver(settings, now=at("2026-11-23T00:30", ZoneInfo("Pacific/Auckland"))) is True
    assert weeks_sent(fake) == ["2026-W47"]


# -- reminders ------------------------------------------------------------------------------------
def test_reminders_go_once_per_request_per_day(make_settings, fake):
    settings = make_settings(OSPO_APPROVERS="UAPP1,SOSPO", OSPO_NEEDS_INFO_REMINDER_DAYS="3")
    fake.usergroups["SOSPO"] = ["UAPP2", "UAPP1"]
    clock = {"at": at("2026-11-02T10:00")}  # a Monday
    db = open_db(settings.database)
    ledger = Approvals(
        lambda: db, load_policy(default_policy_path()), clock=lambda: clock["at"].astimezone(UTC).isoformat()
    )
    overdue = ledger.submit("UREQ1", "contribute", FEATURE)  # decision SLA: 5 business days
    asked = ledger.submit("UREQ2", "contribute", FEATURE)
    ledger.decide(
        asked.id, "UAPP1", "needs_info", reason="Which license will the flag's output use?", approvers={"UAPP1"}
    )
    clock["at"] = at("2026-11-13T10:00")
    fresh = ledger.submit("UREQ3", "contribute", FEATURE)  # within its SLA

    day1 = at("2026-11-16T09:00")  # Monday: 10 business days after submission
    assert remind_all(settings, now=day1) == 3  # two approvers (group expanded) + one requester
    dms = fake.calls_to("chat.postMessage")
    assert sorted(d["channel"] for d in dms) == ["UAPP1", "UAPP2", "UREQ2"]
    to_approver = next(d for d in dms if d["channel"] == "UAPP1")["text"]
    assert overdue.ref in to_approver and fresh.ref not in to_approver and asked.ref not in to_approver
    assert asked.ref in next(d for d in dms if d["channel"] == "UREQ2")["text"]

    for later in (day1 + timedelta(hours=2), day1 + timedelta(hours=8)):  # the same day: nothing again
        assert remind_all(settings, now=later) == 0
    assert len(fake.calls_to("chat.postMessage")) == 3

    assert remind_all(settings, now=day1 + timedelta(days=1)) == 3  # the next day: once more
    assert len(fake.calls_to("chat.postMessage")) == 6
    logged = db.execute("SELECT request_id, day, kind FROM reminder_log ORDER BY day, kind").fetchall()
    assert logged == [
        (asked.id, "2026-11-16", "needs_info"),
        (overdue.id, "2026-11-16", "sla"),
        (asked.id, "2026-11-17", "needs_info"),
        (overdue.id, "2026-11-17", "sla"),
    ]


def test_reminders_racing_in_threads_go_once(make_settings, fake):
    settings = make_settings(OSPO_APPROVERS="UAPP1")
    db = open_db(settings.database)
    ledger = Approvals(lambda: db, load_policy(default_policy_path()), clock=lambda: "2026-11-02T09:00:00+00:00")
    ledger.submit("UREQ1", "contribute", FEATURE)
    start = threading.Barrier(6)
    sent: list[int] = []

    def remind():
        start.wait()
        sent.append(remind_all(settings, now=at("2026-11-20T09:00")))

    threads = [threading.Thread(target=remind) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(sent) == 1 and len(fake.calls_to("chat.postMessage")) == 1
