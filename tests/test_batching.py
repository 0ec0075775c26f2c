"""Questions embedded in batches (bot/batching.py): what arrives while the model is busy shares its
next call, each caller gets its own result, a full queue says "busy" at once, and an error reaches
only the caller whose item caused it. Made deterministic with events, never with sleeps: a batch is
held inside the work until the test lets it go."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from bot.batching import Batcher, Busy
from bot.config import ConfigError, load_settings
from bot.search import embedder as embedder_module
from bot.search.embedder import Embedder
from tests.conftest import wait_until

WAIT = 60  # seconds: only a guard against a hang; nothing here is timed


class HeldWork:
    """work(items) that records each batch, holds the first one until release(), and answers
    item -> item.upper(); an item containing "bad" makes the whole batch fail."""

    def __init__(self, hold_first: bool = True):
        self.batches: list[list[str]] = []
        self.started = threading.Event()  # the first batch is inside the work
        self.gate = threading.Event()
        if not hold_first:
            self.gate.set()

    def __call__(self, items: list[str]) -> list[str]:
        self.batches.append(list(items))
        self.started.set()
        assert self.gate.wait(WAIT), "the test never released the first batch"
        if any("bad" in item for item in items):
            raise ValueError(f"cannot do {[i for i in items if 'bad' in i]}")
        return [item.upper() for item in items]

    def release(self) -> None:
        self.gate.set()


class Caller(threading.Thread):
    """One caller of batcher.run(item), keeping what it got: its result or its exception."""

    def __init__(self, batcher: Batcher, item: str):
        super().__init__(daemon=True)
        self.batcher, self.item = batcher, item
        self.result: str | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.batcher.run(self.item)
        except BaseException as error:  # noqa: BLE001 (kept for the test to look at)
            self.error = error

    def outcome(self):
        self.join(WAIT)
        assert not self.is_alive(), f"{self.item!r} never came back"
        return self.error or self.result


def start(batcher: Batcher, *items: str) -> list[Caller]:
    callers = [Caller(batcher, item) for item in items]
    for caller in callers:
        caller.start()
    return callers


def hold_a_batch(batcher: Batcher, work: HeldWork) -> Caller:
    """A first caller whose batch is now running, held inside the work: the model is busy."""
    (first,) = start(batcher, "first")
    assert work.started.wait(WAIT)
    return first


def waiting(batcher: Batcher, n: int) -> None:
    wait_until(lambda: batcher.waiting == n, WAIT, f"{n} callers waiting")


def test_an_idle_batcher_runs_the_first_item_at_once_alone_without_waiting_for_a_window():
    work = HeldWork(hold_first=False)
    batcher = Batcher(work, window=3600)  # an hour: waiting for it would hang the test
    (caller,) = start(batcher, "alone")
    assert caller.outcome() == "ALONE"
    assert work.batches == [["alone"]]


def test_items_arriving_while_a_batch_runs_form_the_next_batch_and_each_caller_gets_its_own_result():
    work = HeldWork()
    batcher = Batcher(work, batch_size=8, queue_size=16)
    first = hold_a_batch(batcher, work)
    items = [f"q{n}" for n in range(8)]
    callers = start(batcher, *items)
    waiting(batcher, 8)
    work.release()

    assert first.outcome() == "FIRST"
    assert {c.item: c.outcome() for c in callers} == {item: item.upper() for item in items}
    assert work.batches[0] == ["first"]
    assert sorted(work.batches[1]) == items  # all eight in one call of the work
    assert len(work.batches) == 2 and (batcher.batches, batcher.batched) == (2, 9)


def test_a_batch_is_bounded_and_the_rest_go_in_order_in_the_next():
    work = HeldWork()
    batcher = Batcher(work, batch_size=3, queue_size=16)
    hold_a_batch(batcher, work)
    callers = []
    for n in range(7):  # one at a time, so that the queue's order is known
        callers += start(batcher, f"q{n}")
        waiting(batcher, n + 1)
    work.release()

    assert [c.outcome() for c in callers] == [f"Q{n}" for n in range(7)]
    assert work.batches == [["first"], ["q0", "q1", "q2"], ["q3", "q4", "q5"], ["q6"]]


def test_a_full_batch_does_not_wait_for_the_window():
    work = HeldWork()
    batcher = Batcher(work, batch_size=4, queue_size=8, window=3600)
    hold_a_batch(batcher, work)
    callers = start(batcher, "a", "b", "c", "d")
    waiting(batcher, 4)
    work.release()
    assert sorted(c.outcome() for c in callers) == ["A", "B", "C", "D"]


def test_a_full_queue_refuses_at_once_with_busy_and_takes_callers_again_once_it_drains():
    work = HeldWork()
    batcher = Batcher(work, batch_size=8, queue_size=3, busy_message="busy: {waiting} waiting, try again")
    first = hold_a_batch(batcher, work)
    queued = start(batcher, "a", "b", "c")
    waiting(batcher, 3)

    with pytest.raises(Busy, match="busy: 3 waiting, try again"):
        batcher.run("one too many")  # in this thread: it must come back at once, not wait
    assert batcher.refused == 1

    work.release()
    assert [first.outcome(), *(c.outcome() for c in queued)] == ["FIRST", "A", "B", "C"]
    assert batcher.run("later") == "LATER"
    assert ["one too many"] not in work.batches


def test_an_error_reaches_only_the_caller_whose_item_caused_it():
    work = HeldWork()
    batcher = Batcher(work, batch_size=8)
    hold_a_batch(batcher, work)
    callers = start(batcher, "ok1", "bad", "ok2")
    waiting(batcher, 3)
    work.release()

    outcomes = {c.item: c.outcome() for c in callers}
    assert outcomes["ok1"] == "OK1" and outcomes["ok2"] == "OK2"
    assert isinstance(outcomes["bad"], ValueError) and "bad" in str(outcomes["bad"])
    assert batcher.run("next") == "NEXT"  # not stuck after a failure


def test_work_that_gives_the_wrong_number_of_results_is_an_error_not_a_mixup():
    batcher = Batcher(lambda items: ["only one"] * (len(items) + 1))
    with pytest.raises(RuntimeError, match="2 results for 1 items"):
        batcher.run("x")


def test_a_failing_first_item_is_raised_to_its_caller_and_the_next_caller_still_runs():
    def work(items):
        if items == ["boom"]:
            raise OSError("disk on fire")
        return [len(i) for i in items]

    batcher = Batcher(work)
    with pytest.raises(OSError, match="disk on fire"):
        batcher.run("boom")
    assert batcher.run("four") == 4


# -- the real model -----------------------------------------------------------------------
QUESTIONS = [
    "can I fix a typo in an Apache 2 project?",
    "do I need approval to sign a CLA?",
    "is AGPL allowed in our SaaS?",
    "how do I sign off my commits?",
    "who decides on releasing a project?",
    "may I use GPL code in an internal tool?",
]


def test_questions_embedded_together_get_the_vectors_they_get_alone(model_name):
    """The real model: while one question holds it, the rest queue and go in one batch; each caller
    gets its own question's vector (the one it gets embedded alone), not a neighbour's."""
    embedder = Embedder(model_name, batch_size=16, queue_size=16)
    alone = {q: np.array(embedder.encode([q])[0]) for q in QUESTIONS}
    calls_before = embedder.questions.batches

    with embedder_module._ENCODE_LOCK:  # the model is busy: the first caller's batch waits for it
        callers = [Caller(embedder.questions, QUESTIONS[0])]
        callers[0].start()
        wait_until(lambda: embedder.questions.batches == calls_before + 1, WAIT, "the first batch to start")
        callers += start(embedder.questions, *QUESTIONS[1:])
        waiting(embedder.questions, len(QUESTIONS) - 1)

    for caller in callers:
        vector = np.array(caller.outcome())
        assert np.allclose(vector, alone[caller.item], atol=1e-5), caller.item
    assert embedder.questions.batches == calls_before + 2  # the first alone, the other five together


def test_a_busy_model_refuses_a_question_instead_of_answering_it_from_keyword_search(make_kb, small_kb_dir):
    """Library callers get batching.Busy with what to do, not a weaker, degraded answer."""
    kb = make_kb(small_kb_dir, OSPO_EMBED_QUEUE="1")
    kb.sync()
    batcher = kb.index.embedder.questions
    with embedder_module._ENCODE_LOCK:
        asking = [threading.Thread(target=kb.ask, args=("how do I sign off my commits?",), daemon=True)]
        asking[0].start()
        wait_until(lambda: batcher.batches == 1, WAIT, "the first question to reach the model")
        asking.append(threading.Thread(target=kb.ask, args=("is AGPL allowed in SaaS?",), daemon=True))
        asking[1].start()
        waiting(batcher, 1)
        with pytest.raises(Busy, match=r"busy: 1 questions are already waiting .*OSPO_EMBED_QUEUE.*try again"):
            kb.ask("can I fix a typo?")
    for thread in asking:
        thread.join(WAIT)
    assert kb.db["questions"].count == 2  # the refused one was not recorded as asked


@pytest.mark.parametrize(
    "variable, value, said",
    [
        ("OSPO_EMBED_QUEUE", "0", "OSPO_EMBED_QUEUE (got '0')"),
        ("OSPO_EMBED_BATCH_SIZE", "lots", "OSPO_EMBED_BATCH_SIZE (got 'lots')"),
        ("OSPO_EMBED_WINDOW_MS", "-1", "OSPO_EMBED_WINDOW_MS (got '-1')"),
    ],
)
def test_bad_bounds_stop_the_start_naming_the_variable(monkeypatch, variable, value, said):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert said in str(error.value) and "default" in str(error.value)


def test_the_bounds_reach_the_embedder(make_kb, small_kb_dir):
    kb = make_kb(small_kb_dir, OSPO_EMBED_BATCH_SIZE="5", OSPO_EMBED_QUEUE="7", OSPO_EMBED_WINDOW_MS="2")
    batcher = kb.index.embedder.questions
    assert (batcher.batch_size, batcher.queue_size, batcher.window) == (5, 7, 0.002)
