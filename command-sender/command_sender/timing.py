"""Time tags and contact windows in the worker's pass (docs/lifecycle.md, "Time tags and
contact windows"); the rules themselves are in mission_control.passes.

  expire    READY commands whose expires_at has come end FAILED "expired": one conditional
            UPDATE for all of them (lifecycle.transition_many), before anything is claimed,
            so an expired command is never transmitted.
  hold      claimed READY commands of a target with passes, due outside a window, are not
            transmitted: their transmit_at and next_step_at move to the next window's start
            and the lease is released. With no window to come before their expires_at,
            next_step_at is cleared: the expiry (or a new list of passes) decides. The worker
            never polls a waiting command.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import bindparam, literal, select, update
from sqlalchemy.orm import Session

from mission_control import lifecycle, passes
from mission_control.models import Telecommand
from mission_control.status import Status

from .claims import Claimed

TABLE = Telecommand.__table__
EXPIRED = "expired"


def expire_due(session: Session, actor: str, now: datetime, limit: int) -> set[uuid.UUID]:
    """End up to ``limit`` READY commands whose expires_at has come FAILED "expired"."""
    due = session.scalars(
        select(TABLE.c.id)
        .where(TABLE.c.status == literal(Status.READY.value, literal_execute=True),
               TABLE.c.expires_at.is_not(None), TABLE.c.expires_at <= now)
        .order_by(TABLE.c.expires_at).limit(limit).with_for_update(skip_locked=True)).all()
    return lifecycle.transition_many(session, Status.READY, Status.FAILED,
                                     {cid: EXPIRED for cid in due}, actor=actor)


def hold_for_passes(session: Session, worker_id: str, ready: list[Claimed],
                    now: datetime) -> set[uuid.UUID]:
    """Release the claimed READY commands that must wait for a contact window; their ids."""
    windows = passes.windows_for(session, (c.target_id for c in ready), now)
    if not windows:
        return set()
    expiries = dict(session.execute(select(TABLE.c.id, TABLE.c.expires_at).where(
        TABLE.c.id.in_([c.id for c in ready if c.target_id in windows]))).all())
    held = []
    for command in ready:
        if command.target_id not in windows:
            continue
        opening = passes.next_opening(windows[command.target_id], now)
        if opening == now:
            continue  # inside a window: transmit
        expires_at = expiries.get(command.id)
        if opening is not None and expires_at is not None and opening >= expires_at:
            opening = None  # no window before it expires: the expiry sweep ends it
        held.append({"v_id": command.id, "v_next": opening,
                     "v_transmit": opening or command.transmit_at})
    if held:
        session.connection().execute(
            update(TABLE).where(TABLE.c.id == bindparam("v_id"),
                                TABLE.c.status == Status.READY.value,
                                TABLE.c.lease_owner == worker_id)
            .values(next_step_at=bindparam("v_next"), transmit_at=bindparam("v_transmit"),
                    lease_owner=None, lease_expires_at=None), held)
    return {row["v_id"] for row in held}
