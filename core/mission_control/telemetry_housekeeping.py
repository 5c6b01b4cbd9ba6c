"""Telemetry housekeeping: keep the partitions of the coming days ready and drop the points
older than TELEMETRY_RETENTION_DAYS. The command-sender runs it (``Housekeeping``, a thread
beside its worker loop): one process of the system that is always running and never
answers a request, so no request ever waits for a DROP TABLE. Several command-senders take
turns (telemetry_partitions.take_turn); passes are idempotent.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from .db import Database
from .periodic import Periodic
from .telemetry_partitions import delete_older_sqlite, drop_older, ensure_ahead
from .timeutil import utcnow

log = logging.getLogger(__name__)

EVERY_S = 600.0  # a day's partition is made a week ahead: passes need not be frequent


def housekeep(database: Database, retention_days: int,
              now: datetime | None = None) -> dict[str, Any]:
    """One pass: create the partitions of today and the next days (PostgreSQL), then drop or
    delete what is older than the retention. Logs what it changed; returns it."""
    now = now or utcnow()
    cutoff = now - timedelta(days=retention_days)
    created: list[str] = []
    dropped: list[str] = []
    if database.is_postgresql:
        with database.begin() as connection:
            created = ensure_ahead(connection, now.date())
        with database.begin() as connection:
            dropped, deleted = drop_older(connection, cutoff)
    else:
        deleted = delete_older_sqlite(database, cutoff)
    if created:
        log.info("telemetry: created partitions %s", ", ".join(created))
    if dropped or deleted:
        log.info("telemetry: retention %d days (before %s): dropped partitions %s, deleted %d "
                 "points", retention_days, cutoff.isoformat(timespec="seconds"),
                 ", ".join(dropped) or "none", deleted)
    return {"created": created, "dropped": dropped, "deleted": deleted}


class Housekeeping(Periodic):
    """``housekeep`` at start and every ``period_s`` in a daemon thread."""

    name = "telemetry-housekeeping"

    def __init__(self, database: Database, retention_days: int, period_s: float = EVERY_S) -> None:
        super().__init__(period_s)
        self.database = database
        self.retention_days = retention_days

    def run_once(self) -> dict[str, Any]:
        return housekeep(self.database, self.retention_days)

    def start(self) -> None:
        try:
            self.run_once()
        except Exception:  # the database is away: the thread tries again
            log.exception("%s: the first pass failed; trying again in %ss", self.name,
                          self.period_s)
        super().start()
