"""The offline sweeper: marks silent robots offline (timeout events) even when no request
arrives, and fails the robots' commands nobody acknowledged in time (FAILED "expired").
Every robot-server process runs one, but only the holder of the database lease row
``robot-sweeper`` sweeps, so the fleet sweeps once however many processes and replicas run.
The lease lasts LEASE_S and is renewed at each pass; a holder that stops hands it back, and
when one dies another process takes it over once it lapses.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from mission_control.db import Database
from mission_control.periodic import Periodic
from mission_control.robot_models import Lease
from mission_control.timeutil import utcnow

from . import delivery, presence

log = logging.getLogger(__name__)
LEASE_NAME = "robot-sweeper"
LEASE_S = 5.0


class Sweeper(Periodic):
    """``run_once()`` is one pass (tests drive it); ``start()`` runs passes every ``period_s``
    in a daemon thread until ``stop()`` (under mc-serve: one per gunicorn worker)."""

    name = "robot-sweeper"

    def __init__(self, database: Database, timeout_s: float, period_s: float | None = None,
                 lease_s: float = LEASE_S, result_timeout_s: float | None = None) -> None:
        # Offline within timeout + 1 s: a pass at least every half second.
        super().__init__(period_s if period_s is not None else min(0.5, timeout_s / 2))
        self.database = database
        self.timeout_s = timeout_s
        self.result_timeout_s = result_timeout_s
        self.lease_s = lease_s
        self.holder = f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def holds_lease(self) -> bool:
        """Take or renew the lease; whether this sweeper holds it now."""
        now = utcnow()
        until = now + timedelta(seconds=self.lease_s)
        with self.database.transaction() as session:
            taken = session.execute(
                update(Lease).where(Lease.name == LEASE_NAME,
                                    or_(Lease.holder == self.holder, Lease.expires_at < now))
                .values(holder=self.holder, expires_at=until)).rowcount == 1
            if taken or session.get(Lease, LEASE_NAME) is not None:
                return taken
        try:
            with self.database.transaction() as session:
                session.add(Lease(name=LEASE_NAME, holder=self.holder, expires_at=until))
        except IntegrityError:  # another process created it first
            return False
        return True

    def run_once(self) -> int:
        """One pass: how many robots it marked offline (0 when another process holds the
        lease); commands past their expiry are failed in the same pass."""
        if not self.holds_lease():
            return 0
        gone = presence.sweep(self.database, self.timeout_s)
        for robot_id in gone:
            log.info("robot %s offline: no heartbeat for %ss", robot_id, self.timeout_s)
        expired = delivery.expire(self.database)
        if expired:
            log.info("%d robot commands expired unacknowledged", expired)
        if self.result_timeout_s is not None:
            lost = delivery.time_out(self.database, self.result_timeout_s)
            if lost:
                log.warning("%d robot commands failed: no result within %ss of their "
                            "acknowledgement", lost, self.result_timeout_s)
        return len(gone)

    def stopped(self) -> None:
        """Hand the lease back, so another process sweeps at once."""
        self.release()

    def release(self) -> None:
        try:
            with self.database.transaction() as session:
                session.execute(update(Lease).where(Lease.name == LEASE_NAME,
                                                    Lease.holder == self.holder)
                                .values(expires_at=utcnow()))
        except Exception:  # the database is away: the lease lapses by itself
            log.warning("could not release the sweeper's lease", exc_info=True)
