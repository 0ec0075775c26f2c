"""The digest as plain text for the terminal (`ospo-bot digest --preview`), and the phrases the
Slack message shares with it (durations, turnaround, outcomes, SLA, question lines)."""

from __future__ import annotations

from bot.digest.approvals import OUTCOMES, SlaBreach, Turnaround
from bot.digest.figures import UNUSED_DAYS, Digest, DocumentRef
from bot.digest.questions import QuestionGroup


def duration(hours: float | None) -> str:
    """5.25 -> '5.3 h'; under 48 hours in hours, else in days ('3.1 d'); None -> '—'."""
    if hours is None:
        return "—"
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def turnaround_text(now: Turnaround, before: Turnaround) -> str:
    if not now.count:
        this = "no first decisions this week"
    else:
        this = (
            f"median {duration(now.median_hours)}, 90th percentile {duration(now.p90_hours)} "
            f"({now.count} request{'s' if now.count != 1 else ''})"
        )
    last = (
        f"median {duration(before.median_hours)}, 90th percentile {duration(before.p90_hours)}"
        if before.count
        else "none"
    )
    return f"{this}; last week: {last}"


def received_text(digest: Digest) -> str:
    if not digest.received_total:
        return "none"
    return f"{digest.received_total} (" + ", ".join(f"{t} {n}" for t, n in digest.received.items()) + ")"


OUTCOME_LABEL = {
    "auto_approved": "auto-approved",
    "approved": "approved",
    "rejected": "rejected",
    "needs_info": "asked for info",
    "cancelled": "cancelled",
}


def outcomes_text(digest: Digest) -> str:
    parts = [
        f"{digest.outcomes.get(s, 0)} {OUTCOME_LABEL[s]}"
        for s in OUTCOMES
        if s != "cancelled" or digest.outcomes.get(s)
    ]
    return ", ".join(parts)


def share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "—"


def render_text(digest: Digest) -> str:
    """The digest as plain text for the terminal (`ospo-bot digest --preview`): every list in full."""
    d, lines = digest, []
    w = d.week
    lines.append(f"OSPO weekly digest — {w.label} ({w.span}, {w.tz})")
    if d.quiet:
        lines.append("A quiet week: no new requests, questions or knowledge base changes.")
    lines += ["", "Approvals"]
    lines.append(f"  Received: {received_text(d)}")
    lines.append(f"  Decisions: {outcomes_text(d)}")
    lines.append(f"  Turnaround to first decision: {turnaround_text(d.turnaround, d.turnaround_last_week)}")
    if d.queue:
        lines.append(
            f"  Waiting: {len(d.queue)} ({d.queue_pending} on the OSPO, {d.queue_needs_info} on the requester), "
            "oldest first:"
        )
        for q in d.queue:
            who = "the OSPO" if q.waiting_on is None else q.waiting_on
            lines.append(f"    {q.ref} {q.type} · {q.subject} · {duration(q.age_hours)} old · waits on {who}")
    else:
        lines.append("  Waiting: nothing, the queue is empty")
    if d.overdue:
        lines.append(f"  Past the SLA: {len(d.overdue)}")
        for b in d.overdue:
            lines.append(f"    {b.ref} {b.type} · {b.subject} · {sla_text(b)}")
    else:
        lines.append("  Past the SLA: none")
    lines += ["", "Help desk"]
    if d.questions:
        lines.append(
            f"  Questions: {d.questions}, {d.confident} answered confidently ({share(d.confident, d.questions)})"
        )
    else:
        lines.append("  Questions: none this week")
    lines.append(f"  Feedback: {d.thumbs_up} 👍, {d.thumbs_down} 👎")
    lines.append(
        f"  Escalations: {d.escalations_opened} opened, {d.escalations_resolved} resolved ({d.escalations_open} open)"
    )
    if d.top_questions:
        lines.append("  Unanswered or 👎'd (near-duplicates counted once):")
        for g in d.top_questions:
            lines.append(f"    {question_line(g)} [question {g.question_id}]")
    lines += ["", "Knowledge base"]
    lines.append(f"  Documents: {d.documents}" + ("" if d.documents else " (none indexed: run `ospo-bot kb sync`)"))
    lines += _doc_lines("Added or changed this week", d.documents_changed)
    lines += _doc_lines(f"Not quoted by any answer in {UNUSED_DAYS} days", d.documents_unused)
    lines += _doc_lines(f"Not reviewed in {d.stale_doc_days} days (front-matter updated)", d.documents_stale)
    if d.documents_undated:
        lines.append(f"  Without an updated date: {d.documents_undated}")
    lines += ["", "Upstream"]
    if d.top_projects:
        lines.append("  Most contributed to: " + ", ".join(f"{repo} ({n})" for repo, n in d.top_projects))
    else:
        lines.append("  Most contributed to: no approved contributions this week")
    lines.append(f"  CLAs approved: {len(d.clas_signed)}")
    lines += [f"    {u.ref} {u.subject}" + (f" · {u.detail}" if u.detail else "") for u in d.clas_signed]
    lines.append(f"  Releases approved: {len(d.releases)}")
    lines += [f"    {u.ref} {u.subject}" + (f" · {u.detail}" if u.detail else "") for u in d.releases]
    return "\n".join(lines) + "\n"


def sla_text(b: SlaBreach) -> str:
    waiting = "no response yet" if not b.responded else ("waits on the requester" if b.state == "needs_info" else "")
    tail = f" ({waiting})" if waiting else ""
    return f"{b.business_days:.1f} business days open, past the {b.limit_days}-day {b.sla} SLA{tail}"


def question_line(g: QuestionGroup) -> str:
    counts = [f"asked {g.asked}×" if g.asked > 1 else "asked once"]
    if g.unanswered:
        counts.append(f"{g.unanswered} not answered")
    if g.downvotes:
        counts.append(f"{g.downvotes} 👎")
    return f"“{g.question}” — {', '.join(counts)}"


def _doc_lines(title: str, docs: list[DocumentRef]) -> list[str]:
    if not docs:
        return [f"  {title}: none"]
    return [f"  {title}: {len(docs)}"] + [
        f"    {doc.path}"
        + (f" — {doc.title}" if doc.title else "")
        + (f", updated {doc.updated}" if doc.updated else "")
        for doc in docs
    ]
