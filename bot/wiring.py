"""The composition root: the bot's parts, each built once, in one small object that the Slack app,
the scheduler and the CLI commands are handed.

    core = Core(load_settings())
    reply = core.desk.ask("can we use AGPL code in our SaaS product?", source="cli")
    queue = core.approvals.pending()

Parts are built on first use, so a command that never answers a question (`requests list`,
`digest`, `demo-data`) never loads the embedding model. `ospo-bot serve` builds them all before
it starts its threads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cached_property
from typing import TYPE_CHECKING

from bot import licenses
from bot.approvals import Approvals, Approvers, Shown, WorkflowSteps
from bot.config import ConfigError, Settings
from bot.store import ThreadLocalDB, connect
from bot.threads import AssistantThreads

if TYPE_CHECKING:
    from bot.helpdesk import HelpDesk
    from bot.search.knowledge_base import KnowledgeBase


class Core:
    """settings, the database, the license policy, the knowledge base, the help desk, approvals
    and the approvers. group_members expands an approvers' user group into user ids (the Slack
    adapter gives one; without it, only the user ids in OSPO_APPROVERS count)."""

    def __init__(self, settings: Settings, *, group_members: Callable[[str], Iterable[str]] | None = None):
        self.settings = settings
        self.approvers = Approvers(settings.approver_ids, group_members)

    @cached_property
    def database(self) -> ThreadLocalDB:
        """The database (SQLite: one connection per thread; PostgreSQL: one pool), migrated when first opened."""
        return connect(self.settings)

    @property
    def db(self):
        """This thread's connection."""
        return self.database.get()

    @cached_property
    def policy(self) -> licenses.Policy:
        """knowledge/policy.yaml, read once; ConfigError saying what is wrong with it."""
        path = licenses.default_policy_path()
        try:
            return licenses.load_policy(path)
        except (OSError, ValueError) as error:
            raise ConfigError(f"cannot read the license policy {path}: {error}") from None

    @cached_property
    def kb(self) -> KnowledgeBase:
        from bot.search.knowledge_base import KnowledgeBase  # the search stack is slow to import

        return KnowledgeBase(self.settings)

    @cached_property
    def desk(self) -> HelpDesk:
        from bot.helpdesk import HelpDesk

        return HelpDesk(self.kb, self.policy, db=self.database.get)

    @cached_property
    def approvals(self) -> Approvals:
        return Approvals(self.database.get, self.policy)

    @cached_property
    def shown(self) -> Shown:
        """Where requests may be shown and have been (bot/approvals/shown.py)."""
        return Shown(self.database.get, team_channel=self.settings.approvals_channel)

    @cached_property
    def steps(self) -> WorkflowSteps:
        """Workflow Builder steps waiting for a decision (bot/approvals/steps.py)."""
        return WorkflowSteps(self.database.get)

    @cached_property
    def threads(self) -> AssistantThreads:
        """The assistant pane's threads (bot/threads.py)."""
        return AssistantThreads(self.database.get)

    def build_all(self) -> Core:
        """Every part now, in this thread: `serve` calls it before it starts its threads (a
        cached_property may be built twice by two threads at once)."""
        self.database, self.policy, self.kb, self.desk, self.approvals, self.shown, self.steps, self.threads  # noqa: B018
        return self
