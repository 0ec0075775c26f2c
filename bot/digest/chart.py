"""The digest's chart: requests and questions per week as bars, the median turnaround as a line,
drawn by matplotlib's Agg canvas (no display needed)."""

from __future__ import annotations

import io
import math

from bot.digest.approvals import turnaround
from bot.digest.questions import ASKED
from bot.digest.weeks import Week, week_of

CHART_SIZE = (1200, 600)  # pixels
CHART_WEEKS = 12


def weekly_series(db, week: Week, weeks: int = CHART_WEEKS) -> list[tuple[Week, int, int, float | None]]:
    """(week, requests received, questions asked, median turnaround hours) for the `weeks` weeks ending
    with `week`, oldest first."""
    series = []
    for back in range(weeks - 1, -1, -1):
        w = week.shift(-back)
        s, e = w.bounds
        requests = db.execute(
            "SELECT COUNT(*) FROM approval_requests WHERE created_at >= ? AND created_at < ?", [s, e]
        ).fetchone()[0]
        asked = db.execute(f"SELECT COUNT(*) FROM questions WHERE {ASKED}", [s, e]).fetchone()[0]
        series.append((w, requests, asked, turnaround(db, w).median_hours))
    return series


def chart_png(db, week: Week, tz: str | None = None, *, weeks: int = CHART_WEEKS) -> bytes:
    """A PNG (CHART_SIZE pixels) of the `weeks` weeks ending with `week`: requests and questions per week
    as bars, the median turnaround to first decision as a line. Matplotlib's Agg canvas, no display needed."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    week = week_of(week, tz or week.tz)
    series = weekly_series(db, week, weeks)
    labels = [f"W{w.number:02d}\n{w.monday.day} {w.monday:%b}" for w, *_ in series]
    requests = [r for _, r, _, _ in series]
    questions = [q for _, _, q, _ in series]
    medians = [m for *_, m in series]
    in_days = any(m is not None and m >= 48 for m in medians)
    turn = [math.nan if m is None else (m / 24 if in_days else m) for m in medians]

    dpi = 100
    fig = Figure(figsize=(CHART_SIZE[0] / dpi, CHART_SIZE[1] / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = list(range(len(series)))
    width = 0.38
    ax.bar([i - width / 2 for i in x], requests, width, label="Approval requests", color="#4C72B0")
    ax.bar([i + width / 2 for i in x], questions, width, label="Questions", color="#55A868")
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylabel("per week")
    ax.set_ylim(bottom=0, top=max([*requests, *questions, 4]) * 1.15)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", alpha=0.3)
    ax2 = ax.twinx()
    ax2.plot(x, turn, color="#C44E52", marker="o", linewidth=2, label="Median turnaround")
    ax2.set_ylabel(f"median turnaround to first decision ({'days' if in_days else 'hours'})")
    finite = [t for t in turn if not math.isnan(t)]
    ax2.set_ylim(bottom=0, top=(max(finite) * 1.25) if finite else 1)
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper left", fontsize=9)
    ax.set_title(f"OSPO: the {len(series)} weeks to {week.label} ({week.tz})")
    fig.subplots_adjust(left=0.06, right=0.93, top=0.92, bottom=0.13)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
