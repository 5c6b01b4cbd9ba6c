"""The worker's SQL: draw transmit times, claim due commands under a lease, release them.

A row tells what happens to it next (docs/lifecycle.md, "How the worker schedules a command"):

| status       | lease_owner | next_step_at | what happens next                                  |
|--------------|-------------|--------------|----------------------------------------------------|
| READY        | -           | NULL         | (transmit_at NULL) ``schedule_new`` draws its time  |
| READY        | -           | t            | at t it is claimed, moved to TRANSMITTED and sent   |
|              |             |              | (its target's passes: or moved to the next pass)    |
| READY        | -           | NULL         | (transmit_at set) waits for a pass not yet planned; |
|              |             |              | a PUT of its target's passes reschedules it         |
| TRANSMITTED  | -           | t            | at t it is sent again (a send failed; backoff)      |
| ACKNOWLEDGED | -           | t            | at t the target is asked how far it got             |
| ACKNOWLEDGED | -           | t            | (verifying_since set: the target reported EXECUTED) |
|              |             |              | at t the telemetry is checked (verification.py)     |
| any active   | w           | any          | worker w does the step; after lease_expires_at,    |
|              |             |              | anyone may take it over and redo it                 |
| final        | -           | NULL         | nothing, ever                                       |

A claim is one UPDATE of the rows picked by a sub-select, RETURNING what the step needs. On
PostgreSQL the sub-select takes ``FOR UPDATE SKIP LOCKED`` so replicas claim disjoint rows
without waiting on each other; SQLite runs one writer at a time (the engine begins every
transaction IMMEDIATE), which gives the same guarantee.
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, literal, select, update
from sqlalchemy.orm import Session

from mission_control.models import Target, Telecommand
from mission_control.status import ACTIVE, Status
from mission_control.timeutil import utcnow

log = logging.getLogger("command_sender.claims")

ACTIVE_VALUES = sorted(s.value for s in ACTIVE)
RELEASED = {"attempts": 0, "lease_owner": None, "lease_expires_at": None}
TABLE = Telecommand.__table__
# What a claim returns: the command, and its target's kind (a correlated sub-select, so the
# claim stays one statement on both databases).
RETURNED = (TABLE.c.id, TABLE.c.status, TABLE.c.target_id, TABLE.c.module_id,
            TABLE.c.command_name, TABLE.c.args, TABLE.c.attempts, TABLE.c.confirmed_by,
            TABLE.c.request_id, TABLE.c.transmit_at, TABLE.c.verifying_since,
            select(Target.kind).where(Target.id == TABLE.c.target_id)
            .scalar_subquery().label("target_kind"))


@dataclass(frozen=True)
class Claimed:
    """A leased command with everything its step needs, the target's kind included."""

    id: uuid.UUID
    status: Status
    target_id: str
    target_kind: str | None
    module_id: str | None
    command_name: str
    args: dict[str, Any]
    attempts: int
    confirmed_by: str | None = None  # who confirmed a hazardous command on ground
    request_id: str | None = None  # the X-Request-ID of the call that created it on ground
    transmit_at: datetime | None = None  # when it was due to go (mc_pickup_latency_seconds)
    verifying_since: datetime | None = None  # set: the loop checks telemetry, not the target

    def uplink_body(self) -> dict[str, Any]:
        """The command as the uplink protocol carries it (a target refuses a hazardous
        command that does not name who confirmed it)."""
        return {"id": str(self.id), "command_name": self.command_name, "args": self.args,
                "target": self.target_id, "module_id": self.module_id,
                "confirmed_by": self.confirmed_by}


def schedule_new(session: Session, max_delay_s: float, limit: int,
                 rng: random.Random | None = None) -> int:
    """Give READY commands that have none a transmit time: now + uniform(0, max_delay_s), or
    their ``not_before`` when that is later.

    The command stays READY (and cancellable) until then; no thread sleeps for it.
    """
    rng = rng or random.Random()
    # The status is rendered inline so both databases match it to the partial index
    # ix_telecommands_unscheduled (a bound parameter would hide the match from SQLite).
    pick = (select(TABLE.c.id, TABLE.c.not_before)
            .where(TABLE.c.status == literal(Status.READY.value, literal_execute=True),
                   TABLE.c.transmit_at.is_(None))
            .order_by(TABLE.c.created_at)
            .limit(limit).with_for_update(skip_locked=True))
    rows = session.execute(pick).all()
    if not rows:
        return 0
    now = utcnow()
    unscheduled = TABLE.c.transmit_at.is_(None)
    if max_delay_s == 0 and all(r.not_before is None or r.not_before <= now for r in rows):
        # one statement instead of one per command
        session.execute(update(TABLE).where(TABLE.c.id.in_([r.id for r in rows]), unscheduled)
                        .values(transmit_at=now, next_step_at=now))
        return len(rows)
    times = [(r.id, max(now + timedelta(seconds=rng.uniform(0, max_delay_s)),
                        r.not_before or now)) for r in rows]
    session.connection().execute(
        update(TABLE).where(TABLE.c.id == bindparam("v_id"), unscheduled)
        .values(transmit_at=bindparam("v_at"), next_step_at=bindparam("v_at")),
        [{"v_id": cid, "v_at": at} for cid, at in times])
    return len(rows)


def claim_due(session: Session, worker_id: str, limit: int, lease_s: float, *,
              take_over: bool = True) -> list[Claimed]:
    """Lease up to ``limit`` active commands whose next step is due, and (with ``take_over``)
    those whose lease expired.

    An expired lease means its holder died (or was cut off) mid-step: the step is redone, which
    is safe because status changes are conditional and targets execute an id at most once.
    """
    now = utcnow()
    lease = {"lease_owner": worker_id, "lease_expires_at": now + timedelta(seconds=lease_s)}
    active = TABLE.c.status.in_(ACTIVE_VALUES)
    rows = []
    if take_over:
        expired = (select(TABLE.c.id)
                   .where(TABLE.c.lease_owner.is_not(None), TABLE.c.lease_expires_at <= now,
                          active)
                   .limit(limit).with_for_update(skip_locked=True))
        rows = session.execute(update(TABLE).where(TABLE.c.id.in_(expired.scalar_subquery()))
                               .values(**lease).returning(*RETURNED)).all()
        if rows:
            log.warning("worker %s takes over %d commands whose lease expired", worker_id,
                        len(rows))
    if len(rows) < limit:
        due = (select(TABLE.c.id)
               .where(TABLE.c.lease_owner.is_(None), TABLE.c.next_step_at <= now, active)
               .order_by(TABLE.c.next_step_at).limit(limit - len(rows))
               .with_for_update(skip_locked=True))
        rows += session.execute(update(TABLE).where(TABLE.c.id.in_(due.scalar_subquery()))
                                .values(**lease).returning(*RETURNED)).all()
    return [Claimed(r.id, Status(r.status), r.target_id, r.target_kind, r.module_id,
                    r.command_name, r.args or {}, r.attempts, r.confirmed_by, r.request_id,
                    transmit_at=r.transmit_at, verifying_since=r.verifying_since)
            for r in rows]


def reschedule(session: Session, worker_id: str,
               changes: list[tuple[Claimed, datetime, int]]) -> None:
    """Release commands we still hold, each to be taken up again at its next step time.

    ``changes`` holds (command, next_step_at, attempts); a command whose status or owner
    changed meanwhile (taken over after our lease expired) is left as it is.
    """
    if not changes:
        return
    session.connection().execute(
        update(TABLE)
        .where(TABLE.c.id == bindparam("v_id"), TABLE.c.status == bindparam("v_status"),
               TABLE.c.lease_owner == worker_id)
        .values(next_step_at=bindparam("v_next"), attempts=bindparam("v_attempts"),
                lease_owner=None, lease_expires_at=None),
        [{"v_id": c.id, "v_status": c.status.value, "v_next": at, "v_attempts": attempts}
         for c, at, attempts in changes])


def release_all(session: Session, worker_id: str) -> int:
    """Drop every lease this worker holds (on a clean stop), so others need not wait them out.

    The steps were not finished, so they are due again at once.
    """
    result = session.execute(
        update(TABLE).where(TABLE.c.lease_owner == worker_id)
        .values(lease_owner=None, lease_expires_at=None,
                next_step_at=func.coalesce(TABLE.c.next_step_at, utcnow())))
    return result.rowcount


def next_wakeup(session: Session) -> datetime | None:
    """The earliest time any command needs attention: a next step, a lease running out, or a
    READY command's expires_at."""
    step = (select(func.min(TABLE.c.next_step_at))
            .where(TABLE.c.lease_owner.is_(None), TABLE.c.next_step_at.is_not(None)))
    lease = select(func.min(TABLE.c.lease_expires_at)).where(TABLE.c.lease_owner.is_not(None))
    expiry = select(func.min(TABLE.c.expires_at)).where(  # literal: the partial index
        TABLE.c.status == literal(Status.READY.value, literal_execute=True),
        TABLE.c.expires_at.is_not(None))
    times = session.execute(select(step.scalar_subquery(), lease.scalar_subquery(),
                                   expiry.scalar_subquery())).one()
    return min((t for t in times if t is not None), default=None)
