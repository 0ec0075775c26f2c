"""`ospo-bot license`: what our policy says about a license, per use."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from bot.cli.common import out

VERDICT_STYLE = {"allowed": "green", "conditions": "cyan", "review": "yellow", "forbidden": "red"}


@click.command(name="license")
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
    print_report(report, text)
    if report.unknown or any(v.verdict in {"review", "forbidden"} for v in report.verdicts.values()):
        out.print("Need an exception? Ask the OSPO: /ospo approve (type: exception) or #ospo.")


def print_report(report, text: str) -> None:
    """The license, its category, and a table of verdicts with the reasons (also under `ask`'s answer)."""
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
