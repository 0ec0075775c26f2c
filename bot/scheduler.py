"""The weekly digest and the daily reminders, run by APScheduler inside `ospo-bot serve`.

Jobs live in the bot's own database, SQLite or PostgreSQL (APScheduler's SQLAlchemyJobStore, table
`apscheduler_jobs`), so a restart neither forgets a run that is due nor schedules a past one again:
APScheduler moves a job's next_run_time on before it runs it, and on start-up an existing job whose
schedule has not changed is kept as it is (re-adding it would silently move a missed run past now).

Exactly once is not left to APScheduler (two bots started by mistake share the database and would
both run the job). Each week's digest is *claimed* in `digest_runs` before anything is posted:

    INSERT INTO digest_runs ... ON CONFLICT(period) DO UPDATE ... WHERE sent_at IS NULL AND claimed_at < stale

One statement, under SQLite's write lock or PostgreSQL's unique index: exactly one process or
thread, on any host, changes a row, and only it posts. A run that finds its week claimed does
nothing. A claim older than STALE_CLAIM without sent_at means its sender died mid-send; the next run
may take it over. We chose to take it over rather than leave the week unsent: the message's ts is
recorded as soon as the digest is posted, so a take-over resumes in that thread instead of posting
the digest again; only a crash between Slack accepting the post and the ts being written
(milliseconds) can still give a duplicate.

Missed runs: coalesce=True (a bot down for several scheduled times sends one digest, not a pile)
and misfire_grace_time=6 days (a Monday run missed until Sunday is still sent; one missed for a
whole week gives way to the next week's run). A run starting more than LATE_AFTER after its
scheduled time is marked late ("(late)" in the message, late=1 in digest_runs).

Reminders (weekdays at the digest's time of day): approvers get one DM listing the pending requests
past their SLA, and requesters one DM per request that has waited in needs_info for more than
OSPO_NEEDS_INFO_REMINDER_DAYS days, with the button that answers it. `reminder_log` (request, day,
kind) makes each go at most once a day, whatever the number of processes or runs.

This module decides what is due and claims it; a `Delivery` posts it (slack/delivery.py in
`serve`): nothing here knows Slack.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import ConflictingIdError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.exc import DBAPIError

from bot import claims, digest
from bot.approvals import Request
from bot.config import ConfigError, Settings
from bot.store import iso
from bot.wiring import Core

log = logging.getLogger(__name__)

DIGEST_JOB = "weekly-digest"
REMINDER_JOB = "daily-reminders"
JOBS_TABLE = "apscheduler_jobs"
DIGEST_GRACE = timedelta(days=6)  # a run missed by up to 6 days is still sent (late)
REMINDER_GRACE = timedelta(hours=12)  # a missed reminder run is worth sending the same day only
LATE_AFTER = timedelta(hours=1)  # a digest sent later than this after its scheduled time is marked late
STALE_CLAIM = timedelta(minutes=30)  # a claim this old without sent_at: the sender died mid-send


class Delivery(Protocol):
    """Where the digest and reminders go (SlackDelivery, in slack/delivery.py, for `serve`)."""

    def post_digest(self, digest: digest.Digest, late: bool) -> str: ...  # the message's id (ts)
    def post_details(self, digest: digest.Digest, thread_ts: str) -> None: ...
    def post_chart(self, png: bytes, label: str, thread_ts: str) -> None: ...
    def remind_approvers(self, approvers: list[str], overdue: list[digest.SlaBreach]) -> int: ...
    def remind_requester(self, request: Request, waited_days: int) -> int: ...


def _aware(now: datetime | None) -> datetime:
    """now in UTC: arithmetic on two datetimes of one zone is wall-clock time, wrong across DST."""
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


# -- the schedule ---------------------------------------------------------------------------
def parse_schedule(text: str, timezone: str) -> tuple[str, int, int, ZoneInfo]:
    """'mon-fri 08:30' -> ('mon-fri', 8, 30, ZoneInfo); ConfigError naming the variable if unusable."""
    try:
        tz = ZoneInfo(timezone)
    except Exception:
        raise ConfigError(f"OSPO_TIMEZONE ({timezone!r}): unknown time zone; use an IANA name") from None
    try:
        days, clock = text.lower().split()
        hour, minute = (int(part) for part in clock.split(":"))
        CronTrigger(day_of_week=days, hour=hour, minute=minute, timezone=tz)  # what APScheduler accepts
    except ValueError as error:
        raise ConfigError(
            f'OSPO_DIGEST_CRON ({text!r}): {error}; use "<days> HH:MM" with days in week order, '
            'e.g. "mon 09:00" or "mon-fri 08:30"'
        ) from None
    return days, hour, minute, tz


def digest_trigger(settings: Settings) -> CronTrigger:
    days, hour, minute, tz = parse_schedule(settings.digest_cron, settings.timezone)
    return CronTrigger(day_of_week=days, hour=hour, minute=minute, timezone=tz)


def reminder_trigger(settings: Settings) -> CronTrigger:
    """Weekdays (SLAs count business days), at the digest's time of day."""
    _, hour, minute, tz = parse_schedule(settings.digest_cron, settings.timezone)
    return CronTrigger(day_of_week="mon-fri", hour=hour, minute=minute, timezone=tz)


def previous_fire_time(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The trigger's latest fire time at or before now (within the last 8 days), in UTC."""
    now = _aware(now)
    latest, fire = None, trigger.get_next_fire_time(None, now - timedelta(days=8))
    while fire is not None and fire.astimezone(UTC) <= now:
        latest, fire = fire.astimezone(UTC), trigger.get_next_fire_time(fire, fire)
    return latest


# -- the digest ---------------------------------------------------------------------------------
@dataclass
class Claim:
    period: str
    message_ts: str | None  # set when a take-over finds the digest already posted


def claim_period(db, period: str, now: datetime, late: bool = False, who: str | None = None) -> Claim | None:
    """Claim the period's digest; None if another run holds a fresh claim or already sent it."""
    won, ts = claims.claim_digest_week(db, period, now, STALE_CLAIM, who or claims.whoami(), late)
    return Claim(period, ts) if won else None


def _write(db, sql: str, args: list) -> None:
    with db.writing():
        db.execute(sql, args)


def default_week(now: datetime, timezone: str) -> digest.Week:
    """The last complete week (Monday to Sunday) in the configured time zone, as of now."""
    return digest.week_of(now.astimezone(ZoneInfo(timezone)).date() - timedelta(days=7), timezone)


def _week(week: Any, now: datetime, timezone: str):
    if week is None:
        return default_week(now, timezone)
    if isinstance(week, str | date):
        return digest.week_of(week, timezone)
    return week


def deliver_digest(
    core: Core, delivery: Delivery, week: Any = None, late: bool = False, now: datetime | None = None
) -> bool:
    """Post the week's digest to OSPO_DIGEST_CHANNEL (details and chart in its thread), once.

    week: a bot.digest Week, a date or text for bot.digest.week_of, or None for the last complete
    week. Returns False, posting nothing, when the week was already claimed by another run.
    """
    settings = core.settings
    if not settings.digest_channel:
        raise ConfigError("OSPO_DIGEST_CHANNEL is not set: give the id of the channel for the weekly digest")
    now = _aware(now)
    week = _week(week, now, settings.timezone)
    db = core.db
    report = digest.compute(db, week, core.policy, settings, now=now)
    claim = claim_period(db, week.label, now, late)
    if claim is None:
        log.info("digest %s already claimed or sent; not sending it again", week.label)
        return False
    ts = claim.message_ts
    if ts is None:
        try:
            ts = delivery.post_digest(report, late)
        except BaseException:  # nothing was posted: give the week back, so a retry can send it
            _write(db, "DELETE FROM digest_runs WHERE period = ? AND message_ts IS NULL", [week.label])
            raise
        _write(db, "UPDATE digest_runs SET message_ts = ? WHERE period = ?", [ts, week.label])
    else:
        log.warning("digest %s: taking over a stale claim; the digest was posted (ts %s)", week.label, ts)
    try:
        delivery.post_details(report, ts)
        delivery.post_chart(digest.chart_png(db, week, settings.timezone), week.label, ts)
    except Exception:  # the digest itself is in the channel: log, and do not post it again
        log.exception("digest %s: the details or the chart were not delivered", week.label)
    _write(db, "UPDATE digest_runs SET sent_at = ? WHERE period = ?", [iso(now), week.label])
    return True


# -- reminders -----------------------------------------------------------------------------------
def send_reminders(core: Core, delivery: Delivery, now: datetime | None = None) -> int:
    """DM approvers about pending requests past their SLA and requesters about needs_info requests
    waiting too long; each request at most once per day and kind. Returns the number of DMs sent."""
    settings, db = core.settings, core.db
    now = _aware(now)
    day = now.astimezone(ZoneInfo(settings.timezone)).date().isoformat()
    sent = 0
    # Past the SLA as the digest counts it (business days, the clock stopped while in needs_info);
    # only those waiting on the OSPO: a needs_info request waits on its requester.
    overdue = [b for b in digest.sla_breaches(db, core.policy.sla, settings.timezone, now) if b.state == "pending"]
    approvers = sorted(core.approvers.resolve()) if overdue else []
    if overdue and not approvers:
        log.warning("%d request(s) past their SLA, but OSPO_APPROVERS names nobody to remind", len(overdue))
    claimed = [r for r in overdue if approvers and claims.claim_reminder(db, r.id, day, "sla", now)]
    if claimed:
        sent += delivery.remind_approvers(approvers, claimed)
    for request, asked_at in core.approvals.waiting_on_requesters():
        waited = now - datetime.fromisoformat(asked_at)
        if waited <= timedelta(days=settings.needs_info_reminder_days):
            continue
        if not claims.claim_reminder(db, request.id, day, "needs_info", now):
            continue
        sent += delivery.remind_requester(core.approvals.with_question(request), waited.days)
    return sent


# -- the scheduler -----------------------------------------------------------------------------
def job_store(settings: Settings) -> SQLAlchemyJobStore:
    """APScheduler's jobs, in their own table of the bot's database (SQLAlchemy's psycopg driver for
    PostgreSQL, checking each pooled connection first: the server may have restarted)."""
    if settings.database_url:
        from bot.storage.postgres import job_store_url

        url, options = job_store_url(settings.database_url), {"pool_pre_ping": True}
    else:
        url, options = f"sqlite:///{settings.db_path}", {"connect_args": {"timeout": 15}}
    return SQLAlchemyJobStore(url=url, tablename=JOBS_TABLE, engine_options=options)


_RUNNERS: dict[str, Scheduler] = {}  # database path -> the scheduler running its jobs in this process
_RUNNERS_LOCK = threading.Lock()


def run_digest_job(db: str) -> bool:
    """What the persisted job calls (by reference: no settings or tokens are pickled)."""
    runner = _RUNNERS.get(db)
    if runner is None:
        log.warning("digest job for %s: no scheduler for this database in this process", db)
        return False
    return runner.run_digest()


def run_reminders_job(db: str) -> int:
    runner = _RUNNERS.get(db)
    if runner is None:
        log.warning("reminder job for %s: no scheduler for this database in this process", db)
        return 0
    return runner.run_reminders()


class _BackgroundScheduler(BackgroundScheduler):
    def _process_jobs(self):
        # APScheduler 3's shutdown() wakes its loop to end it, and the loop looks for due jobs once more
        # (it only skips that when paused). A job due at that moment fails to submit (the executor is
        # shut down) yet gets its next_run_time moved on: a run lost for good. Stopped means stopped.
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()


class Scheduler:
    """APScheduler with its jobs in the bot's database; `start()` in serve, `shutdown()` on exit."""

    def __init__(self, core: Core, delivery: Delivery):
        settings = core.settings
        self.core, self.settings, self.delivery = core, settings, delivery
        self.digest_trigger = digest_trigger(settings)  # ConfigError now, at start-up, if unusable
        self.reminder_trigger = reminder_trigger(settings)
        # The jobs' key to this process's runner (persisted in their kwargs): the same on every replica.
        self.db_path = settings.database_name
        self.scheduler = _BackgroundScheduler(
            jobstores={"default": job_store(settings)},
            executors={"default": ThreadPoolExecutor(2)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=self.digest_trigger.timezone,
        )

    # -- start and stop
    def start(self, paused: bool = False) -> Scheduler:
        self.core.database.get()  # opened and migrated before any job can run
        with _RUNNERS_LOCK:
            _RUNNERS[self.db_path] = self
        try:
            self.scheduler.start(paused=True)
        except DBAPIError:  # another bot created apscheduler_jobs at the same moment: once more
            self.scheduler.start(paused=True)
        self._ensure(DIGEST_JOB, "bot.scheduler:run_digest_job", self.digest_trigger, DIGEST_GRACE, "Weekly digest")
        self._ensure(
            REMINDER_JOB, "bot.scheduler:run_reminders_job", self.reminder_trigger, REMINDER_GRACE, "Daily reminders"
        )
        if not self.settings.digest_channel:
            log.warning("OSPO_DIGEST_CHANNEL is not set: the weekly digest will not be posted")
        if not paused:
            self.scheduler.resume()
        return self

    def _ensure(self, job_id: str, func: str, trigger: CronTrigger, grace: timedelta, name: str) -> None:
        """Keep a persisted job whose schedule is unchanged, next_run_time and all (a run missed while
        the bot was down stays due); reschedule it if the configuration changed; add it if new."""
        options = {
            "func": func,
            "kwargs": {"db": self.db_path},
            "name": name,
            "coalesce": True,
            "misfire_grace_time": int(grace.total_seconds()),
            "max_instances": 1,
        }
        job = self.scheduler.get_job(job_id)
        if job is None:
            try:
                self.scheduler.add_job(id=job_id, trigger=trigger, **options)
                return
            except ConflictingIdError:  # another process added it just now
                job = self.scheduler.get_job(job_id)
        self.scheduler.modify_job(job_id, **options)
        if repr(job.trigger) != repr(trigger):
            log.warning("%s: schedule changed from %r to %r", name, job.trigger, trigger)
            self.scheduler.reschedule_job(job_id, trigger=trigger)

    def shutdown(self, wait: bool = True) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        with _RUNNERS_LOCK:
            if _RUNNERS.get(self.db_path) is self:
                del _RUNNERS[self.db_path]

    def next_run_time(self, job_id: str = DIGEST_JOB) -> datetime | None:
        job = self.scheduler.get_job(job_id)
        return job.next_run_time if job else None

    # -- the jobs (now is for tests; APScheduler calls them with the real time)
    def run_digest(self, now: datetime | None = None) -> bool:
        """The digest job: the week before the scheduled run, marked late when the run is late."""
        now = _aware(now)
        if not self.settings.digest_channel:
            log.warning("weekly digest not sent: OSPO_DIGEST_CHANNEL is not set")
            return False
        scheduled = previous_fire_time(self.digest_trigger, now) or now
        late = now - scheduled > LATE_AFTER
        if late:
            log.warning("weekly digest scheduled at %s runs late, at %s", scheduled.isoformat(), now.isoformat())
        week = default_week(scheduled, self.settings.timezone)
        return deliver_digest(self.core, self.delivery, week=week, late=late, now=now)

    def run_reminders(self, now: datetime | None = None) -> int:
        return send_reminders(self.core, self.delivery, now=now)
