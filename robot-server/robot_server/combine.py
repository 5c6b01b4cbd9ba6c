"""Many requests' statements run as one (group commit), so a fleet's storm costs a few
statements instead of one per robot.

When a fleet-wide command reaches 2,000 robots, each robot's long poll wakes, acknowledges
and reports at about the same moment: one statement each kept the process's few pooled
connections (DB_POOL_SIZE) busy, and under gevent a connection stays checked out while its
greenlet waits for the CPU, so requests queued for seconds behind one another. A
``Combiner`` lets the calls that arrive while a batch runs wait for the next batch, and runs
that batch with one call of ``run``: batches grow with the load and one request alone runs
at once (there is no deliberate delay).

No thread of its own: the first caller to find no batch running leads, runs the batch of
everyone waiting (itself included), then hands the lead to the first caller that arrived
meanwhile. Under gunicorn's gevent worker the lock and events are gevent's (monkey-patched).
"""

from __future__ import annotations

import threading
from typing import Callable, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_BATCH = 200  # items per call of ``run`` (two bound parameters each, at most)


class _Slot(Generic[T, R]):
    __slots__ = ("item", "result", "error", "done", "lead")

    def __init__(self, item: T) -> None:
        self.item = item
        self.result: R | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.lead = False


class Combiner(Generic[T, R]):
    """``combiner(item)`` returns ``run([... item ...])``'s result for that item; ``run``
    takes a list of items and returns their results in the same order. When ``run``
    raises, every call of that batch raises the same error."""

    def __init__(self, run: Callable[[list[T]], list[R]], max_batch: int = MAX_BATCH) -> None:
        self._run = run
        self._max = max_batch
        self._lock = threading.Lock()
        self._waiting: list[_Slot[T, R]] = []
        self._running = False

    def __call__(self, item: T) -> R:
        slot: _Slot[T, R] = _Slot(item)
        with self._lock:
            self._waiting.append(slot)
            slot.lead = not self._running
            self._running = True
        if not slot.lead:
            slot.done.wait()
        if slot.lead:  # first in, or handed the lead by the batch before
            self._lead()
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _lead(self) -> None:
        with self._lock:
            batch, self._waiting = self._waiting[:self._max], self._waiting[self._max:]
        try:
            results = self._run([slot.item for slot in batch])
        except BaseException as error:  # noqa: BLE001 - each caller raises it
            for slot in batch:
                slot.error = error
        else:
            for slot, result in zip(batch, results):
                slot.result = result
        with self._lock:
            following = self._waiting[0] if self._waiting else None
            if following is None:
                self._running = False
            else:
                following.lead = True
        for slot in batch:
            slot.lead = False
            slot.done.set()
        if following is not None:
            following.done.set()
