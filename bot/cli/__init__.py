"""`ospo-bot`: the command line, a thin skin over the library, one module per command group:
ask, kb (sync, export, eval), license, deps (check), requests (list, show, export), digest (and
demo-data), db (migrate-to-postgres), and
slack (serve, doctor: the only commands that know Slack). Each command builds the bot's parts with
bot.wiring.Core, as `serve` does."""

from __future__ import annotations

import sys

import click

from bot.cli import ask, db, deps, digest, kb, license, requests, slack
from bot.config import ConfigError, load_settings


@click.group()
@click.version_option(package_name="ospo-bot")
def cli():
    """ospo-bot: the Open Source Program Office's help desk.

    Answers open-source-policy questions from the knowledge base (knowledge/ by default).
    Settings come from environment variables; see README.md.
    """


for command in (
    ask.ask,
    kb.kb,
    slack.serve,
    slack.doctor,
    license.license_,
    deps.deps,
    requests.requests_,
    digest.digest,
    digest.demo_data,
    db.db,
):
    cli.add_command(command)


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
    """bot.store's plain-words StorageError for a failure of OSPO_DATA_DIR or of the PostgreSQL server, else None."""
    from bot.store import storage_error

    try:
        settings = load_settings()
    except ConfigError:
        return None
    return storage_error(error, settings.data_dir, settings.database_url)
