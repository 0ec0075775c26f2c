"""Logging for every command: one format, and never a secret in it.

Our own log lines name payloads without their text (the Slack app's `describe`), but libraries log
more: at DEBUG the Slack SDK prints every request and response body (apps.connections.open's answer
holds Socket Mode's one-time connection ticket), and at INFO Bolt prints the whole body of a
request whose signature is wrong. The SDK already hides the Authorization header; we do not
rely on every library doing so. Every record is redacted on its way out, whoever wrote it: Slack
tokens (xoxb-, xoxp-, xapp-, ...), the configured secrets (the signing secret has no
recognisable shape) and the ticket. Below DEBUG, bodies quoted in log lines are left out: they
carry what people typed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

FORMAT = "%(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"
# Slack tokens: xoxb- (bot), xoxp- (user), xoxa-/xoxr-/xoxe- and xoxe.xoxp- (rotation), xapp- (app-level).
TOKEN = re.compile(r"\b(?:xox[a-z]\.)?(?:xox[a-z]|xapp)-[A-Za-z0-9-]+")
# The one-time ticket in a Socket Mode URL (wss://wss-primary.slack.com/link/?ticket=...).
TICKET = re.compile(r"(?<=ticket=)[^&\s'\"]+")
SHORTEST_SECRET = 8  # a shorter "secret" (a test's "s") would blank out ordinary words


class RedactSecrets(logging.Filter):
    """Replaces secrets in a record's message, exception and stack text by [redacted]."""

    def __init__(self, secrets: Iterable[str | None] = ()):
        super().__init__()
        # Longest first, so that a secret containing another is replaced whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= SHORTEST_SECRET}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return TICKET.sub(REDACTED, TOKEN.sub(REDACTED, text))

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:  # formatted here so that it can be redacted
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class DropBodies(logging.Filter):
    """Below DEBUG, a request or response body quoted in a library's log line is left out: Bolt logs
    the whole body of a request with a bad signature at INFO (a replayed or forged message: what
    someone typed), and Socket Mode the body of an unsuccessful response. The notice stays."""

    BODY = re.compile(r"(,? body: ).*$", re.DOTALL)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        short = self.BODY.sub(r"\1(left out below DEBUG)", message)
        if short != message:
            record.msg, record.args = short, None
        return True


def setup_logging(level: str, secrets: Iterable[str | None] = ()) -> None:
    """Log to stderr at `level` (OSPO_LOG_LEVEL), every handler redacting `secrets` and Slack tokens,
    and leaving payload bodies out unless the level is DEBUG."""
    logging.basicConfig(level=level, format=FORMAT)
    filters: list[logging.Filter] = [RedactSecrets(secrets)]
    if logging.getLevelName(level) > logging.DEBUG:
        filters.append(DropBodies())
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactSecrets | DropBodies)]:
            handler.removeFilter(old)  # set up again (tests run many commands in one process)
        for new in filters:
            handler.addFilter(new)
