"""`ospo-bot kb`: sync the index, export the answers saved from Slack, measure answer quality."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from bot.cli.common import (
    check_setup_or_exit,
    core_or_exit,
    err,
    fresh_knowledge,
    out,
    print_problems,
    progress_bar,
    setup_errors_end_the_command,
)


@click.group()
def kb():
    """Manage the knowledge base: sync the index, measure answer quality."""


@kb.command()
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def sync(as_json: bool):
    """Bring the index up to date with the knowledge folder (only changed sections are embedded)."""
    core = core_or_exit()
    settings = core.settings
    check_setup_or_exit(settings)
    with progress_bar("Embedding") as update, setup_errors_end_the_command():
        report = core.kb.sync(update)
    notices = core.desk.queue_notices(report)
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
    written = core_or_exit().desk.export_learned(destination)
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
    from bot.search.knowledge_base import KnowledgeBase

    core = core_or_exit()
    check_setup_or_exit(core.settings)
    try:
        questions = read_questions(file)
        unanswerable = read_questions(offtopic, need_expected=False) if offtopic else []
    except EvalFileError as error:
        raise click.ClickException(str(error)) from None
    kb_ = fresh_knowledge(core, KnowledgeBase(core.settings, mode=mode, learned=with_learned))  # what is measured
    known = {row["path"] for row in kb_.db.query("SELECT path FROM documents")}
    unknown = sorted({p for q in questions for p in q.expected} - known)
    if unknown:
        err.print(f"[yellow]Expected documents not in the index: {', '.join(unknown)}[/yellow]")
    report = evaluate(questions, lambda q: kb_.search(q, k=10).documents, k=k)
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
    figures = {"hit@1": report.hit_at_1, "hit@3": report.hit_at_3, "hit@5": report.hit_at_5, "MRR@10": report.mrr}
    if report.section_at_1 is not None:  # the file labels the sections that answer
        figures[f"quoted section right ({report.sectioned})"] = report.section_at_1
    for name in figures:
        table.add_column(name, justify="right")
    table.add_row(*(f"{v:.3f}" for v in figures.values()))
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
