"""The weekly digest as Block Kit: one channel message with the headline figures, and a thread reply
with the long lists. Both stay inside Slack's limits whatever the data: 50 blocks, 3,000 characters a
section, and about 12,000 characters of text in all (past that chat.postMessage answers
msg_blocks_too_long, a limit Slack does not document), however long the queue.

Each of the top unanswered questions carries an "Answer & save to knowledge base" button
(ids.DIGEST_ANSWER, value: the representative question id). A digest sent late says so under its header.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock, SectionBlock

from bot.digest import (
    OLDEST_SHOWN,
    TOP_QUESTIONS,
    UNUSED_DAYS,
    Digest,
    DocumentRef,
    QueueItem,
    SlaBreach,
    UpstreamItem,
    duration,
    outcomes_text,
    question_line,
    received_text,
    share,
    sla_text,
    turnaround_text,
)
from bot.slack import ids
from bot.slack.blocks.kit import MAX_BLOCKS, MAX_SECTION, button, context, escape, fit, plain, section, to_dicts

ANSWER_LABEL = "Answer & save to knowledge base"
MAX_MESSAGE_TEXT = 11_000  # all text of one message; Slack refuses a little over 12,000
SLA_SHOWN = 5  # past-SLA requests named on the main message
DOCS_SHOWN = 3
THREAD_QUESTIONS = 10  # more question groups, with buttons, in the thread
QUESTION_CHARS = 250
# Characters each list of the thread may take (the sum stays under MAX_MESSAGE_TEXT).
THREAD_BUDGET = {"queue": 2200, "sla": 2200, "changed": 800, "unused": 800, "stale": 800, "upstream": 800}
PREVIEW_HINT = "`ospo-bot digest --preview --week {week}` lists everything."


def digest_text(digest: Digest, late: bool = False) -> str:
    """The notification / fallback text of the digest message."""
    d = digest
    return (
        f"OSPO weekly digest {d.week.label}: {d.received_total} request(s), {d.questions} question(s), "
        f"{len(d.queue)} waiting, {len(d.overdue)} past the SLA"
    ) + (" (late)" if late else "")


def digest_blocks(digest: Digest, late: bool = False) -> list[dict]:
    """The digest message: headline figures, the oldest waiting requests, the top unanswered questions
    (each with its button); longer lists go to digest_detail_blocks, posted in its thread. late: it was
    not sent at its scheduled time (the bot was down), said under the header."""
    d = digest
    built: list[Block] = [
        HeaderBlock(text=plain(f"📊 OSPO weekly digest · {d.week.label}")),
        context(f"{d.week.span} · {escape(d.week.tz)}" + ("" if _complete(d) else " · so far, the week is not over")),
    ]
    if late:
        built.insert(1, late_context(d.week.label))
    if d.quiet:
        built.append(section("🌿 *A quiet week:* no new requests, questions or knowledge base changes."))
    built += [section(_approvals(d)), DividerBlock(), section(_helpdesk(d))]
    for group in d.top_questions[:TOP_QUESTIONS]:
        built.append(_question(group))
    built += [DividerBlock(), section(_knowledge(d)), DividerBlock(), section(_upstream(d))]
    if has_details(d):
        built.append(
            context("🧵 The whole queue, every request past the SLA and the document lists are in the thread.")
        )
    return to_dicts(built[:MAX_BLOCKS])


def late_context(label: str) -> Block:
    return context(
        f":hourglass: *(late)* The digest for {label} is late: the bot was not running at its scheduled time."
    )


def has_details(digest: Digest) -> bool:
    """Whether the thread reply says more than the message."""
    d = digest
    return bool(
        len(d.queue) > OLDEST_SHOWN
        or len(d.overdue) > SLA_SHOWN
        or len(d.top_questions) > TOP_QUESTIONS
        or any(len(docs) > DOCS_SHOWN for docs in (d.documents_changed, d.documents_unused, d.documents_stale))
        or len(d.clas_signed) > DOCS_SHOWN
        or len(d.releases) > DOCS_SHOWN
    )


def digest_detail_blocks(digest: Digest) -> list[dict]:
    """The thread reply: the whole waiting queue, every request past the SLA, more question groups with
    their buttons, and the document lists, each cut to fit with a count of what was left out."""
    d = digest
    hint = PREVIEW_HINT.format(week=d.week.label)
    built: list[Block] = [context(f"*Details for {d.week.label}* ({d.week.span}). {hint}")]
    built.append(
        _list(
            f"*⏳ Waiting ({len(d.queue)}, oldest first)*",
            [_queue_line(q) for q in d.queue],
            THREAD_BUDGET["queue"],
            empty="Nothing is waiting.",
        )
    )
    built.append(
        _list(
            f"*⏰ Past the SLA ({len(d.overdue)})*",
            [_sla_line(b) for b in d.overdue],
            THREAD_BUDGET["sla"],
            empty="Every request is within its SLA.",
        )
    )
    more = d.top_questions[TOP_QUESTIONS : TOP_QUESTIONS + THREAD_QUESTIONS]
    if more:
        built.append(section(f"*❓ More unanswered or 👎'd questions* ({len(d.top_questions)} groups in all)"))
        built += [_question(group) for group in more]
        left = len(d.top_questions) - TOP_QUESTIONS - len(more)
        if left > 0:
            built.append(context(f"…and {left} more. {hint}"))
    built.append(
        _list(
            "*📚 Added or changed this week*", [_doc_line(doc) for doc in d.documents_changed], THREAD_BUDGET["changed"]
        )
    )
    built.append(
        _list(
            f"*💤 Not quoted by any answer in {UNUSED_DAYS} days*",
            [_doc_line(doc) for doc in d.documents_unused],
            THREAD_BUDGET["unused"],
        )
    )
    built.append(
        _list(
            f"*🕰 Not reviewed in {d.stale_doc_days} days*",
            [_doc_line(doc, updated=True) for doc in d.documents_stale],
            THREAD_BUDGET["stale"],
        )
    )
    if len(d.clas_signed) > DOCS_SHOWN or len(d.releases) > DOCS_SHOWN:
        built.append(
            _list(
                "*🌍 CLAs and releases approved this week*",
                [f"CLA {_upstream_line(u)}" for u in d.clas_signed]
                + [f"Release {_upstream_line(u)}" for u in d.releases],
                THREAD_BUDGET["upstream"],
            )
        )
    return to_dicts(built[:MAX_BLOCKS])


# ------------------------------------------------------------------------- sections


def _complete(d: Digest) -> bool:
    return d.as_of >= d.week.end


def _approvals(d: Digest) -> str:
    lines = [
        "*🗂 Approvals*",
        f"• *Received:* {escape(received_text(d))}",
        f"• *Decided:* {outcomes_text(d)}",
        f"• *Turnaround to first decision:* {turnaround_text(d.turnaround, d.turnaround_last_week)}",
    ]
    if d.queue:
        lines.append(
            f"• *Waiting:* {len(d.queue)} ({d.queue_pending} on the OSPO, {d.queue_needs_info} on the requester). "
            "Oldest:"
        )
        lines += [f"   ◦ {_queue_line(q)}" for q in d.queue[:OLDEST_SHOWN]]
    else:
        lines.append("• *Waiting:* nothing, the queue is empty 🎉")
    if d.overdue:
        named = ", ".join(
            f"{b.ref} ({escape(b.type)}, {b.business_days:.1f} business days)" for b in d.overdue[:SLA_SHOWN]
        )
        extra = f" and {len(d.overdue) - SLA_SHOWN} more in the thread" if len(d.overdue) > SLA_SHOWN else ""
        lines.append(f"• *⏰ Past the SLA:* {len(d.overdue)}: {named}{extra}")
    else:
        lines.append("• *Past the SLA:* none ✅")
    return fit("\n".join(lines), MAX_SECTION)


def _helpdesk(d: Digest) -> str:
    if d.questions:
        asked = f"{d.questions}, {share(d.confident, d.questions)} answered confidently ({d.confident})"
    else:
        asked = "none this week"
    lines = [
        "*💬 Help desk*",
        f"• *Questions:* {asked}",
        f"• *Feedback:* {d.thumbs_up} 👍 · {d.thumbs_down} 👎",
        f"• *Escalations:* {d.escalations_opened} opened · {d.escalations_resolved} resolved · "
        f"{d.escalations_open} still open",
    ]
    if d.top_questions:
        lines.append("*Top unanswered or 👎'd questions* (near-duplicates counted once):")
    elif d.questions:
        lines.append("Every question was answered confidently and none got a 👎.")
    return fit("\n".join(lines), MAX_SECTION)


def _question(group) -> SectionBlock:
    text = fit(escape(question_line(group)), QUESTION_CHARS)
    return section(text, accessory=button(ANSWER_LABEL, ids.DIGEST_ANSWER, str(group.question_id)))


def _knowledge(d: Digest) -> str:
    lines = [f"*📚 Knowledge base* ({d.documents} documents)"]
    for title, docs in (
        ("Added or changed", d.documents_changed),
        (f"Not quoted by any answer in {UNUSED_DAYS} days", d.documents_unused),
        (f"Not reviewed in {d.stale_doc_days} days", d.documents_stale),
    ):
        named = ", ".join(escape(doc.title or doc.path) for doc in docs[:DOCS_SHOWN])
        extra = f" and {len(docs) - DOCS_SHOWN} more" if len(docs) > DOCS_SHOWN else ""
        lines.append(f"• *{title}:* {len(docs)}" + (f": {fit(named, 400)}{extra}" if docs else ""))
    return fit("\n".join(lines), MAX_SECTION)


def _upstream(d: Digest) -> str:
    projects = ", ".join(f"{escape(repo)} ({n})" for repo, n in d.top_projects)
    lines = [
        "*🌍 Upstream*",
        f"• *Most contributed to:* {fit(projects, 600) if projects else 'no approved contributions this week'}",
        f"• *CLAs approved:* {_upstream_items(d.clas_signed)}",
        f"• *Releases approved:* {_upstream_items(d.releases)}",
    ]
    return fit("\n".join(lines), MAX_SECTION)


def _upstream_line(u: UpstreamItem) -> str:
    return f"{u.ref} {escape(fit(u.subject, 80))}" + (f" ({escape(fit(u.detail, 60))})" if u.detail else "")


def _upstream_items(items: list[UpstreamItem]) -> str:
    if not items:
        return "0"
    named = ", ".join(_upstream_line(u) for u in items[:DOCS_SHOWN])
    extra = f" and {len(items) - DOCS_SHOWN} more" if len(items) > DOCS_SHOWN else ""
    return f"{len(items)}: {named}{extra}"


def _queue_line(q: QueueItem) -> str:
    who = "the OSPO" if q.waiting_on is None else f"<@{escape(q.waiting_on)}>"
    return f"*{q.ref}* {escape(q.type)} · {escape(fit(q.subject, 60))} · {duration(q.age_hours)} · waits on {who}"


def _sla_line(b: SlaBreach) -> str:
    return f"*{b.ref}* {escape(b.type)} · {escape(fit(b.subject, 60))} · {escape(sla_text(b))}"


def _doc_line(doc: DocumentRef, updated: bool = False) -> str:
    title = escape(fit(doc.title or doc.path, 80))
    url = (doc.url or "").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    name = f"<{url}|{title}>" if url.startswith(("http://", "https://")) else title
    when = f" · updated {escape(doc.updated)}" if updated and doc.updated else ""
    return f"{name} (`{escape(fit(doc.path, 80))}`){when}"


def _list(title: str, lines: list[str], budget: int, empty: str = "None.") -> SectionBlock:
    """A titled bullet list cut to `budget` characters, ending in '…and N more' when cut."""
    budget = min(budget, MAX_SECTION)
    if not lines:
        return section(f"{title}\n{empty}")
    text, shown = title, 0
    for line in lines:
        left = len(lines) - shown - 1
        reserve = len(f"\n…and {len(lines)} more") if left else 0
        if len(text) + 3 + len(line) + reserve > budget:
            break
        text += f"\n• {line}"
        shown += 1
    if shown < len(lines):
        text += f"\n…and {len(lines) - shown} more"
    return section(text)
