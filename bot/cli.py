"""`ospo-bot`: the command line, a thin skin over the library."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from bot.config import ConfigError, Settings, load_settings
from bot.logs import setup_logging

out = Console(highlight=False, soft_wrap=True)  # no hard wraps: output stays greppable
err = Console(stderr=True, highlight=False, soft_wrap=True)


def settings_or_exit() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    setup_logging(settings.log_level, settings.secrets)
    return settings


def setup_problems(settings: Settings, serving: bool = False) -> list[str]:
    """What stops `ask`, `kb` and `serve` before the slow part (importing torch, loading the model):
    a model path that is not a model, a knowledge folder we cannot read, and for serving one
    without markdown. Cheap: file checks only."""
    from bot.config import embedding_model_problem
    from bot.search.knowledge_base import knowledge_problems

    model = embedding_model_problem(settings.embedding_model)
    return ([model] if model else []) + knowledge_problems(settings, need_documents=serving)


def check_setup_or_exit(settings: Settings) -> None:
    problems = setup_problems(settings)
    if problems:
        raise click.ClickException("\n  ".join(["Cannot start:", *problems]))


@contextmanager
def setup_errors_end_the_command():
    """A model that fails to load or a knowledge folder that turns unreadable ends the command
    with its message (what to set or fix), not a traceback."""
    from bot.search.index import ModelError
    from bot.search.knowledge_base import KnowledgeFolderError

    try:
        yield
    except (ModelError, KnowledgeFolderError) as error:
        raise click.ClickException(str(error)) from None


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


def open_knowledge_base(settings: Settings, mode: str = "hybrid", sync: bool = True, learned: bool = True):
    from bot.search.knowledge_base import KnowledgeBase

    kb = KnowledgeBase(settings, mode=mode, learned=learned)
    if sync:
        with progress_bar("Indexing the knowledge base") as update, setup_errors_end_the_command():
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
    check_setup_or_exit(settings)
    kb = open_knowledge_base(settings)
    with setup_errors_end_the_command():
        kb.index.embedder.load()  # always needed to answer; a broken model must not pass for a Chroma outage
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
    from rich.markdown import Markdown
    from rich.padding import Padding

    if answer.degraded:
        err.print("[yellow]Vector search is unavailable: answering from keyword search only.[/yellow]")
    if answer.confident:
        top = answer.sources[0]
        out.print(f"[bold]{escape(top.title)}[/bold]" + (f" › {escape(top.heading)}" if top.heading else ""))
        out.print()
        if out.is_terminal:
            out.print(Padding.indent(Markdown(answer.quote), 2), soft_wrap=False)
        else:  # piped: the markdown as written, greppable
            for line in answer.quote.splitlines():
                out.print(f"  │ {escape(line)}")
        out.print()
        dated = f"  (last reviewed {top.updated})" if top.updated else ""
        if answer.complete:
            out.print(f"Source: {escape(top.location)}{dated}")
        else:
            out.print(f"Part of the section; read the whole section: {escape(top.location)}{dated}")
        related = answer.sources[1:]
        if related:
            out.print("Related:")
            for source in related:
                out.print(f"  • {escape(source.title)} — {escape(source.location)}")
    else:
        out.print(f"[yellow]{escape(answer.answer)}[/yellow]")
        if answer.candidates:
            out.print("Might help:")
        for source in answer.candidates:
            where = escape(source.title) + (f" › {escape(source.heading)}" if source.heading else "")
            out.print(f"  • [bold]{where}[/bold] — {escape(source.location)}")
            if source.line:
                out.print(f"    [dim]{escape(source.line)}[/dim]")


@cli.group()
def kb():
    """Manage the knowledge base: sync the index, measure answer quality."""


@kb.command()
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def sync(as_json: bool):
    """Bring the index up to date with the knowledge folder (only changed sections are embedded)."""
    settings = settings_or_exit()
    check_setup_or_exit(settings)
    kb_ = open_knowledge_base(settings, sync=False)
    with progress_bar("Embedding") as update, setup_errors_end_the_command():
        report = kb_.sync(update)
    notices = queue_notices(kb_, report)
    if not report.documents and not report.problems:
        err.print(
            f"[yellow]warning: no markdown files in {escape(str(settings.knowledge_dir))}: the knowledge base is "
            "empty. Add .md files there, or set OSPO_KNOWLEDGE_DIR to your handbook folder.[/yellow]"
        )
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
    help="Questions the knowledge base cannot answer: report how many come back confident, and a "
    "precision/coverage table per threshold.",
)
@click.option(
    "--with-learned",
    is_flag=True,
    help="Search with the phrasings learned from use (👍 answers) too; by default the knowledge base alone.",
)
def eval_(file: Path, k: int, as_json: bool, mode: str, offtopic: Path | None, with_learned: bool):
    """Measure retrieval on FILE: one {"question", "expected": [paths]} per line."""
    from bot.search.evaluate import EvalFileError, evaluate, read_questions

    settings = settings_or_exit()
    check_setup_or_exit(settings)
    try:
        questions = read_questions(file)
        unanswerable = read_questions(offtopic, need_expected=False) if offtopic else []
    except EvalFileError as error:
        raise click.ClickException(str(error)) from None
    kb_ = open_knowledge_base(settings, mode=mode, learned=with_learned)
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
        table = Table(title=f"Confident answers by {calibration['setting']}")
        for name in ("threshold", "precision", "coverage", "off-topic confident"):
            table.add_column(name, justify="right")
        for row in calibration["table"]:
            table.add_row(
                f"{row['threshold']:g}",
                f"{row['precision']:.3f}",
                f"{row['coverage']:.3f}",
                str(row["offtopic_confident"]),
                style="bold" if row["threshold"] == calibration["threshold"] else None,
            )
        out.print(table)
        out.print(
            f"Confidence at {calibration['setting']}={calibration['threshold']:g}: "
            f"{calibration['answerable_confident']:.0%} of answerable questions confident "
            f"({calibration['confident_precision']:.0%} of those quote an expected document), "
            f"{calibration['offtopic_confident_count']} off-topic ones confident (want 0; the highest scores "
            f"{calibration['offtopic_max_score']:g}). Suggested {calibration['setting']}: {calibration['suggested']:g}."
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
        raise click.ClickException(
            "--mode socket needs SLACK_APP_TOKEN: an app-level token (xapp-...) with the connections:write scope, "
            "from the app's Basic Information > App-Level Tokens"
        )
    problems = settings.slack_problems() + setup_problems(settings, serving=True)
    if problems:
        raise click.ClickException("Cannot start the Slack bot:\n  " + "\n  ".join(problems))
    for warning in settings.slack_warnings():
        err.print(f"[yellow]warning: {escape(warning)}[/yellow]")
    desk = HelpDesk(open_knowledge_base(settings, sync=False))
    with setup_errors_end_the_command():
        desk.kb.index.embedder.load()  # first: a broken model stops us before anything else is done
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
    bot.start_housekeeping(settings.housekeeping_seconds)
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
    setup_logging(settings.log_level, settings.secrets)
    report(True, f"configuration read (knowledge: {settings.knowledge_dir}, data: {settings.data_dir})")
    for problem in settings.slack_problems():
        report(False, problem)
    for warning in settings.slack_warnings():
        out.print(f"[yellow]![/yellow] {escape(warning)}")
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
    from bot.config import embedding_model_problem
    from bot.search.knowledge_base import KnowledgeBase

    for problem in setup_problems(settings):
        report(False, problem)
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


VERDICT_STYLE = {"allowed": "green", "conditions": "cyan", "review": "yellow", "forbidden": "red"}
COMPATIBILITY_STYLE = {"compatible": "green", "review": "yellow", "incompatible": "red"}


@cli.command(name="license")
@click.argument("text")
@click.option(
    "--use",
    type=click.Choice(["contribute", "distribute", "saas", "internal"]),
    help="Only this use (default: all four).",
)
@click.option(
    "--into",
    "into",
    metavar="LICENSE",
    help="Instead: may code under TEXT go into a work under LICENSE? (OSADL compatibility matrix)",
)
@click.option("--json", "as_json", is_flag=True, help="Print the verdicts as one JSON object.")
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Another policy file (default: knowledge/policy.yaml).",
)
def license_(text: str, use: str | None, into: str | None, as_json: bool, policy_path: Path | None):
    """What our policy says about the license TEXT ("GPLv3", "Apache 2", "MIT OR Apache-2.0"), or with
    --into, whether code under TEXT may be included in a work under another license."""
    from bot import licenses
    from bot.references import labels

    if into is not None and use is not None:
        raise click.UsageError("--use does not apply with --into: compatibility is about combining the code.")
    try:
        policy = licenses.load_policy(policy_path or licenses.default_policy_path())
        if into is not None:
            return _print_compatibility(text, into, policy, as_json)
        report = licenses.check(text, policy, use=use)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(report.to_dict(provenance=True), ensure_ascii=False))
        return
    if report.unknown:
        hint = f" Did you mean {', '.join(report.suggestions)}?" if report.suggestions else ""
        out.print(
            f"[yellow]Unknown license: {escape(text)}.{hint}[/yellow] "
            "Treated as unknown: not allowed until the OSPO reviews it."
        )
    else:
        names = "; ".join(f"{i.spdx_id} ({i.category}, from {i.category_source})" for i in report.licenses)
        out.print(f"[bold]{escape(report.expression)}[/bold]: {escape(names)}")
    table = Table(show_header=True)
    for column in ("use", "verdict", "why"):
        table.add_column(column)
    for name, verdict in report.verdicts.items():
        style = VERDICT_STYLE.get(verdict.verdict, "")
        why = f"{escape(verdict.reason)}\n[dim]rule: {escape(verdict.rule)}[/dim]"
        table.add_row(name, f"[{style}]{escape(verdict.label)}[/{style}]", why)
    out.print(table)
    for lic in report.licenses:
        if said := "; ".join(label.text() for label in labels(lic.spdx_id)):
            out.print(f"[dim]{escape(lic.spdx_id)} in independent references: {escape(said)}[/dim]")
    out.print(f"[dim]Sources: {escape(' · '.join(s.label() for s in report.sources))}[/dim]")
    if report.unknown or any(v.verdict in {"review", "forbidden"} for v in report.verdicts.values()):
        out.print("Need an exception? Ask the OSPO: /ospo approve (type: exception) or #ospo.")


def _print_compatibility(text: str, into: str, policy, as_json: bool) -> None:
    from bot.compatibility import compatibility

    answer = compatibility(text, into, policy)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
        return
    direction = answer.directions[0]
    style = COMPATIBILITY_STYLE.get(answer.verdict, "")
    out.print(
        f"Code under [bold]{escape(direction.inbound)}[/bold] in a work under [bold]{escape(direction.outbound)}"
        f"[/bold]: [{style}]{escape(answer.label)}[/{style}]"
    )
    out.print(escape(answer.reason))
    for verdict in answer.policy:
        vstyle = VERDICT_STYLE.get(verdict.verdict, "")
        out.print(
            f"Our policy for shipping {escape(verdict.decided_by or '?')}: [{vstyle}]{escape(verdict.label)}[/{vstyle}]"
        )
    out.print(f"[dim]Source: {escape(answer.source.label())}, {escape(answer.source.license or '')}[/dim]")


# ------------------------------------------------------------------------- approval requests

# bot.approvals.STATES, spelled out so that `ospo-bot --help` does not import SQLite (a test keeps them equal).
REQUEST_STATES = ("pending", "auto_approved", "approved", "rejected", "needs_info", "cancelled")
STATE_STYLE = {
    "auto_approved": "green",
    "approved": "green",
    "rejected": "red",
    "pending": "yellow",
    "needs_info": "cyan",
    "cancelled": "dim",
    "reopened": "magenta",
}


def load_policy_or_exit():
    """The default license policy, or the command ends saying why it cannot be read."""
    from bot import licenses

    try:
        return licenses.load_policy(licenses.default_policy_path())
    except (OSError, ValueError) as error:
        raise click.ClickException(f"cannot read the license policy: {error}") from None


def open_approvals(settings: Settings):
    from bot.approvals import Approvals
    from bot.store import ThreadLocalDB

    return Approvals(ThreadLocalDB(settings.db_path).get, load_policy_or_exit())


def _since(ctx, param, value: str | None):
    if value is None:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            return date.fromisoformat(value.strip())
    except ValueError:
        pass
    raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2026-03-01.")


def _state(value: str) -> str:
    style = STATE_STYLE.get(value)
    return f"[{style}]{escape(value)}[/{style}]" if style else escape(value)


def _subject(request) -> str:
    """What a request is about: the repository, else the proposed project name, else the description."""
    text = request.repo or request.fields.get("proposed_name") or request.fields.get("description") or ""
    text = " ".join(str(text).split())
    return text if len(text) <= 60 else text[:59] + "…"


def _value(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "—" if value is None or value == "" else str(value)


def _request_json(request, events) -> dict:
    """One request as `requests show --json` and `requests export --format json` write it."""
    from dataclasses import asdict

    return request.to_dict() | {"events": [asdict(e) for e in events]}


@cli.group(name="requests")
def requests_():
    """Approval requests (made in Slack with /ospo approve): list, show, export for audits."""


@requests_.command(name="list")
@click.option(
    "--state",
    type=click.Choice(REQUEST_STATES, case_sensitive=False),
    help="Only requests in this state.",
)
@click.option(
    "--since", callback=_since, metavar="YYYY-MM-DD", help="Only requests created on or after this day (UTC)."
)
@click.option("--requester", metavar="USER_ID", help="Only requests by this Slack user id (e.g. U0123ABC).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of requests (every field).")
def list_requests(state: str | None, since: date | None, requester: str | None, as_json: bool):
    """List approval requests, oldest first."""
    settings = settings_or_exit()
    approvals = open_approvals(settings)
    state = state.lower() if state else None
    found = approvals.list(state=state, requester=requester, since=since)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in found], indent=2, ensure_ascii=False))
        return
    if not found:
        what = [f"in state {state}"] if state else []
        what += [f"by {escape(requester)}"] if requester else []
        what += [f"created since {since.isoformat()}"] if since else []
        out.print(
            f"No approval requests{' ' + ', '.join(what) if what else ''} in {escape(str(settings.db_path))}."
            + ("" if what else " They are made in Slack with /ospo approve.")
        )
        return
    table = Table(show_header=True, caption=f"{len(found)} request(s)")
    table.add_column("ref", no_wrap=True)
    table.add_column("type", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("requester", overflow="fold")
    table.add_column("repository or project", overflow="fold")
    table.add_column("created", no_wrap=True)
    table.add_column("decided by", overflow="fold")
    for r in found:
        table.add_row(
            r.ref,
            r.type,
            _state(r.state),
            escape(r.requester),
            escape(_subject(r)),
            r.created_at[:16].replace("T", " "),
            escape(r.decided_by or ""),
        )
    # In a terminal the table fits the window; piped, it keeps one line per request, for grep.
    (out if out.is_terminal else Console(highlight=False, soft_wrap=True, width=1000)).print(table)


@requests_.command(name="show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: every field and the event history.")
def show_request(ref: str, as_json: bool):
    """Everything about request REF (OSPO-42, or 42): fields, policy check, precedent, history."""
    from bot.approvals import FIELD_SPECS, parse_ref
    from bot.approvals import ref as format_ref

    request_id = parse_ref(ref)
    if request_id is None:
        raise click.BadParameter(f"{ref!r} is not a request reference; use e.g. OSPO-42.", param_hint="REF")
    settings = settings_or_exit()
    approvals = open_approvals(settings)
    request = approvals.get(request_id)
    if request is None:
        raise click.ClickException(f"no request {format_ref(request_id)} (try `ospo-bot requests list`)")
    events = approvals.events(request_id)
    if as_json:
        click.echo(json.dumps(_request_json(request, events), indent=2, ensure_ascii=False))
        return
    print_request(request, events, list(FIELD_SPECS))


def _lines(label: str, value) -> None:
    """A `label  value` line; later lines of a multi-line value are indented under the value."""
    first, *rest = _value(value).splitlines() or [""]
    out.print(f"  {label:<18} {escape(first)}")
    for line in rest:
        out.print(f"  {'':<18} {escape(line)}")


def print_request(request, events, field_order: list[str]) -> None:
    out.print(f"[bold]{request.ref}[/bold]  {escape(request.type)}  {_state(request.state)}")
    _lines("requester", request.requester)
    _lines("created", request.created_at)
    _lines("updated", request.updated_at)
    _lines("repository", request.repo)
    if request.license_expression or request.license_category:
        _lines("license", f"{request.license_expression or '?'} ({request.license_category or '?'})")
    _lines("decided by", request.decided_by)
    _lines("decided at", request.decided_at)
    _lines("reason", request.reason)
    _lines("conditions", request.conditions)
    _lines("blanket", f"yes, until {request.blanket_until}" if request.blanket else "no")
    out.print("[bold]Fields[/bold]")
    known = [name for name in field_order if name in request.fields]
    for name in known + sorted(set(request.fields) - set(known)):
        _lines(name.replace("_", " "), request.fields[name])
    if request.auto_reasons:
        out.print("[bold]Auto-approved because[/bold]")
        for reason in request.auto_reasons:
            out.print(f"  • {escape(reason)}")
    out.print("[bold]Policy flags[/bold]" + ("" if request.flags else " none"))
    for flag in request.flags:
        out.print(f"  • {escape(flag)}")
    out.print("[bold]Precedent[/bold]" + (" (earlier decisions for this repository)" if request.precedent else " none"))
    for p in request.precedent:
        by = f" by {p.get('decided_by')}" if p.get("decided_by") else ""
        on = f" on {str(p.get('decided_at'))[:10]}" if p.get("decided_at") else ""
        blanket = f", blanket until {str(p.get('blanket_until'))[:10]}" if p.get("blanket") else ""
        why = f": {p.get('reason')}" if p.get("reason") else ""
        conditions = f" (conditions: {p.get('conditions')})" if p.get("conditions") else ""
        line = f"{p.get('ref')}: {_value(p.get('state'))}{by}{on}{blanket}{why}{conditions}"
        out.print(f"  • {escape(line)}")
    out.print(f"[bold]History[/bold] ({len(events)} event(s))")
    for e in events:
        line = f"  {e.at}  {escape(e.actor)}  {_state(e.from_state)} → {_state(e.to_state)}"
        if e.reason:
            line += f"  — {escape(e.reason)}"
        extra = e.extra or {}
        notes = []
        if extra.get("conditions"):
            notes.append(f"conditions: {extra['conditions']}")
        if extra.get("blanket"):
            notes.append(f"blanket until {extra.get('blanket_until')}")
        previous = extra.get("previous") or {}
        if previous.get("decided_by"):
            notes.append(f"undoes the decision of {previous['decided_by']} at {previous.get('decided_at')}")
        if notes:
            line += f"  [dim]({escape('; '.join(notes))})[/dim]"
        out.print(line)


@requests_.command(name="export")
@click.option(
    "--format",
    "format_",
    type=click.Choice(["csv", "json"]),
    default="json",
    show_default=True,
    help="json: a list of requests, each with its events; csv: one row per event, every request field on each.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file (default: stdout).",
)
def export_requests(format_: str, output: Path | None):
    """Every request with every field and every event, for audits."""
    settings = settings_or_exit()
    text = open_approvals(settings).export(format_)
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    _write_file(output, text if text.endswith("\n") else text + "\n", newline="")  # csv writes its own \r\n
    if format_ == "json":
        requests = json.loads(text)
        count, events = len(requests), sum(len(r["events"]) for r in requests)
    else:
        rows = list(csv.DictReader(io.StringIO(text)))
        count, events = len({row["ref"] for row in rows}), len(rows)
    out.print(f"Wrote {count} request(s) and {events} event(s) to {escape(str(output))} ({format_}).")


def main():
    try:
        cli()
    except Exception as error:  # the data folder locked, full or read-only: said plainly, not as a traceback
        problem = storage_problem(error)
        if problem is None:
            raise
        click.echo(f"Error: {problem}", err=True)
        sys.exit(1)


def storage_problem(error: Exception):
    """bot.store's plain-words StorageError for a failure of OSPO_DATA_DIR, else None."""
    from bot.store import storage_error

    try:
        data_dir = load_settings().data_dir
    except ConfigError:
        return None
    return storage_error(error, data_dir)


# ------------------------------------------------------------------------- weekly digest


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


@cli.command()
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
    settings = settings_or_exit()
    chosen = _digest_week(settings, week)
    if send:
        from bot.scheduler import deliver_digest  # noqa: I001 (lazy: the scheduler pulls in Slack)

        try:
            sent = deliver_digest(settings, chosen, late=False)
        except ConfigError as error:
            raise click.ClickException(str(error)) from None
        if sent:
            out.print(f"Sent the digest for {chosen.label} to {escape(settings.digest_channel or '')}.")
        else:
            out.print(f"The digest for {chosen.label} was already sent (or is being sent); nothing posted.")
        return

    from bot import digest as digest_module
    from bot.store import open_db

    policy = load_policy_or_exit()
    db = open_db(settings.db_path)
    try:
        report = digest_module.compute(db, chosen, policy, settings)
        print_digest_text(digest_module.render_text(report))
        if report.quiet and not db["questions"].count and not db["approval_requests"].count:
            err.print(
                f"[dim]No questions or requests in {escape(str(settings.db_path))} yet. "
                "`ospo-bot demo-data` fills a fresh database with a demo quarter.[/dim]"
            )
        if blocks_file:
            from bot.slack.digest_blocks import digest_blocks, digest_detail_blocks, digest_text

            message = {
                "text": digest_text(report),
                "blocks": digest_blocks(report),
                "thread": {"text": f"Details for {chosen.label}", "blocks": digest_detail_blocks(report)},
            }
            _write_file(blocks_file, json.dumps(message, indent=2, ensure_ascii=False) + "\n")
            out.print(
                f"Wrote the Block Kit JSON to {escape(str(blocks_file))} ({len(message['blocks'])} blocks, "
                f"{len(message['thread']['blocks'])} in the thread)."
            )
        if chart_file:
            _write_file(chart_file, digest_module.chart_png(db, chosen, settings.timezone))
            out.print(f"Wrote the chart to {escape(str(chart_file))}.")
    finally:
        db.conn.close()


def _write_file(path: Path, data: str | bytes, newline: str | None = None) -> None:
    try:
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8", newline=newline)
    except OSError as error:
        raise click.ClickException(f"cannot write {path}: {error.strerror or error}") from None


@cli.command(name="demo-data")
@click.option("--weeks", default=13, show_default=True, type=click.IntRange(1, 104), help="How many weeks to fill.")
@click.option("--seed", default=7, show_default=True, type=int, help="Another seed, another story.")
def demo_data(weeks: int, seed: int):
    """Fill a fresh database (in OSPO_DATA_DIR) with a demo quarter of questions and approval requests,
    to see the digest and App Home without Slack. No model needed; answers quote the indexed documents
    when `ospo-bot kb sync` has run."""
    from bot import demo, licenses
    from bot.store import open_db

    settings = settings_or_exit()
    policy = licenses.load_policy(licenses.default_policy_path())
    db = open_db(settings.db_path)
    try:
        report = demo.fill(db, policy, weeks=weeks, seed=seed, tz=settings.timezone)
    except demo.DemoError as error:
        raise click.ClickException(str(error)) from None
    finally:
        db.conn.close()
    states = ", ".join(f"{n} {state.replace('_', ' ')}" for state, n in sorted(report.requests.items()))
    out.print(
        f"Filled {escape(str(settings.db_path))} with {weeks} week(s) from {report.start:%Y-%m-%d}: "
        f"{report.questions} questions ({report.feedback} votes, {report.escalations} escalations, "
        f"{report.answers} quoting indexed documents), {report.requests_total} approval requests ({states}) "
        f"and {report.events} audit events."
    )
    out.print("Now try: ospo-bot digest --preview --chart digest.png   ·   ospo-bot requests list")
