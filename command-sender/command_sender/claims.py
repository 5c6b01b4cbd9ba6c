"""The worker's SQL: draw transmit times, claim due commands under a lease, release them.

A claim is one statement: an UPDATE of the rows picked by a sub-select, RETURNING what the
worker needs. On PostgreSQL the sub-select takes ``FOR UPDATE SKIP LOCKED`` so replicas claim
disjoint rows without waiting on each other; SQLite runs one writer at a time (the engine
begins every transaction IMMEDIATE), which gives the same guarantee.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, literal, select, update
from sqlalchemy.orm import Session

from mission_control.status import ACTIVE, Status
from mission_control.models import Target, Telecommand
from mission_control.timeutil import utcnow

ACTIVE_VALUES = sorted(s.value for s in ACTIVE)


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    status: Status
    target_id: str
    module_id: str | None
    command_name: str
    args: dict[str, Any]
    attempts: int


def schedule_new(session: Session, max_delay_s: float, limit: int,
                 rng: random.Random | None = None) -> int:
    """Give READY commands that have none a transmit time: now + uniform(0, max_delay_s).

    The command stays READY (and cancellable) until then; no thread sleeps for it.
    """
    rng = rng or random.Random()
    # The status is rendered inline so both databases match it to the partial index
    # ix_telecommands_unscheduled (a bound parameter would hide the match from SQLite).
    pick = (select(Telecommand.id)
            .where(Telecommand.status == literal(Status.READY.value, literal_execute=True),
                   Telecommand.due_at.is_(None))
            .order_by(Telecommand.created_at)
            .limit(limit).with_for_update(skip_locked=True))
    ids = session.scalars(pick).all()
    if not ids:
        return 0
    now = utcnow()
    session.connection().execute(
        update(Telecommand.__table__)
        .where(Telecommand.__table__.c.id == bindparam("cid"),
               Telecommand.__table__.c.due_at.is_(None))
        .values(due_at=bindparam("due")),
        [{"cid": cid, "due": now + timedelta(seconds=rng.uniform(0, max_delay_s))} for cid in ids],
    )
    return len(ids)


def claim_due(session: Session, worker_id: str, limit: int, lease_s: float) -> list[Claimed]:
    """Lease up to ``limit`` active commands whose next step is due.

    The lease moves the row's due time to the lease's expiry: a held row is simply not due,
    so claims never wade through rows other workers hold, and a dead worker's rows become
    due again on their own when the lease runs out.
    """
    now = utcnow()
    until = now + timedelta(seconds=lease_s)
    table = Telecommand.__table__
    due = (select(table.c.id)
           .where(table.c.due_at <= now, table.c.status.in_(ACTIVE_VALUES))
           .order_by(table.c.due_at).limit(limit)
           .with_for_update(skip_locked=True))
    rows = session.execute(
        update(table).where(table.c.id.in_(due.scalar_subquery()))
        .values(lease_owner=worker_id, lease_expires_at=until, due_at=until)
        .returning(table.c.id, table.c.status, table.c.target_id, table.c.module_id,
                   table.c.command_name, table.c.args, table.c.attempts)
    ).all()
    return [Claimed(r.id, Status(r.status), r.target_id, r.module_id, r.command_name,
                    r.args or {}, r.attempts) for r in rows]


def reschedule(session: Session, worker_id: str,
               changes: list[tuple[Claimed, datetime, int]]) -> None:
    """Release commands we still hold, each to be taken up again at its due time.

    ``changes`` holds (command, due_at, attempts); a command whose status or owner changed
    meanwhile (taken over after our lease expired) is left as it is.
    """
    if not changes:
        return
    table = Telecommand.__table__
    session.connection().execute(
        update(table)
        .where(table.c.id == bindparam("v_id"), table.c.status == bindparam("v_status"),
               table.c.lease_owner == worker_id)
        .values(due_at=bindparam("v_due"), attempts=bindparam("v_attempts"),
                lease_owner=None, lease_expires_at=None),
        [{"v_id": c.id, "v_status": c.status.value, "v_due": due, "v_attempts": attempts}
         for c, due, attempts in changes])


def release_all(session: Session, worker_id: str) -> int:
    """Drop every lease this worker holds (on a clean stop), so others need not wait them out."""
    result = session.execute(
        update(Telecommand).where(Telecommand.lease_owner == worker_id)
        .values(lease_owner=None, lease_expires_at=None, due_at=utcnow())
        .execution_options(synchronize_session=False))
    return result.rowcount


def next_due(session: Session) -> datetime | None:
    """The earliest time any command needs attention (its next step or its lease expiry)."""
    return session.scalar(select(func.min(Telecommand.due_at)))


def target_kinds(session: Session) -> dict[str, str]:
    return {target_id: kind for target_id, kind in session.execute(select(Target.id, Target.kind))}
