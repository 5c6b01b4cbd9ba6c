"""Lock waits in the bench's database, sampled while a run goes on."""

from __future__ import annotations

import threading

from sqlalchemy import text

from bench.common import BenchDatabase


class LockSampler:
    """Samples, every ``interval`` s, this database's backends: active, and waiting for a
    heavyweight lock (``wait_event_type = 'Lock'``: advisory, tuple, transactionid, relation,
    ...), with the lock types, so that a serial section shows whichever lock it is made of."""

    SQL = text("""SELECT count(*) FILTER (WHERE state = 'active') AS active,
                         count(*) FILTER (WHERE wait_event_type = 'Lock') AS waiting,
                         coalesce(string_agg(wait_event, ',')
                                  FILTER (WHERE wait_event_type = 'Lock'), '') AS locks
                  FROM pg_stat_activity
                  WHERE datname = current_database() AND pid <> pg_backend_pid()""")

    def __init__(self, db: BenchDatabase, interval: float = 0.05) -> None:
        self.db, self.interval = db, interval
        self.samples: list[tuple[int, int]] = []
        self.by_lock: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        with self.db.engine.connect() as connection:
            while not self._stop.is_set():
                row = connection.execute(self.SQL).one()
                connection.rollback()
                self.samples.append((row.active, row.waiting))
                for lock in filter(None, row.locks.split(",")):
                    self.by_lock[lock] = self.by_lock.get(lock, 0) + 1
                self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join(5)
        n = len(self.samples)
        if not n:
            return {"samples": 0}
        return {"samples": n, "interval_s": self.interval,
                "mean_active_backends": round(sum(a for a, _ in self.samples) / n, 2),
                "mean_waiting_for_a_lock": round(sum(w for _, w in self.samples) / n, 2),
                "mean_waiting_by_lock_type": {k: round(v / n, 2) for k, v in sorted(
                    self.by_lock.items(), key=lambda kv: -kv[1])},
                "share_of_samples_with_a_waiter": round(sum(1 for _, w in self.samples if w) / n, 3)}
