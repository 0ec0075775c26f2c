"""SBOMs and lockfiles shared with the bot, checked against the policy (bot.deps) and answered in
the message's thread: a file shared in a DM, in the bot's thread or with a mention, or named by
`/ospo check <file link>`. Each file is fetched as Slack documents for apps: `files.info`, then its
`url_private_download` with the bot token (scope files:read), never read past OSPO_SBOM_MAX_MB.
The use comes from the words ("for saas", "internal"); distribute by default.

*Request an exception* under a failed check opens the exception form pre-filled with the components.
"""

from __future__ import annotations

import logging
import re
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import deps
from bot.deps.model import size_text
from bot.slack import approvals, ids
from bot.slack.blocks import deps as blocks
from bot.slack.client import failure
from bot.wiring import Core

log = logging.getLogger(__name__)
MAX_FILES = 5  # checked from one message
FILE_ID = re.compile(r"\b(F[A-Z0-9]{8,})\b")  # in a file's link: https://…/files/U…/F0123ABCD/bom.json
NOT_READABLE_TYPES = ("image/", "video/", "audio/", "application/pdf", "application/zip")
USE_WORDS = (  # first match wins; nothing matching: distribute
    ("saas", re.compile(r"\b(saas|hosted|host it|as a service|our service|cloud|server side|backend)\b", re.I)),
    ("internal", re.compile(r"\b(internal(ly)?|in-house|only employees)\b", re.I)),
    ("contribute", re.compile(r"\b(contribut\w*|upstream)\b", re.I)),
)


class FileProblem(Exception):
    """What to tell the person about a file we could not check (the message is theirs to read)."""


class NotAnSbom(FileProblem):
    """A picture, a PDF, an archive: not even downloaded."""


def register(app: App) -> None:
    app.action(ids.DEPS_EXCEPTION)(open_exception_form)


def use_in(text: str | None) -> str:
    """The use a message names ("can we run this in our SaaS?" -> saas); distribute when none."""
    for use, words in USE_WORDS:
        if words.search(text or ""):
            return use
    return "distribute"


UNREADABLE_MODES = {"tombstone", "hidden_by_limit"}  # deleted, or past a free plan's limit


def readable_files(event: dict) -> list[str]:
    """The ids of a message's files the bot may fetch: not deleted, not past the plan's limit, not denied
    (a Slack Connect stub, file_access check_file_info, is fetched through files.info as Slack asks)."""
    return [
        f["id"]
        for f in event.get("files") or []
        if isinstance(f, dict)
        and f.get("id")
        and f.get("mode") not in UNREADABLE_MODES
        and f.get("file_access") != "access_denied"
    ]


def on_file_share(event: dict, client: WebClient, core: Core, say_not_sbom: bool = True) -> bool:
    """Check every file of a message addressed to the bot; each gets its answer in the message's thread.
    True when something was said. With say_not_sbom=False (the message has words, which the caller
    answers when no file was an SBOM) only SBOMs and lockfiles are answered: their check, or why they
    cannot be read; a file that is none, or that could not be fetched, is left to the words' answer."""
    thread_ts = event.get("thread_ts") or event["ts"]
    file_ids = readable_files(event)
    return check_files(client, core, file_ids, event["channel"], thread_ts, use_in(event.get("text")), say_not_sbom)


def check_command(client: WebClient, core: Core, user: str, text: str, respond) -> None:
    """`/ospo check <link to a file shared in Slack> [saas|internal|contribute]`: the check in a DM thread."""
    file_ids = list(dict.fromkeys(FILE_ID.findall(text)))
    if not file_ids:
        respond(response_type="ephemeral", text=blocks.CHECK_USAGE)
        return
    respond(response_type="ephemeral", text="Checking it now; the answer is in our DM.")
    started = client.chat_postMessage(channel=user, text=f"Checking what you gave `/ospo check` ({use_in(text)})…")
    check_files(client, core, file_ids, started["channel"], started["ts"], use_in(text))


def check_files(
    client: WebClient,
    core: Core,
    file_ids: list[str],
    channel: str,
    thread_ts: str,
    use: str,
    say_not_sbom: bool = True,
) -> bool:
    """Each file checked and answered in the thread (see on_file_share); True when something was said."""
    said = False
    for file_id in file_ids[:MAX_FILES]:
        try:
            name, data = fetch(client, core, file_id)
            report = deps.check_bytes(data, name, use, core.policy, deps.grants(core.approvals.exceptions()))
        except NotAnSbom as problem:
            if say_not_sbom:
                client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=str(problem))
                said = True
            continue
        except FileProblem as problem:
            if not say_not_sbom:  # not known to be an SBOM: the words' answer says the file was not read
                continue
            text = str(problem)
        except deps.NotRecognised as error:
            if "is SPDX 3" in str(error) or "is SPDX RDF" in str(error):  # an SBOM we do not read: say what to send
                text = blocks.UNREADABLE.format(why=error)
            else:
                if say_not_sbom:
                    text = blocks.NOT_AN_SBOM.format(name=name, why="")
                    client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text.strip())
                    said = True
                continue
        except deps.DepsError as error:
            text = blocks.UNREADABLE.format(why=error)
        else:
            post_report(client, report, name, channel, thread_ts)
            said = True
            continue
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)
        said = True
    return said


def post_report(client: WebClient, report: deps.DepsReport, name: str, channel: str, thread_ts: str) -> None:
    """The counts and what needs attention, then the whole table as a CSV in the same thread."""
    table = bool(report.results)
    client.chat_postMessage(
        channel=channel,
        thread_ts=thread_ts,
        text=blocks.summary_text(report, name),
        blocks=blocks.report_blocks(report, name, csv_attached=table),
    )
    if not table:
        return
    try:
        client.files_upload_v2(
            content=report.to_csv().encode(),
            filename=f"{name.rsplit('.', 1)[0]}-{report.use}-check.csv",
            title=f"Dependency check of {name} for {report.use}",
            channel=channel,
            thread_ts=thread_ts,
        )
    except SlackApiError as error:
        log.warning("could not attach the check's table: %s", failure(error))
        text = "I couldn't attach the whole table; `ospo-bot deps check` prints it."
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)


def fetch(client: WebClient, core: Core, file_id: str) -> tuple[str, bytes]:
    """(the file's name, its bytes): files.info, then the download with the bot token, never past the
    size limit. FileProblem saying what went wrong."""
    limit = core.settings.sbom_max_bytes
    try:
        info = client.files_info(file=file_id)["file"]
    except SlackApiError as error:
        raise FileProblem(blocks.NOT_DOWNLOADED.format(name=file_id, why=f"Slack said {failure(error)}")) from None
    name = str(info.get("name") or info.get("title") or file_id)
    size = int(info.get("size") or 0)
    if size > limit:
        raise FileProblem(blocks.TOO_LARGE.format(name=name, size=size_text(size), limit=size_text(limit)))
    if str(info.get("mimetype") or "").startswith(NOT_READABLE_TYPES):
        kind = info.get("pretty_type") or info.get("mimetype")
        raise NotAnSbom(blocks.NOT_AN_SBOM.format(name=name, why=f"It is {_article(kind)} {kind} file."))
    url = info.get("url_private_download") or info.get("url_private")
    if not url or not from_slack(url, core.settings.slack_api_url):
        raise FileProblem(blocks.NOT_DOWNLOADED.format(name=name, why="it has no download address at Slack"))
    data = download(url, client.token, limit, core.settings.slack_api_timeout, name)
    if len(data) > limit:
        raise FileProblem(blocks.TOO_LARGE.format(name=name, size=f"over {size_text(limit)}", limit=size_text(limit)))
    return name, data


def from_slack(url: str, api_url: str) -> bool:
    """The bot token goes only to Slack (or to the Web API's own host, which tests point at loopback)."""
    host = (urlsplit(url).hostname or "").lower()
    return host == "slack.com" or host.endswith(".slack.com") or host == (urlsplit(api_url).hostname or "").lower()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is Slack's sign-in page (the token may not read files), and must not carry the token on."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def download(url: str, token: str | None, limit: int, timeout: float, name: str) -> bytes:
    """At most limit + 1 bytes of url_private, read with the bot token."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with _opener.open(request, timeout=timeout) as response:
            if "text/html" in (response.headers.get("Content-Type") or ""):
                raise FileProblem(blocks.NOT_DOWNLOADED.format(name=name, why="Slack sent its sign-in page instead"))
            return response.read(limit + 1)
    except urllib.error.HTTPError as error:
        why = "Slack sent its sign-in page instead" if 300 <= error.code < 400 else f"HTTP {error.code}"
        raise FileProblem(blocks.NOT_DOWNLOADED.format(name=name, why=why)) from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise FileProblem(blocks.NOT_DOWNLOADED.format(name=name, why=f"no answer: {type(reason).__name__}")) from None


def open_exception_form(ack, body, client: WebClient):
    """*Request an exception* under a check: the exception form, pre-filled with what needs one."""
    ack()
    values = blocks.exception_form_values(body["actions"][0].get("value"))
    approvals.open_form(client, body["trigger_id"], values)


def _article(word: str) -> str:
    return "an" if str(word)[:1].lower() in "aeiou" else "a"
