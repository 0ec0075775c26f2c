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
            license_report = {"license": reply.license.to_dict()} if reply.license else {}
            click.echo(json.dumps(reply.answer.to_dict() | license_report, ensure_ascii=False))
            sys.stdout.flush()
        else:
            print_reply(reply)


def print_reply(reply) -> None:
    from bot.cli.license import print_report

    answer = reply.answer
    if answer.degraded:
        err.print("[yellow]Vector search is unavailable: answering from keyword search only.[/yellow]")
    if reply.license is not None:
        out.print("[bold]License policy[/bold]")
        print_report(reply.license, reply.license.expression or "")
        out.print()
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
