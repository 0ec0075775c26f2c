"""`ospo-bot ask`: a question answered by the help desk, as in Slack: the license verdict first when
the question names a license, the quoted passage, its source; recorded like any other question."""

from __future__ import annotations

import json
import sys

import click
from rich.markup import escape

from bot.cli.common import check_setup_or_exit, core_or_exit, err, fresh_knowledge, out, setup_errors_end_the_command


@click.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (JSON Lines with -).")
def ask(question: str, as_json: bool):
    """Answer QUESTION from the knowledge base. QUESTION '-' reads one question per line from stdin."""
    core = core_or_exit()
    check_setup_or_exit(core.settings)
    kb = fresh_knowledge(core)
    with setup_errors_end_the_command():
        kb.index.embedder.load()  # always needed to answer; a broken model must not pass for a Chroma outage
    questions = sys.stdin if question == "-" else [question]
    for line in questions:
        if question == "-" and not line.strip():
            continue
        try:
            reply = core.desk.ask(line, source="cli")
        except ValueError as error:
            if question == "-":
                click.echo(json.dumps({"error": str(error)}) if as_json else str(error))
                continue
            raise click.UsageError(str(error)) from None
        if as_json:
            click.echo(json.dumps(reply_json(reply), ensure_ascii=False))
            sys.stdout.flush()
        else:
            print_reply(reply)


def reply_json(reply) -> dict:
    """The answer's JSON, with `license` (the verdicts) and `compatibility` when the question names them."""
    extra = {"license": reply.license.to_dict()} if reply.license else {}
    if reply.compatibility is not None:
        extra["compatibility"] = reply.compatibility.to_dict()
    return reply.answer.to_dict() | extra


def print_reply(reply) -> None:
    """What Slack shows, for the terminal: the license verdict (and whether two licenses fit
    together) when the question names them, then the answer."""
    from bot.cli.license import print_compatibility, print_report

    if reply.license is not None:
        out.print("[bold]License policy[/bold]")
        print_report(reply.license, reply.license.expression or "")
        out.print()
    if reply.compatibility is not None:
        out.print("[bold]License compatibility[/bold]")
        print_compatibility(reply.compatibility)
        out.print()
    print_answer(reply.answer)


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
