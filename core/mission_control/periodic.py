"""A background task that runs one pass every so often in a daemon thread (a greenlet under
gevent), from ``start()`` to ``stop()``: mc-serve starts and stops each worker's tasks
(``app.extensions["background_tasks"]``). A pass that fails is logged; the next one tries
again."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class Periodic:
    """Subclasses give ``name`` and ``run_once()``, and may do last work in ``stopped()``
    (after the thread has ended: write what is held, hand a lease back)."""

    name = "periodic"

    def __init__(self, period_s: float) -> None:
        self.period_s = period_s
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def run_once(self) -> object:
        raise NotImplementedError

    def stopped(self) -> None:
        """Called by ``stop()`` once the thread has ended."""

    def start(self) -> None:
        if self._thread is None and self.period_s > 0:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.stopped()

    def _loop(self) -> None:
        while not self._stopping.wait(self.period_s):
            try:
                self.run_once()
            except Exception:  # the database is away for a moment: the next pass tries again
                log.exception("%s: a pass failed; trying again in %ss", self.name, self.period_s)
