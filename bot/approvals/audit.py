"""The audit trail read back: a request's state replayed from its events, and every request with
every event exported for auditors (`ospo-bot requests export`)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from typing import Any

from bot.approvals.forms import FIELD_SPECS
from bot.approvals.records import TRANSITIONS, Event, NotFound, Request


def replay(events: list[Event], request_id) -> str:
    """The state the events lead to from "submitted"; ValueError if a step is not a transition."""
    if not events:
        raise NotFound(f"There is no request {request_id}.")
    state = "submitted"
    for e in events:
        if e.from_state != state or e.to_state not in TRANSITIONS.get(state, ()):
            raise ValueError(f"event {e.id}: {e.from_state} -> {e.to_state} cannot follow {state}")
        state = e.to_state
    return state


def export(requests: list[Request], all_events: list[Event], format: str = "json") -> str:
    """JSON: a list of requests, each with its "events"; CSV: a row per event, every request field on each."""
    if format not in ("csv", "json"):
        raise ValueError("format must be csv or json")
    events: dict[int, list[Event]] = {r.id: [] for r in requests}
    for e in all_events:
        events[e.request_id].append(e)
    if format == "json":
        return json.dumps(
            [r.to_dict() | {"events": [asdict(e) for e in events[r.id]]} for r in requests],
            indent=2,
            ensure_ascii=False,
        )
    request_columns = [k for k in Request.__dataclass_fields__ if k != "fields"]
    columns = (
        request_columns
        + [f"field_{name}" for name in FIELD_SPECS]
        + [f"event_{k}" for k in Event.__dataclass_fields__ if k != "request_id"]
    )
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for r in requests:
        base = {k: _cell(getattr(r, k)) for k in request_columns}
        base |= {f"field_{k}": _cell(v) for k, v in r.fields.items()}
        for e in events[r.id]:
            writer.writerow(base | {f"event_{k}": _cell(v) for k, v in asdict(e).items() if k != "request_id"})
    return out.getvalue()


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value
