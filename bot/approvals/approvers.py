"""Who the approvers are: OSPO_APPROVERS, user ids and user groups.

A user group's members come from `group_members` (the Slack adapter passes one that asks Slack's
usergroups.users.list); they are cached for a few minutes, so a click does not wait on Slack.
Every part of the bot that asks "is this person on the OSPO team?" asks the one Approvers that
bot/wiring.py builds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)
GROUP_CACHE_SECONDS = 300


class Approvers:
    def __init__(self, ids: Iterable[str], group_members: Callable[[str], Iterable[str]] | None = None):
        ids = set(ids)
        self.users = {i for i in ids if not i.startswith("S")}
        self.groups = {i for i in ids if i.startswith("S")}
        self.group_members = group_members
        self._cache: tuple[float, frozenset[str]] | None = None
        self._lock = threading.Lock()

    def resolve(self) -> frozenset[str]:
        """Every approver's user id, user groups expanded (cached for GROUP_CACHE_SECONDS)."""
        with self._lock:
            if self._cache and time.monotonic() - self._cache[0] < GROUP_CACHE_SECONDS:
                return self._cache[1]
            members = set(self.users)
            if self.groups and self.group_members is None:
                log.warning("approver groups %s not expanded: nothing here can ask Slack", ", ".join(self.groups))
            for group in sorted(self.groups) if self.group_members else ():
                members |= set(self.group_members(group))
            self._cache = (time.monotonic(), frozenset(members))
            return self._cache[1]

    def __contains__(self, user: object) -> bool:
        return user in self.resolve()
