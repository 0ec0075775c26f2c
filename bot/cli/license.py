"""`ospo-bot license`: what our policy says about a license, per use; with --into, whether code under
one license may go into a work under another (the OSPO's help desk prints the same under `ask`)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from bot.cli.common import out

VERDICT_STYLE = {"allowed": "green", "conditions": "cyan", "review": "yellow", "forbidden": "red"}
COMPATIBILITY_STYLE = {"compatible": "green", "review": "yellow", "incompatible": "red"}


@click.command(name="license")
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
    from bot.compatibility import compatibility

    if into is not None and use is not None:
        raise click.UsageError("--use does not apply with --into: compatibility is about combining the code.")
    try:
        policy = licenses.load_policy(policy_path or licenses.default_policy_path())
        if into is not None:
            answer = compatibility(text, into, policy)
        else:
            report = licenses.check(text, policy, use=use)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if into is not None:
        if as_json:
            click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
        else:
            print_compatibility(answer)
        return
    if as_json:
        click.echo(json.dumps(report.to_dict(provenance=True), ensure_ascii=False))
        return
    print_report(report, text)
    if report.unknown or any(v.verdict in {"review", "forbidden"} for v in report.verdicts.values()):
        out.print("Need an exception? Ask the OSPO: /ospo approve (type: exception) or #ospo.")


def print_report(report, text: str) -> None:
    """The license, its category and where that comes from, a table of verdicts with the reasons and
    rules, what independent references say, and the data's sources."""
    from bot.references import labels

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


def print_compatibility(answer) -> None:
    """May code under one license go into a work under another: the direction, the answer, our
    policy for shipping each, the source."""
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
