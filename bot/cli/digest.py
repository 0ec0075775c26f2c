"""`ospo-bot digest` (the weekly digest in the terminal, or sent now) and `ospo-bot demo-data` (a
demo quarter to see it with)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.markup import escape

from bot.cli.common import core_or_exit, err, out, write_file
from bot.config import ConfigError, Settings


def _digest_week(settings: Settings, text: str | None):
    from bot.digest import week_of

    try:
        return week_of(text, settings.timezone)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--week") from None


def print_digest_text(text: str) -> None:
    """render_text's output: section titles in bold, the rest as written."""
    for line in text.rstrip("\n").splitlines():
        out.print(f"[bold]{escape(line)}[/bold]" if line and not line.startswith(" ") else escape(line))


@click.command()
@click.option("--preview", is_flag=True, help="Print the digest here (the default); nothing is sent.")
@click.option("--send", is_flag=True, help="Post it to OSPO_DIGEST_CHANNEL now (once per week, like the schedule).")
@click.option(
    "--week", metavar="YYYY-Www", help="An ISO week, e.g. 2026-W47 (default: the last complete week in OSPO_TIMEZONE)."
)
@click.option(
    "--blocks",
    "blocks_file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the Block Kit JSON (the message and its thread reply) to FILE.",
)
@click.option(
    "--chart",
    "chart_file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the 12-week chart to FILE (PNG, 1200x600).",
)
def digest(preview: bool, send: bool, week: str | None, blocks_file: Path | None, chart_file: Path | None):
    """The weekly digest: approvals, help desk, knowledge base and upstream figures for one ISO week."""
    if preview and send:
        raise click.UsageError("choose --preview or --send, not both")
    core = core_or_exit()
    settings = core.settings
    chosen = _digest_week(settings, week)
    if send:
        from bot import scheduler
        from bot.cli.slack import slack_delivery

        try:
            sent = scheduler.deliver_digest(core, slack_delivery(settings), chosen, late=False)
        except ConfigError as error:
            raise click.ClickException(str(error)) from None
        if sent:
            out.print(f"Sent the digest for {chosen.label} to {escape(settings.digest_channel or '')}.")
        else:
            out.print(f"The digest for {chosen.label} was already sent (or is being sent); nothing posted.")
        return

    from bot import digest as digest_module

    db = core.db
    report = digest_module.compute(db, chosen, core.policy, settings)
    print_digest_text(digest_module.render_text(report))
    if report.quiet and not db["questions"].count and not db["approval_requests"].count:
        err.print(
            f"[dim]No questions or requests in {escape(str(settings.db_path))} yet. "
            "`ospo-bot demo-data` fills a fresh database with a demo quarter.[/dim]"
        )
    if blocks_file:
        from bot.cli.slack import digest_message

        message = digest_message(report)
        write_file(blocks_file, json.dumps(message, indent=2, ensure_ascii=False) + "\n")
        out.print(
            f"Wrote the Block Kit JSON to {escape(str(blocks_file))} ({len(message['blocks'])} blocks, "
            f"{len(message['thread']['blocks'])} in the thread)."
        )
    if chart_file:
        write_file(chart_file, digest_module.chart_png(db, chosen, settings.timezone))
        out.print(f"Wrote the chart to {escape(str(chart_file))}.")


@click.command(name="demo-data")
@click.option("--weeks", default=13, show_default=True, type=click.IntRange(1, 104), help="How many weeks to fill.")
@click.option("--seed", default=7, show_default=True, type=int, help="Another seed, another story.")
def demo_data(weeks: int, seed: int):
    """Fill a fresh database (in OSPO_DATA_DIR) with a demo quarter of questions and approval requests,
    to see the digest and App Home without Slack. No model needed; answers quote the indexed documents
    when `ospo-bot kb sync` has run."""
    from bot import demo

    core = core_or_exit()
    settings = core.settings
    try:
        report = demo.fill(core.db, core.policy, weeks=weeks, seed=seed, tz=settings.timezone)
    except demo.DemoError as error:
        raise click.ClickException(str(error)) from None
    states = ", ".join(f"{n} {state.replace('_', ' ')}" for state, n in sorted(report.requests.items()))
    out.print(
        f"Filled {escape(str(settings.db_path))} with {weeks} week(s) from {report.start:%Y-%m-%d}: "
        f"{report.questions} questions ({report.feedback} votes, {report.escalations} escalations, "
        f"{report.answers} quoting indexed documents), {report.requests_total} approval requests ({states}) "
        f"and {report.events} audit events."
    )
    out.print("Now try: ospo-bot digest --preview --chart digest.png   ·   ospo-bot requests list")
