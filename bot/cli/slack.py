"""The CLI's Slack wiring: `ospo-bot serve` and `ospo-bot doctor`, and what `digest --send` and
`digest --blocks` need from bot/slack. The only commands that know Slack."""

from __future__ import annotations

import sys

import click
from rich.markup import escape

from bot.cli.common import (
    err,
    out,
    print_problems,
    progress_bar,
    settings_or_exit,
    setup_errors_end_the_command,
    setup_problems,
)
from bot.config import ConfigError, Settings, load_settings
from bot.logs import setup_logging


@click.command()
@click.option("--port", type=click.IntRange(1, 65535), help="HTTP port (default: $PORT, else 3000).")
@click.option("--host", default="0.0.0.0", show_default=True, help="HTTP address to listen on.")
@click.option(
    "--mode",
    type=click.Choice(["auto", "http", "socket"]),
    default="auto",
    show_default=True,
    help="auto: Socket Mode when SLACK_APP_TOKEN is set, else HTTP.",
)
def serve(port: int | None, host: str, mode: str):
    """Run the Slack bot: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on /slack/events."""
    from bot.slack.client import group_members, web_client
    from bot.slack.server import Server
    from bot.wiring import Core

    settings = settings_or_exit()
    if mode == "http":
        settings.slack_app_token = None
    elif mode == "socket" and not settings.slack_app_token:
        raise click.ClickException(
            "--mode socket needs SLACK_APP_TOKEN: an app-level token (xapp-...) with the connections:write scope, "
            "from the app's Basic Information > App-Level Tokens"
        )
    problems = settings.slack_problems() + setup_problems(settings, serving=True)
    if problems:
        raise click.ClickException("Cannot start the Slack bot:\n  " + "\n  ".join(problems))
    for warning in settings.slack_warnings():
        err.print(f"[yellow]warning: {escape(warning)}[/yellow]")
    client = web_client(settings)
    core = Core(settings, group_members=group_members(client))
    with setup_errors_end_the_command():
        if settings.slack_token_rotation:
            client.auth_test()  # the rotating pair made or read now: wrong credentials stop us here
        core.build_all()  # every part before the threads start; a broken policy file stops us here
        core.kb.index.embedder.load()  # first: a broken model stops us before anything else is done
        with progress_bar("Indexing the knowledge base") as update:
            report = core.kb.ensure_fresh(update)
    if report:
        print_problems(report)
        core.desk.queue_notices(report)
    core.kb.warm_up()  # model and index loaded before we say ready
    try:
        server = Server(core, client)
    except Exception as error:  # Bolt raises its own error types for a bad token or URL
        raise click.ClickException(f"Slack did not accept the bot: {error}. Run `ospo-bot doctor`.") from None
    server.start_housekeeping(settings.housekeeping_seconds)
    if settings.socket_mode:
        server.serve_socket_mode()
    else:
        server.serve_http(host, port or settings.port)


@click.command()
def doctor():
    """Check the configuration, Slack (auth.test), the model and the index; say what is wrong."""
    ok = True

    def report(good: bool, message: str) -> None:
        nonlocal ok
        ok = ok and good
        out.print(("[green]✓[/green] " if good else "[red]✗[/red] ") + escape(message))

    try:
        settings = load_settings()
    except ConfigError as error:
        report(False, str(error))
        sys.exit(1)
    setup_logging(settings.log_level, settings.secrets)
    report(True, f"configuration read (knowledge: {settings.knowledge_dir}, data: {settings.data_dir})")
    for problem in settings.slack_problems():
        report(False, problem)
    for warning in settings.slack_warnings():
        out.print(f"[yellow]![/yellow] {escape(warning)}")
    if settings.slack_bot_token:
        from slack_sdk.errors import SlackApiError

        from bot.slack.client import web_client

        try:
            who = web_client(settings).auth_test()
            report(True, f"Slack accepts the bot token: @{who['user']} in {who.get('team')} ({settings.slack_api_url})")
            report_scopes(report, who.headers)
            if settings.slack_token_rotation:
                report(True, "token rotation on: the bot token is refreshed before it expires")
        except SlackApiError as error:
            report(False, f"Slack refused the bot token: {error.response.get('error')} (check SLACK_BOT_TOKEN)")
        except ConfigError as error:  # token rotation could not start
            report(False, str(error))
        except Exception as error:  # network errors of every kind
            report(False, f"cannot reach Slack at {settings.slack_api_url}: {error} (check SLACK_API_URL)")
    from bot.config import embedding_model_problem
    from bot.search.knowledge_base import KnowledgeBase
    from bot.wiring import Core

    for problem in setup_problems(settings):
        report(False, problem)
    try:
        policy = Core(settings).policy
        report(True, f"license policy reads: {len(policy.categories)} categories, {len(policy.licenses)} licenses")
    except ConfigError as error:
        report(False, str(error))
    kb = KnowledgeBase(settings)
    if embedding_model_problem(settings.embedding_model) is None:  # else said just above
        try:
            kb.index.embedder.load()
            report(True, f"embedding model loads: {settings.embedding_model}")
        except RuntimeError as error:
            report(False, str(error))
    try:
        chunks = kb.index.vectors.count()
        report(True, f"vector store answers ({kb.index.vectors.where}): {chunks} passages")
    except Exception as error:  # chromadb raises many kinds
        report(False, f"vector store unavailable: {error} (check CHROMA_HOST/CHROMA_PORT)")
    documents = kb.db["documents"].count
    if kb.index.is_stale():
        report(False, f"the index is out of date ({documents} documents indexed): run `ospo-bot kb sync`")
    else:
        report(
            documents > 0,
            f"index up to date: {documents} documents"
            + ("" if documents else f" — add markdown files to {settings.knowledge_dir}"),
        )
    sys.exit(0 if ok else 1)


def report_scopes(report, headers: dict) -> None:
    """The scopes Slack granted (auth.test's x-oauth-scopes) against bot/slack/scopes.py; the events,
    which Slack does not tell an app, listed for the admin to compare."""
    from bot.slack.scopes import EVENTS, SCOPES, missing

    granted = next((value for name, value in headers.items() if name.lower() == "x-oauth-scopes"), None)
    lacking = missing(granted)
    if lacking:
        listed = "; ".join(f"{scope} ({why})" for scope, why in lacking.items())
        report(False, f"the app lacks {listed}: add them (manifest.yml lists every scope) and reinstall the app")
    elif granted is not None:
        report(True, f"the app has every scope it needs ({len(SCOPES)})")
    out.print(f"[yellow]![/yellow] Event Subscriptions must list: {escape(', '.join(EVENTS))} (as manifest.yml)")


def slack_delivery(settings: Settings):
    """Where `digest --send` posts: the digest channel, through the bot's WebClient."""
    from bot.slack.client import web_client
    from bot.slack.delivery import SlackDelivery

    return SlackDelivery(web_client(settings), settings.digest_channel)


def digest_message(report) -> dict:
    """The digest as `digest --send` would post it: the message's text and blocks, and its thread reply."""
    from bot.slack.blocks.digest import digest_blocks, digest_detail_blocks, digest_text

    return {
        "text": digest_text(report),
        "blocks": digest_blocks(report),
        "thread": {"text": f"Details for {report.week.label}", "blocks": digest_detail_blocks(report)},
    }
