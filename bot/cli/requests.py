"""`ospo-bot requests`: approval requests for the OSPO and its auditors: list, show, export."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.cli.common import core_or_exit, out, write_file

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
    text = request.subject
    return text if len(text) <= 60 else text[:59] + "…"


def _value(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "—" if value is None or value == "" else str(value)


def _request_json(request, events) -> dict:
    """One request as `requests show --json` and `requests export --format json` write it."""
    from dataclasses import asdict

    return request.to_dict() | {"events": [asdict(e) for e in events]}


@click.group(name="requests")
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
    core = core_or_exit()
    settings, approvals = core.settings, core.approvals
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
    approvals = core_or_exit().approvals
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
    text = core_or_exit().approvals.export(format_)
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    write_file(output, text if text.endswith("\n") else text + "\n", newline="")  # csv writes its own \r\n
    if format_ == "json":
        requests = json.loads(text)
        count, events = len(requests), sum(len(r["events"]) for r in requests)
    else:
        rows = list(csv.DictReader(io.StringIO(text)))
        count, events = len({row["ref"] for row in rows}), len(rows)
    out.print(f"Wrote {count} request(s) and {events} event(s) to {escape(str(output))} ({format_}).")
