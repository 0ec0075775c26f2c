"""Questions that arrive together are embedded together, and a full queue says "busy".

Embedding 20 short questions as one batch takes about a third of the time of embedding them one by
one, so `Batcher.run(item)` lets each caller share the model's next call with whoever else is
waiting, and still get its own result back:

- The model idle: the item runs at once, alone (no wait when the server is quiet).
- The model busy: callers wait in a queue; when the running batch ends, the next batch takes up to
  `batch_size` of them (after waiting at most `window` seconds for it to fill). So the questions that
  arrived during one batch form the next one.
- At most `queue_size` callers wait; the next one gets `Busy` at once, instead of a queue (and a
  wait) that grows without limit when more questions arrive than the model can embed.
- An item whose batch fails is run again alone, so an error reaches only the caller it belongs to.

The work runs in one thread of the Batcher's own (started on first use, a daemon), not in the
callers' threads: torch keeps a pool of worker threads and memory for each thread that calls it, so
running the model from any of a hundred Slack listener threads made the server's RSS climb by
hundreds of MB under load (bench/load.py). Used by bot.search.index.Embedder for questions; `kb sync`
embeds its chunks in large batches directly.
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
BATCH_SIZE = 32
QUEUE_SIZE = 32
WINDOW_SECONDS = 0.0


class Busy(RuntimeError):
    """Too many callers already wait: try again in a moment. The message says so in plain words."""


class _Job(Generic[T, R]):
    """One caller's item, and what became of it."""

    __slots__ = ("item", "done", "result", "error")

    def __init__(self, item: T):
        self.item = item
        self.done = threading.Event()
        self.result: R | None = None
        self.error: BaseException | None = None

    def finish(self, result: R | None = None, error: BaseException | None = None) -> None:
        self.result, self.error = result, error
        self.done.set()


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
        self._arrived = threading.Condition(self._lock)  # the worker waits on it for items
        self._waiting: deque[_Job[T, R]] = deque()  # not yet in a batch, oldest first
        self._worker: threading.Thread | None = None
        self._running = False  # a batch is in the work
        self._came_while_running = False  # some waiting item arrived while a batch ran: the model is busy
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
            self._came_while_running |= self._running
            if self._worker is None:
                self._worker = threading.Thread(target=self._serve, name="batcher", daemon=True)
                self._worker.start()
            self._arrived.notify()
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]

    def _serve(self) -> None:
        try:
            while True:
                batch = self._next_batch()
                try:
                    self._complete(batch)
                finally:
                    with self._lock:
                        self._running = False
        finally:  # only a BaseException ends it: the next caller starts another
            with self._lock:
                self._worker = None

    def _next_batch(self) -> list[_Job[T, R]]:
        """The next batch: at once when items wait (the first of a quiet spell runs alone, and
        those that came during a batch go together), else as soon as one arrives."""
        with self._lock:
            self._arrived.wait_for(lambda: self._waiting)
            if self.window and self._came_while_running and len(self._waiting) < self.batch_size:
                self._arrived.wait_for(lambda: len(self._waiting) >= self.batch_size, timeout=self.window)
            batch = [self._waiting.popleft() for _ in range(min(self.batch_size, len(self._waiting)))]
            self._running, self._came_while_running = True, bool(self._waiting)
            self.batches += 1
            self.batched += len(batch)
        return batch

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
        except BaseException as error:  # e.g. SystemExit: no caller may wait for ever
            for job in batch:
                job.finish(error=RuntimeError(f"the batch was interrupted ({type(error).__name__}); try again"))
            raise
        for job, result in zip(batch, results, strict=True):
            job.finish(result)
