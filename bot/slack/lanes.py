"""Bolt's listener pool, in two lanes: one for what Slack waits on, one for events.

Slack waits for the ack of a command, a click or a form, and Bolt acks those only once their
listener runs and calls ack(); an event is acked as soon as its listener is queued. In one shared
pool, under overload, every thread was answering questions, so a `/ospo` or a 👍 waited in the
pool's queue for an answer to finish, past Slack's 3 s, and the HTTP threads waiting with them held
up the acks of events too (bench/load.py at 100 questions/s: 7,102 of 8,400 acks over 3 s). With a
lane of their own they never queue behind an answer.

Bolt submits a listener from the HTTP thread that runs the request's middlewares, so a middleware
(`choose_lane`, the first of ours) notes per thread which lane the request's listeners take.
"""

from __future__ import annotations

import threading
from concurrent.futures import Executor, Future, ThreadPoolExecutor

from bot.config import Settings

# Threads for what Slack waits on beyond the questions that may be in progress (an `/ospo ask`, after
# its ack, answers in its lane): commands, clicks and forms are quick until they ack.
SLACK_WAITS_THREADS = 16
# Threads for events beyond the questions that may be in progress: the rest of answering a message,
# telling people the bot is busy, the other events.
OTHER_EVENT_THREADS = 24


class Lanes(Executor):
    """Bolt's listener_executor: each listener runs in its request's lane. A lane's queue has no
    bound, so each has a thread for every question that may be in progress and more besides: were
    questions to fill a lane, a command or an event would wait in its queue again."""

    def __init__(self, settings: Settings):
        questions = settings.questions_at_once  # HelpDesk.answering: in either lane
        self.slack_waits = ThreadPoolExecutor(questions + SLACK_WAITS_THREADS, thread_name_prefix="bolt-acks")
        self.events = ThreadPoolExecutor(questions + OTHER_EVENT_THREADS, thread_name_prefix="bolt-events")
        self._request = threading.local()

    def choose(self, body) -> None:
        """The lane for the listeners of the request this thread is dispatching."""
        self._request.slack_waits = not (isinstance(body, dict) and body.get("type") == "event_callback")

    def submit(self, fn, /, *args, **kwargs) -> Future:
        lane = self.slack_waits if getattr(self._request, "slack_waits", True) else self.events
        return lane.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        for lane in (self.slack_waits, self.events):
            lane.shutdown(wait=wait, cancel_futures=cancel_futures)
