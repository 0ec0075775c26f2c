"""`ospo-bot db`: the database itself. `migrate-to-postgres URL` copies this installation's SQLite
database (OSPO_DATA_DIR) into PostgreSQL and verifies the copy (bot/storage/migrate.py)."""

from __future__ import annotations

import json

import click
from rich.table import Table

from bot.cli.common import out, settings_or_exit


@click.group()
def db():
    """The database: move an installation from SQLite to PostgreSQL."""


@db.command("migrate-to-postgres")
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: rows per table, requests replayed, problems.")
def migrate_to_postgres(url: str, as_json: bool):
    """Copy OSPO_DATA_DIR's SQLite database into the empty PostgreSQL database at URL
    (postgresql://USER:PASSWORD@HOST:PORT/DATABASE), audit trail included, then verify it: the rows
    of every table counted on both sides and every request's audit trail replayed on both.
    Afterwards set OSPO_DATABASE_URL=URL and CHROMA_HOST, and run `ospo-bot kb sync`."""
    from bot.storage.migrate import MigrationError, copy_to_postgres
    from bot.storage.postgres import shown

    if not url.startswith(("postgresql://", "postgres://")):
        raise click.BadParameter("use postgresql://USER:PASSWORD@HOST:PORT/DATABASE", param_hint="URL")
    settings = settings_or_exit()
    try:
        report = copy_to_postgres(settings.db_path, settings.learned_dir, url)
    except MigrationError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "ok": report.ok,
                    "tables": {t: {"sqlite": a, "postgresql": b} for t, (a, b) in report.tables.items()},
                    "requests_replayed": report.requests_replayed,
                    "events": report.events,
                    "problems": report.mismatches,
                }
            )
        )
    else:
        table = Table("table", "SQLite", "PostgreSQL", title=f"{settings.db_path} -> {shown(url)}")
        for name, (before, after) in report.tables.items():
            table.add_row(name, str(before), str(after), style=None if before == after else "red")
        out.print(table)
        out.print(
            f"{report.requests_replayed} requests replayed from their {report.events} audit events: "
            + ("every one to the state it holds." if report.ok else "PROBLEMS:")
        )
        for problem in report.mismatches:
            out.print(f"  [red]{problem}[/red]")
        if report.ok:
            out.print(
                "Next: set OSPO_DATABASE_URL to this URL and CHROMA_HOST to your Chroma server, then run "
                "`ospo-bot kb sync` (it embeds what the server lacks)."
            )
    if not report.ok:
        raise SystemExit(1)
