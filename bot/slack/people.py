"""People as Slack knows them: each person's time zone (users.info's `tz`), cached, so that dates
shown to one person are in their time zone rather than UTC.

    zone = time_zone(client, "U0123", default=settings.timezone)

Slack renders the `<!date^…>` tokens the blocks use (blocks/kit.when) in each reader's own time zone;
this zone is for the fallback text (notifications, and clients that cannot render the token) and for
what is written to one person. A lookup that fails falls back to OSPO_TIMEZONE for a while, never
failing what it was for.
"""

from __future__ import annotations

import logging
import threading
import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.client import failure

log = logging.getLogger(__name__)

KEEP_SECONDS = 12 * 3600  # people rarely move; a day's travel shows up within half a day
RETRY_SECONDS = 600  # after a failed lookup, the default is used this long before asking again
LIMIT = 20_000  # people cached; past it the cache starts over


class TimeZones:
    def __init__(self, keep: float = KEEP_SECONDS, retry: float = RETRY_SECONDS, limit: int = LIMIT):
        self.keep, self.retry, self.limit = keep, retry, limit
        self._zones: dict[str, tuple[ZoneInfo | None, float]] = {}  # user -> (zone or None: use the default, until)
        self._lock = threading.Lock()

    def zone(self, client: WebClient, user: str | None, default: str) -> ZoneInfo:
        if not user:
            return ZoneInfo(default)
        with self._lock:
            found = self._zones.get(user)
        if found is None or found[1] < time.monotonic():
            found = self._look_up(client, user)
            with self._lock:
                if len(self._zones) >= self.limit:
                    self._zones.clear()
                self._zones[user] = found
        return found[0] or ZoneInfo(default)

    def _look_up(self, client: WebClient, user: str) -> tuple[ZoneInfo | None, float]:
        try:
            name = (client.users_info(user=user).get("user") or {}).get("tz")
            return ZoneInfo(name) if name else None, time.monotonic() + self.keep
        except (SlackApiError, OSError) as error:
            log.info("time zone of %s unknown (%s); using OSPO_TIMEZONE", user, failure(error))
        except (ZoneInfoNotFoundError, ValueError):
            log.info("time zone of %s is not an IANA name; using OSPO_TIMEZONE", user)
        return None, time.monotonic() + self.retry


ZONES = TimeZones()


def time_zone(client: WebClient, user: str | None, default: str) -> ZoneInfo:
    """`user`'s time zone (cached), else `default` (OSPO_TIMEZONE)."""
    return ZONES.zone(client, user, default)
