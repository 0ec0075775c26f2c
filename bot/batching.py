"""Questions that arrive together are embedded together, and a full queue says "busy".

Embedding 20 short questions as one batch takes about a third of the time of embedding them one by
one, so `Batcher.run(item)` lets each caller share the model's next call with whoever else is
waiting, and still get its own result back:

- The model idle: the first caller's item runs at once, alone (no wait when the server is quiet).
- The model busy: callers wait in a queue; when the running batch ends, the oldest waiting caller
  runs the next batch with up to `batch_size` of them (after waiting at most `window` seconds for
  that batch to fill). So the questions that arrived during one batch form the next one.
- At most `queue_size` callers wait; the next one gets `Busy` at once, instead of a queue (and a
  wait) that grows without limit when more questions arrive than the model can embed.
- An item whose batch fails is run again alone, so an error reaches only the caller it belongs to.

The work runs in a caller's thread (the one at the head of the queue), so there is no thread of
its own to start or stop. (A thread of its own for the model was tried: in `ospo-bot serve` a lone
question then took ~190 ms instead of ~35, and 20 askers got 17 answers/s instead of 43; measured
back to back with bench/slack_latency.py, cause not found. It did keep RSS lower under overload.)

Used by bot.search.embedder.Embedder for questions; `kb sync` embeds its chunks in large batches directly.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# The defaults of OSPO_EMBED_BATCH_SIZE, OSPO_EMBED_QUEUE and OSPO_EMBED_WINDOW_MS (bot/config.py),
# chosen with bench/slack_latency.py and bench/load.py (README, "Benchmarks").
# With ONNX Runtime a question costs about the same alone as in a batch of 5-10 (4.5-5.6 ms; more
# padding beyond that), so batches stay small: a question waits for at most 8 others.
BATCH_SIZE = 8
QUEUE_SIZE = 32
WINDOW_SECONDS = 0.0


class Busy(RuntimeError):
    """Too many callers already wait: try again in a moment. The message says so in plain words."""


class _Job(Generic[T, R]):
    """One caller's item, and what became of it."""

    __slots__ = ("item", "wake", "leads", "done", "result", "error")

    def __init__(self, item: T):
        self.item = item
        self.wake = threading.Event()  # set when done, or when this caller is to run the next batch
        self.leads = False
        self.done = False
        self.result: R | None = None
        self.error: BaseException | None = None

    def finish(self, result: R | None = None, error: BaseException | None = None) -> None:
        self.result, self.error, self.done = result, error, True


class Batcher(Generic[T, R]):
    """work(items) -> one result per item, in order; run(item) -> that item's result."""

    def __init__(
        self,
        work: Callable[[list[T]], Sequence[R]],
        *,
        batch_size: int = BATCH_SIZE,
        queue_size: int = QUEUE_SIZE,
        window: float = WINDOW_SECONDS,
        busy_message: str = "busy: {waiting} items are already waiting; try again in a moment",
    ):
        if batch_size < 1 or queue_size < 1 or window < 0:
            raise ValueError(
                f"batch_size and queue_size must be at least 1 and window not negative: {batch_size}, "
                f"{queue_size}, {window}"
            )
        self.work = work
        self.batch_size, self.queue_size, self.window = batch_size, queue_size, window
        self.busy_message = busy_message
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)  # a caller collecting a batch waits on it
        self._waiting: deque[_Job[T, R]] = deque()  # not yet in a batch, oldest first
        self._running = False  # a batch is being collected or run
        self.batches = 0  # batches run, and items in them: the figures say how well it batches
        self.batched = 0
        self.refused = 0

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def run(self, item: T) -> R:
        """item's result, computed in a batch with the items of callers waiting at the same time.
        Raises Busy when queue_size callers already wait, and whatever work raised for this item."""
        job: _Job[T, R] = _Job(item)
        with self._lock:
            if len(self._waiting) >= self.queue_size:
                self.refused += 1
                raise Busy(self.busy_message.format(waiting=len(self._waiting)))
            self._waiting.append(job)
            if self._running:
                self._arrived.notify()
            else:  # idle: this caller runs its item now
                self._running = job.leads = True
        idle = job.leads
        if not idle:
            job.wake.wait()
        if not job.done:  # this caller is the oldest waiting one: it runs the next batch
            self._run_batch(collect=not idle)
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]

    def _run_batch(self, collect: bool) -> None:
        with self._lock:
            if collect and self.window:  # busy: let the batch fill a little
                full = min(self.batch_size, self.queue_size)
                self._arrived.wait_for(lambda: len(self._waiting) >= full, timeout=self.window)
            batch = [self._waiting.popleft() for _ in range(min(self.batch_size, len(self._waiting)))]
            self.batches += 1
            self.batched += len(batch)
        try:
            self._complete(batch)
        finally:
            for job in batch:
                if not job.done:  # the work raised beyond Exception (e.g. KeyboardInterrupt in this thread)
                    job.finish(error=RuntimeError("the batch was interrupted; try again"))
            with self._lock:
                if self._waiting:  # hand over to the oldest waiting caller
                    head = self._waiting[0]
                    head.leads = True
                    head.wake.set()
                else:
                    self._running = False
            for job in batch:
                job.wake.set()

    def _complete(self, batch: list[_Job[T, R]]) -> None:
        try:
            results = list(self.work([job.item for job in batch]))
            if len(results) != len(batch):
                raise RuntimeError(f"the batch's work gave {len(results)} results for {len(batch)} items")
        except Exception as error:
            if len(batch) == 1:
                batch[0].finish(error=error)
            else:  # which item failed? each alone, so that only its caller gets the error
                for job in batch:
                    self._complete([job])
            return
        for job, result in zip(batch, results, strict=True):
            job.finish(result)
