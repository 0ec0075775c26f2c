"""`ospo-bot deps check FILE`: every component of an SBOM or lockfile against the license policy,
for one use. Exit 0 when every component is allowed (conditions count as allowed), 1 when any
needs review, is forbidden or has no or an unknown license, 2 when the file cannot be read: a CI
job gates on it."""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from bot.cli.common import err, out, progress_bar
from bot.cli.license import VERDICT_STYLE

USES = ("distribute", "saas", "internal", "contribute")
USAGE_ERROR = 2  # click's own code for usage errors: a bad option and an unreadable file look alike to CI
DEPS_STYLE = VERDICT_STYLE | {"unknown": "magenta"}


@click.group()
def deps():
    """Check dependencies: SBOMs and lockfiles against the license policy."""


@deps.command(name="check")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=True))
@click.option("--use", type=click.Choice(USES), default="distribute", show_default=True, help="How the build is used.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: every component and the counts.")
@click.option("--max-mb", type=click.FloatRange(min=0, min_open=True), help="Refuse larger files (OSPO_SBOM_MAX_MB).")
def check(file: Path, use: str, as_json: bool, max_mb: float | None):
    """Check every component of FILE (CycloneDX JSON/XML, SPDX JSON/tag-value, npm package-lock.json;
    - reads stdin) against the policy: exit 0 when all are allowed, 1 when any needs attention, 2 when FILE
    cannot be read."""
    from bot import deps as core_deps
    from bot.config import ConfigError, load_settings
    from bot.deps.formats import too_large_message

    try:
        settings = load_settings()
    except ConfigError as error:
        _fail(str(error))
    max_bytes = int(max_mb * 1024 * 1024) if max_mb else settings.sbom_max_bytes
    try:
        policy, grants = _policy_and_grants(settings)
        bar = progress_bar(f"Reading {file.name}", after=0.5) if err.is_terminal else nullcontext(None)
        with bar as update:
            if str(file) == "-":  # a pipe: `cdxgen -o /dev/stdout | ospo-bot deps check -`
                data = sys.stdin.buffer.read(max_bytes + 1)
                if len(data) > max_bytes:
                    raise core_deps.TooLarge(too_large_message("stdin", len(data), max_bytes, exact=False))
                report = core_deps.check_bytes(data, "stdin", use, policy, grants, progress=update)
            else:
                report = core_deps.check_file(file, use, policy, grants, max_bytes=max_bytes, progress=update)
    except (core_deps.DepsError, ConfigError) as error:
        _fail(str(error))
    except Exception as error:  # noqa: BLE001 - a CI log gets a sentence, not a traceback; exit 2 all the same
        _fail(f"{file}: could not be checked ({type(error).__name__}: {error}). Please report this with the file.")
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    elif out.is_terminal:
        print_report(report, policy)
    else:
        print_plain(report, policy)
    sys.exit(0 if report.passes else 1)


def _fail(message: str):
    err.print(f"Error: {escape(message)}")
    sys.exit(USAGE_ERROR)


def _policy_and_grants(settings):
    """The policy, and the approved exceptions when the bot's database exists here (a CI runner has
    none: then only the policy counts). Opening it never creates it."""
    from bot import deps as core_deps
    from bot.wiring import Core

    core = Core(settings)
    policy = core.policy
    if not settings.db_path.exists():
        return policy, []
    return policy, core_deps.grants(core.approvals.exceptions())


def summary(report, policy) -> list[tuple[str, int, str]]:
    """(verdict, count, label) for each verdict, in the policy's order and then unknown."""
    labels = policy.verdict_labels | {"unknown": "no or unknown license"}
    return [(verdict, n, labels[verdict]) for verdict, n in report.counts.items()]


def print_report(report, policy) -> None:
    counts = ", ".join(
        f"[{DEPS_STYLE[v]}]{n} {escape(label)}[/{DEPS_STYLE[v]}]" if n else f"{n} {escape(label)}"
        for v, n, label in summary(report, policy)
    )
    out.print(f"[bold]{escape(report.file)}[/bold] ({escape(report.format)}), for {report.use}:")
    out.print(f"{len(report.results)} components: {counts}.")
    attention = report.attention
    if attention:
        table = Table(show_header=True, title="Needs attention", title_justify="left")
        for column in ("component", "version", "license", "verdict", "why"):
            table.add_column(column, overflow="fold")
        for r in attention:
            style = DEPS_STYLE[r.verdict]
            table.add_row(
                escape(r.component.name),
                escape(r.component.version or "—"),
                escape(r.license or "none"),
                f"[{style}]{r.verdict}[/{style}]",
                escape(" ".join(r.reasons)),
            )
        out.print(table)
    _print_outcome(report)


def print_plain(report, policy) -> None:
    """Piped: the summary, then one tab-separated line per component that needs attention."""
    click.echo(f"{report.file} ({report.format}), for {report.use}: {len(report.results)} components")
    for verdict, n, label in summary(report, policy):
        click.echo(f"  {verdict}\t{n}\t{label}")
    for r in report.attention:
        c = r.component
        click.echo("\t".join([r.verdict, c.name, c.version or "-", r.license or "none", " ".join(r.reasons)]))
    _print_outcome(report, plain=True)


def _print_outcome(report, plain: bool = False) -> None:
    honoured = sorted({r.exception for r in report.results if r.exception})
    if honoured:
        click.echo(f"Exceptions honoured: {', '.join(honoured)}.")
    if report.passes:
        line = "Every component is allowed for this use."
    else:
        n = len(report.attention)
        line = (
            f"{n} component{' needs' if n == 1 else 's need'} attention. Need an exception? Ask the OSPO: "
            "/ospo approve (type: exception), naming the components."
        )
    click.echo(line) if plain else out.print(escape(line))
