"""Weeks as the digest counts them: ISO weeks in OSPO_TIMEZONE, and business days.

    week = week_of("2026-W47", "Europe/Berlin")     # or week_of(None, tz): the last complete week
    week.bounds                                     # [Monday 00:00, next Monday 00:00) as stored UTC strings

Every timestamp in the database is an ISO 8601 UTC string (bot.store.now), so a week is the
half-open range [Monday 00:00, next Monday 00:00) in OSPO_TIMEZONE, turned into UTC strings and
compared as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.store import iso


@dataclass(frozen=True)
class Week:
    """One ISO week in a time zone: [start, end), both aware datetimes at local midnight."""

    year: int
    number: int
    tz: str

    @classmethod
    def containing(cls, day: date, tz: str) -> Week:
        year, number, _ = day.isocalendar()
        return cls(year, number, tz)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.monday, time(), ZoneInfo(self.tz))

    @property
    def end(self) -> datetime:
        return datetime.combine(self.monday + timedelta(days=7), time(), ZoneInfo(self.tz))

    @property
    def bounds(self) -> tuple[str, str]:
        """[start, end) as the UTC ISO strings the database stores, for SQL comparisons."""
        return iso(self.start), iso(self.end)

    def shift(self, weeks: int) -> Week:
        return Week.containing(self.monday + timedelta(weeks=weeks), self.tz)

    @property
    def span(self) -> str:
        """'16–22 Nov 2026' (or across months/years as needed)."""
        a, b = self.monday, self.sunday
        if a.year != b.year:
            return f"{a.day} {a:%b %Y} – {b.day} {b:%b %Y}"
        if a.month != b.month:
            return f"{a.day} {a:%b} – {b.day} {b:%b %Y}"
        return f"{a.day}–{b.day} {b:%b %Y}"

    def __str__(self) -> str:
        return self.label


_WEEK = re.compile(r"\s*(\d{4})-?W(\d{1,2})\s*", re.IGNORECASE)


def week_of(value: str | date | datetime | Week | None = None, tz: str | ZoneInfo = "UTC", *, now=None) -> Week:
    """The ISO week of `value` in time zone tz.

    value: "2026-W47" (or 2026W47, 2026-w47), "2026-11-18" or a date / datetime (the week holding it),
    None or "" or "last" (the last complete week before `now`). Raises ValueError for anything else."""
    tz = tz.key if isinstance(tz, ZoneInfo) else str(tz)
    zone = ZoneInfo(tz)
    if isinstance(value, Week):
        return Week(value.year, value.number, tz)
    if isinstance(value, datetime):
        return Week.containing((value.astimezone(zone) if value.tzinfo else value).date(), tz)
    if isinstance(value, date):
        return Week.containing(value, tz)
    text = (value or "").strip()
    if text.lower() in ("", "last"):
        today = (now or datetime.now(UTC)).astimezone(zone).date()
        return Week.containing(today - timedelta(days=7), tz)
    if m := _WEEK.fullmatch(text):
        year, number = int(m[1]), int(m[2])
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError:
            last = date(year, 12, 28).isocalendar()[1]
            raise ValueError(f"{year} has ISO weeks 1 to {last}; {text!r} is not one of them") from None
        return Week(year, number, tz)
    try:
        return Week.containing(date.fromisoformat(text), tz)
    except ValueError:
        raise ValueError(f"{text!r} is not a week; use YYYY-Www, e.g. 2026-W47") from None


def parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def business_days(start: datetime, end: datetime, tz: str | ZoneInfo) -> float:
    """Monday-to-Friday time between two instants, in days, on the local calendar of tz
    (Friday 16:00 to Tuesday 16:00 is 2.0). No public holidays."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    if end <= start:
        return 0.0
    s, e = start.astimezone(zone), end.astimezone(zone)

    def part(day: date, lo: datetime, hi: datetime) -> float:  # the weekday share of one local day
        if day.weekday() >= 5:
            return 0.0
        d0 = datetime.combine(day, time(), zone).astimezone(UTC)
        d1 = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
        lo, hi = max(lo.astimezone(UTC), d0), min(hi.astimezone(UTC), d1)
        return max(0.0, (hi - lo) / (d1 - d0))

    first, last = s.date(), e.date()
    if first == last:
        return part(first, s, e)
    total = part(first, s, e) + part(last, s, e)
    a, b = first + timedelta(days=1), last  # whole days in between: [a, b)
    full, rest = divmod((b - a).days, 7)
    return total + full * 5 + sum(1 for i in range(rest) if (a.weekday() + i) % 7 < 5)
