"""Where a worker's time goes: counters its loop and step threads add to, logged now and then.

``db_s`` is time in database passes (loop thread), ``http_s`` time in uplink calls (summed
over step threads, so it can exceed the wall time), ``idle_s`` time the loop waited for work.
The bench reads the totals line each worker logs when it stops.
"""

from __future__ import annotations

import logging
import threading
import time

LOG_EVERY_S = 10.0
FIELDS = ("passes", "db_s", "claimed", "batches", "sent", "asked", "http_s", "recorded", "idle_s")


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals = dict.fromkeys(FIELDS, 0.0)
        self._window = dict.fromkeys(FIELDS, 0.0)
        self._window_started = time.monotonic()

    def add(self, name: str, amount: float) -> None:
        with self._lock:
            self._totals[name] += amount
            self._window[name] += amount

    def totals(self) -> str:
        with self._lock:
            return _render(self._totals)

    def maybe_log(self, log: logging.Logger, worker_id: str) -> None:
        """Every LOG_EVERY_S, one line with the window's figures (when anything happened)."""
        now = time.monotonic()
        if now - self._window_started < LOG_EVERY_S:
            return
        with self._lock:
            window, self._window = self._window, dict.fromkeys(FIELDS, 0.0)
            elapsed, self._window_started = now - self._window_started, now
        if window["claimed"] or window["recorded"]:
            log.info("worker %s: last %.0fs: %s", worker_id, elapsed, _render(window))


def _render(values: dict[str, float]) -> str:
    return " ".join(f"{name}={values[name]:.3f}" if name.endswith("_s") else
                    f"{name}={int(values[name])}" for name in FIELDS)
