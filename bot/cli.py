"""`ospo-bot`: the command line, a thin skin over the library."""

from __future__ import annotations

import json
import logging
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from bot.config import ConfigError, Settings, load_settings

out = Console(highlight=False, soft_wrap=True)  # no hard wraps: output stays greppable
err = Console(stderr=True, highlight=False, soft_wrap=True)


def settings_or_exit() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    return settings


@contextmanager
def progress_bar(description: str):
    """A progress callback for long syncs, drawn on stderr; silent when nothing is embedded."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = None

        def update(done: int, total: int) -> None:
            nonlocal task
            if task is None:
                task = progress.add_task(description, total=total)
            progress.update(task, completed=done)

        yield update


def open_knowledge_base(settings: Settings, mode: str = "hybrid", sync: bool = True):
    from bot.search.knowledge_base import KnowledgeBase

    kb = KnowledgeBase(settings, mode=mode)
    if sync:
        with progress_bar("Indexing the knowledge base") as update:
            report = kb.ensure_fresh(update)
        if report:
            print_problems(report)
            queue_notices(kb, report)
            if report.embedded or report.removed:
                err.print(
                    f"[dim]Index brought up to date: {report.added} added, {report.updated} "
                    f"updated, {report.removed} removed ({report.seconds:.1f}s).[/dim]"
                )
    if sync and not kb.db["documents"].count:
        err.print(
            f"[yellow]The knowledge base is empty: no markdown files in {settings.knowledge_dir}. "
            "Add some, or set OSPO_KNOWLEDGE_DIR to your handbook folder.[/yellow]"
        )
    return kb


def queue_notices(kb, report) -> int:
    """Answers that quoted a section this sync changed get a DM from the running bot."""
    from bot.helpdesk import HelpDesk

    return HelpDesk(kb).queue_notices(report)


def print_problems(report) -> None:
    for path, problem in report.problems:
        err.print(f"[yellow]skipped {escape(path)}: {escape(problem)}[/yellow]")


@click.group()
@click.version_option(package_name="ospo-bot")
def cli():
    """ospo-bot: the Open Source Program Office's help desk.

    Answers open-source-policy questions from the knowledge base (knowledge/ by default).
    Settings come from environment variables; see README.md.
    """


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (JSON Lines with -).")
def ask(question: str, as_json: bool):
    """Answer QUESTION from the knowledge base. QUESTION '-' reads one question per line from stdin."""
    settings = settings_or_exit()
    kb = open_knowledge_base(settings)
    questions = sys.stdin if question == "-" else [question]
    for line in questions:
        if question == "-" and not line.strip():
            continue
        try:
            answer = kb.ask(line, source="cli")
        except ValueError as error:
            if question == "-":
                click.echo(json.dumps({"error": str(error)}) if as_json else str(error))
                continue
            raise click.UsageError(str(error)) from None
        if as_json:
            click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
            sys.stdout.flush()
        else:
            print_answer(answer)


def print_answer(answer) -> None:
    if answer.degraded:
        err.print("[yellow]Vector search is unavailable: answering from keyword search only.[/yellow]")
    if answer.confident:
        top = answer.sources[0]
        out.print(f"[bold]{escape(top.title)}[/bold]" + (f" › {escape(top.heading)}" if top.heading else ""))
        out.print()
        for line in answer.quote.splitlines():
            out.print(f"  [cyan]│[/cyan] {escape(line)}")
        out.print()
        dated = f"  (last reviewed {top.updated})" if top.updated else ""
        out.print(f"Source: {escape(top.location)}{dated}")
        related = answer.sources[1:]
    else:
        out.print(f"[yellow]{escape(answer.answer)}[/yellow]")
        related = answer.sources
    if related:
        out.print("Related:" if answer.confident else "Might help:")
        for source in related:
            out.print(f"  • {escape(source.title)} — {escape(source.location)}")


@cli.group()
def kb():
    """Manage the knowledge base: sync the index, measure answer quality."""


@kb.command()
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def sync(as_json: bool):
    """Bring the index up to date with the knowledge folder (only changed sections are embedded)."""
    settings = settings_or_exit()
    kb_ = open_knowledge_base(settings, sync=False)
    with progress_bar("Embedding") as update:
        report = kb_.sync(update)
    notices = queue_notices(kb_, report)
    if as_json:
        click.echo(json.dumps(report.to_dict()))
        return
    print_problems(report)
    out.print(
        f"Synced {report.documents} documents from {settings.knowledge_dir}: "
        f"[green]{report.added} added[/green], [cyan]{report.updated} updated[/cyan], "
        f"[red]{report.removed} removed[/red], {report.unchanged} unchanged "
        f"in {report.seconds:.1f}s."
        + (f" Repaired {report.repaired} chunks." if report.repaired else "")
        + (f" {len(report.problems)} file(s) skipped." if report.problems else "")
        + (f" {notices} person(s) will be told that a policy they were quoted changed." if notices else "")
    )


@kb.command(name="export")
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
def export(destination: Path):
    """Write the answers saved from Slack ("Save as knowledge") to DESTINATION as markdown,
    for the OSPO to review and fold into the handbook."""
    from bot.helpdesk import HelpDesk

    settings = settings_or_exit()
    written = HelpDesk(open_knowledge_base(settings, sync=False)).export_learned(destination)
    for path in written:
        out.print(f"wrote {escape(str(path))}")
    out.print(f"{len(written)} saved answer(s) exported to {escape(str(destination))}.")


@kb.command(name="eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-k",
    "k",
    default=3,
    show_default=True,
    type=click.IntRange(1, 10),
    help="A miss is a question whose expected document is not in the top K.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--mode",
    type=click.Choice(["hybrid", "dense", "keyword"]),
    default="hybrid",
    show_default=True,
    help="Which search to measure.",
)
@click.option(
    "--offtopic",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Questions the knowledge base cannot answer: report how many come back confident.",
)
def eval_(file: Path, k: int, as_json: bool, mode: str, offtopic: Path | None):
    """Measure retrieval on FILE: one {"question", "expected": [paths]} per line."""
    from bot.search.evaluate import EvalFileError, evaluate, read_questions

    settings = settings_or_exit()
    try:
        questions = read_questions(file)
        unanswerable = read_questions(offtopic, need_expected=False) if offtopic else []
    except EvalFileError as error:
        raise click.ClickException(str(error)) from None
    kb_ = open_knowledge_base(settings, mode=mode)
    known = {row["path"] for row in kb_.db.query("SELECT path FROM documents")}
    unknown = sorted({p for q in questions for p in q.expected} - known)
    if unknown:
        err.print(f"[yellow]Expected documents not in the index: {', '.join(unknown)}[/yellow]")
    report = evaluate(questions, lambda q: [d.path for d in kb_.search(q, k=10).documents], k=k)
    calibration = None
    if offtopic:
        from bot.search.calibrate import calibration_report

        calibration = calibration_report(kb_, questions, unanswerable)
    if as_json:
        data = report.to_dict()
        if calibration:
            data["calibration"] = calibration
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    print_eval(report, mode, file, calibration)


def print_eval(report, mode: str, file: Path, calibration: dict | None) -> None:
    table = Table(title=f"{file.name}: {report.questions} questions, {mode} search")
    for name in ("hit@1", "hit@3", "hit@5", "MRR@10"):
        table.add_column(name, justify="right")
    table.add_row(*(f"{v:.3f}" for v in (report.hit_at_1, report.hit_at_3, report.hit_at_5, report.mrr)))
    out.print(table)
    if report.misses:
        out.print(f"[bold]Misses at k={report.k}[/bold] ({len(report.misses)}):")
        for miss in report.misses:
            rank = f"rank {miss.rank}" if miss.rank else "not in top 10"
            out.print(f"  • {escape(miss.question)}  [dim]({rank})[/dim]")
            out.print(f"    [dim]expected {', '.join(miss.expected)}; got {', '.join(miss.got)}[/dim]")
    if calibration:
        out.print(
            f"Confidence at threshold {calibration['threshold']:.2f}: "
            f"{calibration['answerable_confident']:.0%} of answerable questions confident, "
            f"{calibration['offtopic_confident']:.0%} of off-topic ones confident "
            f"(want 0%). Suggested OSPO_CONFIDENCE_THRESHOLD: {calibration['suggested']:.2f}."
        )


@cli.command()
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
    from bot.helpdesk import HelpDesk
    from bot.slack.server import Bot

    settings = settings_or_exit()
    if mode == "http":
        settings.slack_app_token = None
    elif mode == "socket" and not settings.slack_app_token:
        raise click.ClickException("--mode socket needs SLACK_APP_TOKEN (an app-level token, xapp-...)")
    problems = [p for p in settings.slack_problems() if not p.startswith("OSPO_TRIAGE_CHANNEL")]
    if problems:
        raise click.ClickException("Cannot start the Slack bot:\n  " + "\n  ".join(problems))
    for problem in settings.slack_problems():
        if problem.startswith("OSPO_TRIAGE_CHANNEL"):
            err.print(f"[yellow]warning: {escape(problem)}[/yellow]")
    desk = HelpDesk(open_knowledge_base(settings, sync=False))
    with progress_bar("Indexing the knowledge base") as update:
        report = desk.kb.ensure_fresh(update)
    if report:
        print_problems(report)
        desk.queue_notices(report)
    desk.kb.warm_up()  # model and index loaded before we say ready
    try:
        bot = Bot(settings, desk)
    except Exception as error:  # Bolt raises its own error types for a bad token or URL
        raise click.ClickException(f"Slack did not accept the bot: {error}. Run `ospo-bot doctor`.") from None
    bot.start_housekeeping()
    if settings.socket_mode:
        bot.serve_socket_mode()
    else:
        bot.serve_http(host, port or settings.port)


@cli.command()
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
    report(True, f"configuration read (knowledge: {settings.knowledge_dir}, data: {settings.data_dir})")
    for problem in settings.slack_problems():
        report(False, problem)
    if settings.slack_bot_token:
        from slack_sdk.errors import SlackApiError

        from bot.slack.app import web_client

        try:
            who = web_client(settings).auth_test()
            report(True, f"Slack accepts the bot token: @{who['user']} in {who.get('team')} ({settings.slack_api_url})")
        except SlackApiError as error:
            report(False, f"Slack refused the bot token: {error.response.get('error')} (check SLACK_BOT_TOKEN)")
        except Exception as error:  # network errors of every kind
            report(False, f"cannot reach Slack at {settings.slack_api_url}: {error} (check SLACK_API_URL)")
    from bot.search.knowledge_base import KnowledgeBase

    kb = KnowledgeBase(settings)
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


VERDICT_STYLE = {"allowed": "green", "conditions": "cyan", "review": "yellow", "forbidden": "red"}


@cli.command(name="license")
@click.argument("text")
@click.option(
    "--use",
    type=click.Choice(["contribute", "distribute", "saas", "internal"]),
    help="Only this use (default: all four).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the verdicts as one JSON object.")
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Another policy file (default: knowledge/policy.yaml).",
)
def license_(text: str, use: str | None, as_json: bool, policy_path: Path | None):
    """What our policy says about the license TEXT ("GPLv3", "Apache 2", "MIT OR Apache-2.0")."""
    from bot import licenses

    try:
        policy = licenses.load_policy(policy_path or licenses.default_policy_path())
        report = licenses.check(text, policy, use=use)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    if report.unknown:
        hint = f" Did you mean {', '.join(report.suggestions)}?" if report.suggestions else ""
        out.print(
            f"[yellow]Unknown license: {escape(text)}.{hint}[/yellow] "
            "Treated as unknown: not allowed until the OSPO reviews it."
        )
    else:
        names = "; ".join(f"{i.spdx_id} ({i.category})" for i in report.licenses)
        out.print(f"[bold]{escape(report.expression)}[/bold]: {escape(names)}")
    table = Table(show_header=True)
    for column in ("use", "verdict", "why"):
        table.add_column(column)
    for name, verdict in report.verdicts.items():
        style = VERDICT_STYLE.get(verdict.verdict, "")
        table.add_row(name, f"[{style}]{escape(verdict.label)}[/{style}]", escape(verdict.reason))
    out.print(table)
    if report.unknown or any(v.verdict in {"review", "forbidden"} for v in report.verdicts.values()):
        out.print("Need an exception? Ask the OSPO: /ospo approve (type: exception) or #ospo.")


def main():
    cli()
