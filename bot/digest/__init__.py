"""The weekly digest: what happened in one ISO week, as figures computed by plain SQL over SQLite.

Plain Python, nothing here knows Slack (the Slack adapter, slack/blocks/digest.py, renders a Digest):

    week = week_of("2026-W47", "Europe/Berlin")     # or week_of(None, tz): the last complete week
    digest = compute(db, week, policy, settings)    # a Digest dataclass of figures
    print(render_text(digest))
    png = chart_png(db, week, "Europe/Berlin")      # the last 12 weeks, 1200x600 pixels

weeks: ISO weeks and business days; figures: the Digest and compute, with approvals (the requests'
figures) and questions (near-duplicates grouped); text: the terminal text; chart: the PNG.
"""

from bot.digest.approvals import (
    OUTCOMES,
    QueueItem,
    SlaBreach,
    Turnaround,
    UpstreamItem,
    percentile,
    sla_breaches,
    turnaround,
)
from bot.digest.chart import CHART_SIZE, CHART_WEEKS, chart_png, weekly_series
from bot.digest.figures import OLDEST_SHOWN, TOP_QUESTIONS, UNUSED_DAYS, Digest, DocumentRef, compute
from bot.digest.questions import QuestionGroup, group_questions, normalise, similar
from bot.digest.text import (
    duration,
    outcomes_text,
    question_line,
    received_text,
    render_text,
    share,
    sla_text,
    turnaround_text,
)
from bot.digest.weeks import Week, business_days, week_of

__all__ = [
    "CHART_SIZE",
    "CHART_WEEKS",
    "OLDEST_SHOWN",
    "OUTCOMES",
    "TOP_QUESTIONS",
    "UNUSED_DAYS",
    "Digest",
    "DocumentRef",
    "QuestionGroup",
    "QueueItem",
    "SlaBreach",
    "Turnaround",
    "UpstreamItem",
    "Week",
    "business_days",
    "chart_png",
    "compute",
    "duration",
    "group_questions",
    "normalise",
    "outcomes_text",
    "percentile",
    "question_line",
    "received_text",
    "render_text",
    "share",
    "similar",
    "sla_breaches",
    "sla_text",
    "turnaround",
    "turnaround_text",
    "week_of",
    "weekly_series",
]
