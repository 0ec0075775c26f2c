"""Token rotation (the app's token_rotation_enabled): Slack's bot tokens then last 12 hours and are
refreshed with the app's credentials and a refresh token. Off by default (SLACK_TOKEN_ROTATION).

The current token pair is kept in slack_sdk's SQLite installation store (OSPO_DATA_DIR/installations.db)
and refreshed by slack_sdk's TokenRotator two hours before it expires, under one lock: Bolt asks
`authorize` for each request's token, and the housekeeping loop, the scheduler and the CLI use a
RotatingClient whose every call takes the current token first.

The first start makes the pair from SLACK_REFRESH_TOKEN (shown on the app's OAuth page once rotation
is on) or, without one, exchanges SLACK_BOT_TOKEN for a rotating pair (oauth.v2.exchange); later
starts, and other replicas sharing the data dir, read the stored pair.
"""

from __future__ import annotations

import logging
import threading
import time

from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store.sqlite3 import SQLite3InstallationStore
from slack_sdk.oauth.token_rotation import TokenRotator

from bot.config import ConfigError, Settings

log = logging.getLogger(__name__)
EARLY_MINUTES = 120  # refresh this long before the token expires


class TokenKeeper:
    def __init__(self, settings: Settings, client: WebClient):
        """client: a WebClient without a token (Slack's base URL and timeouts), for the oauth.v2 calls."""
        self.settings, self.client = settings, client
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = SQLite3InstallationStore(
            database=str(settings.data_dir / "installations.db"), client_id=settings.slack_client_id or ""
        )
        self.rotator = TokenRotator(
            client_id=settings.slack_client_id or "", client_secret=settings.slack_client_secret or "", client=client
        )
        self._lock = threading.Lock()
        self._bot: Bot | None = None

    def token(self) -> str:
        return self.bot().bot_token

    def bot(self) -> Bot:
        """The installation with a token good for two more hours: stored, refreshed, or made on first start."""
        with self._lock:
            bot = self._bot or self._stored() or self._first()
            try:
                fresh = self.rotator.perform_bot_token_rotation(bot=bot, minutes_before_expiration=EARLY_MINUTES)
            except SlackTokenRotationError:
                # Another replica refreshed with the same refresh token first: its pair is in the store.
                bot = self._stored() or bot
                fresh = self.rotator.perform_bot_token_rotation(bot=bot, minutes_before_expiration=EARLY_MINUTES)
            if fresh is not None:
                self.store.save_bot(fresh)
                log.info(
                    "bot token refreshed; it expires in %d minutes", (fresh.bot_token_expires_at - time.time()) // 60
                )
                bot = fresh
            self._bot = bot
            return bot

    def _stored(self) -> Bot | None:
        """The newest pair in the store (one app, one installation: keyed by whatever team it is)."""
        with self.store.connect() as conn:
            row = conn.execute(
                "SELECT enterprise_id, team_id, is_enterprise_install FROM slack_bots WHERE client_id = ? "
                "ORDER BY id DESC LIMIT 1",
                [self.store.client_id],
            ).fetchone()
        if row is None:
            return None
        return self.store.find_bot(
            enterprise_id=row[0] or None, team_id=row[1] or None, is_enterprise_install=bool(row[2])
        )

    def _first(self) -> Bot:
        """The first rotating pair: from SLACK_REFRESH_TOKEN, else by exchanging SLACK_BOT_TOKEN."""
        credentials = {"client_id": self.settings.slack_client_id, "client_secret": self.settings.slack_client_secret}
        try:
            if self.settings.slack_refresh_token:
                pair = self.client.oauth_v2_access(
                    **credentials, grant_type="refresh_token", refresh_token=self.settings.slack_refresh_token
                )
            else:
                pair = self.client.oauth_v2_exchange(**credentials, token=self.settings.slack_bot_token)
            who = WebClient(token=pair["access_token"], base_url=self.client.base_url).auth_test()
        except SlackApiError as error:
            raise ConfigError(
                f"Slack refused to start token rotation ({error.response.get('error')}): check SLACK_CLIENT_ID, "
                "SLACK_CLIENT_SECRET and SLACK_REFRESH_TOKEN (OAuth & Permissions, once rotation is on)"
            ) from None
        bot = Bot(
            app_id=pair.get("app_id") or "",
            enterprise_id=who.get("enterprise_id"),
            team_id=who.get("team_id"),
            bot_token=pair["access_token"],
            bot_refresh_token=pair["refresh_token"],
            bot_token_expires_in=int(pair["expires_in"]),
            bot_id=who.get("bot_id"),
            bot_user_id=who.get("user_id"),
            bot_scopes=pair.get("scope") or "",
            is_enterprise_install=bool(who.get("is_enterprise_install")),
            installed_at=time.time(),
        )
        self.store.save_bot(bot)
        log.info("token rotation started: the bot token is refreshed before it expires")
        return bot

    def authorize(self) -> AuthorizeResult:
        """For Bolt's authorize hook: each request's token, fresh (one app, one installation)."""
        bot = self.bot()
        return AuthorizeResult(
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=bot.bot_scopes,
        )


class RotatingClient(WebClient):
    """A WebClient that takes the current token before every call (not for oauth.v2, which needs none)."""

    def __init__(self, keeper: TokenKeeper, **kwargs):
        super().__init__(**kwargs)
        self.keeper = keeper

    def api_call(self, api_method: str, **kwargs):
        if not api_method.startswith("oauth."):
            self.token = self.keeper.token()
        return super().api_call(api_method, **kwargs)
