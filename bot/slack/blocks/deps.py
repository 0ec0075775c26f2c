"""A dependency check in Slack: the counts, the components that need attention (the first few;
the whole table goes in the thread as a CSV), and *Request an exception*, pre-filled. Also what
the bot says about a file it could not check."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import ActionsBlock

from bot.deps import DepsReport, Result
from bot.slack import ids
from bot.slack.blocks.kit import MAX_VALUE, button, context, escape, fit, section, to_dicts

SHOWN = 10  # components listed in the message; with more, the CSV in the thread has them all
ICON = {"allowed": "✅", "conditions": "☑️", "review": "🔍", "forbidden": "⛔", "unknown": "❓"}
LABEL = {
    "allowed": "allowed",
    "conditions": "allowed with conditions",
    "review": "need OSPO review",
    "forbidden": "not allowed",
    "unknown": "no or unknown license",
}
NOT_AN_SBOM = (
    "📎 I can read CycloneDX, SPDX and npm lockfiles (package-lock.json); *{name}* is none of those, so I "
    "didn't check it. {why}"
)
TOO_LARGE = (
    "📎 *{name}* is {size}: more than the {limit} I check here, so I haven't downloaded it. Run "
    "`ospo-bot deps check` on it in CI, or share a smaller SBOM (one per service or image)."
)
NOT_DOWNLOADED = (
    "📎 I couldn't get *{name}* from Slack ({why}). Share it again in a moment; if it keeps failing, "
    "ask the OSPO to check the app may read files (scope files:read)."
)
UNREADABLE = "📎 I couldn't check it: {why}"
CHECK_USAGE = (
    "Share an SBOM or lockfile with me in a DM (drag the file in, and say e.g. “for saas” if it isn't "
    "shipped to customers), or give `/ospo check` a link to a file already shared in Slack: "
    "`/ospo check https://…/files/U…/F…/bom.json saas`. I read CycloneDX, SPDX and npm lockfiles."
)


def summary_text(report: DepsReport, name: str) -> str:
    counts = ", ".join(f"{n} {LABEL[v]}" for v, n in report.counts.items() if n)
    outcome = "all allowed" if report.passes else f"{len(report.attention)} need attention"
    return f"{name}, for {report.use}: {len(report.results)} components ({counts or 'none'}); {outcome}."


def report_blocks(report: DepsReport, name: str, csv_attached: bool) -> list[dict]:
    counts = "   ".join(f"{ICON[v]} {n} {LABEL[v]}" for v, n in report.counts.items() if n) or "no components"
    blocks = [
        section(f"*{escape(name)}* ({escape(report.format)}), for *{report.use}*: {len(report.results)} components"),
        section(counts),
    ]
    attention = report.attention
    if report.passes:
        blocks.append(section(f"✅ Every component is allowed for {report.use}." + _conditions_note(report)))
    else:
        lines = [_line(r) for r in attention[:SHOWN]]
        blocks.append(section(f"*Needs attention ({len(attention)})*\n" + "\n".join(lines)))
        if len(attention) > SHOWN:
            blocks.append(context(f"…and {len(attention) - SHOWN} more: " + _table_note(csv_attached)))
        elif csv_attached:
            blocks.append(context("Every component, with the reasons: the table in this thread."))
        value = exception_value(report, name)
        blocks.append(ActionsBlock(elements=[button("Request an exception", ids.DEPS_EXCEPTION, value, "primary")]))
    return to_dicts(blocks)


def _line(r: Result) -> str:
    c = r.component
    version = f" {escape(c.version)}" if c.version else ""
    lic = escape(r.license) if r.license else "no license"
    return fit(f"{ICON[r.verdict]} *{escape(c.name)}*{version} · `{lic}` · {escape(r.reasons[-1])}", 280)


def _conditions_note(report: DepsReport) -> str:
    n = report.counts["conditions"]
    return f" {n} with conditions (notices to keep, changes to share): see the table in this thread." if n else ""


def _table_note(csv_attached: bool) -> str:
    return (
        "the whole table is in this thread."
        if csv_attached
        else "I couldn't attach the table; run `ospo-bot deps check` for it."
    )


def exception_value(report: DepsReport, name: str) -> str:
    """What pre-fills the exception form, within a button's 2,000 characters: the use, the file, and
    as many components (as the form's lines: purl, else name and version) and licenses as fit."""
    data = {"use": report.use, "file": name, "total": len(report.attention), "components": [], "licenses": []}
    for r in report.attention:
        c = r.component
        line = c.purl or (f"{c.name} {c.version}" if c.version else c.name)  # a line of the components field
        trial = data | {
            "components": [*data["components"], line],
            "licenses": list(dict.fromkeys([*data["licenses"], r.license or "none declared"])),
        }
        if len(json.dumps(trial)) > MAX_VALUE:
            break
        data = trial
    return json.dumps(data)


def exception_form_values(value: str) -> dict:
    """The exception form's fields from the button's value (exception_value)."""
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        data = {}
    components = [str(c) for c in data.get("components") or []]
    more = int(data.get("total") or 0) - len(components)
    description = (
        f"From the check of {data.get('file', 'an SBOM')}: {data.get('total', 0)} components need an exception."
    )
    if more > 0:
        description += f" {more} more are in the check's table; add those you need."
    return {
        "type": "exception",
        "components": "\n".join(components),
        "license": ", ".join(str(x) for x in data.get("licenses") or []),
        "use": data.get("use") or "distribute",
        "description": description,
    }
