"""Command authority (docs/authority.md): an operator may take exclusive control of a target;
while the lease runs, other users' commands to it (or, for a robot, to its modules) are
refused. An expired lease counts as free.

The rule is ``check``: every feature that creates commands (ground's issue, batches, stacks)
calls it with the targets it addresses, in the transaction that creates them.

One row per target (its primary key) means one holder at most. Taking control is a
conditional UPDATE (``WHERE holder = me OR expires_at <= now``) that renews one's own hold
or takes over an expired one, else an INSERT that the primary key lets only one of two
racing callers make: on SQLite and PostgreSQL alike, two holders cannot come out of it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import case, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .authority_models import TargetControl
from .models import Target
from .timeutil import isoformat, utcnow

log = logging.getLogger("mission_control.authority")
TABLE = TargetControl.__table__


@dataclass(frozen=True)
class Control:
    target_id: str
    holder: str
    acquired_at: datetime
    expires_at: datetime

    def to_json(self) -> dict:
        return {"target": self.target_id, "holder": self.holder,
                "acquired_at": isoformat(self.acquired_at),
                "expires_at": isoformat(self.expires_at)}


class ControlledByOther(Exception):
    """A target (or the robot a module belongs to) is under another user's control."""

    def __init__(self, target_id: str, holder: str, expires_at: datetime) -> None:
        super().__init__(f"{target_id} is controlled by {holder} until {isoformat(expires_at)}")
        self.target_id = target_id
        self.holder = holder
        self.expires_at = expires_at


class NotHolder(Exception):
    """Someone not holding a control (and not an admin) asked to release it."""

    def __init__(self, control: Control) -> None:
        super().__init__(f"{control.target_id} is controlled by {control.holder}; only they "
                         f"(or an admin) can release it")
        self.control = control


class NotControlled(LookupError):
    """Nobody holds the target (or the lease expired)."""


def _row(row) -> Control:
    return Control(row.target_id, row.holder, row.acquired_at, row.expires_at)


def check(session: Session, target_ids: Iterable[str], username: str) -> None:
    """Raise ControlledByOther if any of ``target_ids`` (or the robot a module id belongs to)
    is held by a user other than ``username`` under a lease still running."""
    ids = {t for t in target_ids if t}
    if not ids:
        return
    parents = session.scalars(select(Target.parent_id).where(Target.id.in_(ids),
                                                             Target.parent_id.is_not(None)))
    ids.update(parents)
    held = session.execute(select(TABLE).where(TABLE.c.target_id.in_(ids),
                                               TABLE.c.holder != username,
                                               TABLE.c.expires_at > utcnow())
                           .order_by(TABLE.c.target_id).limit(1)).first()
    if held is not None:
        raise ControlledByOther(held.target_id, held.holder, held.expires_at)


def current(session: Session, target_id: str) -> Control | None:
    """The running control of ``target_id`` itself, if any."""
    row = session.execute(select(TABLE).where(TABLE.c.target_id == target_id,
                                              TABLE.c.expires_at > utcnow())).first()
    return _row(row) if row else None


def holds(session: Session) -> list[Control]:
    """Every control whose lease is still running, by target."""
    rows = session.execute(select(TABLE).where(TABLE.c.expires_at > utcnow())
                           .order_by(TABLE.c.target_id))
    return [_row(row) for row in rows]


def take(session: Session, target_id: str, username: str, lease_s: float) -> Control:
    """Take (or, for its holder, renew) exclusive control of ``target_id`` for ``lease_s``.

    Raises ControlledByOther when another user holds it under a running lease.
    """
    now = utcnow()
    expires = now + timedelta(seconds=lease_s)
    mine_or_free = or_(TABLE.c.holder == username, TABLE.c.expires_at <= now)
    for _ in range(3):  # a hold released between our UPDATE and INSERT: try again
        taken = session.execute(
            update(TABLE).where(TABLE.c.target_id == target_id, mine_or_free)
            .values(acquired_at=case((TABLE.c.holder == username, TABLE.c.acquired_at),
                                     else_=now),
                    holder=username, expires_at=expires)
            .returning(*TABLE.c)).first()
        if taken is not None:
            return _row(taken)
        try:
            with session.begin_nested():
                session.execute(insert(TABLE).values(target_id=target_id, holder=username,
                                                     acquired_at=now, expires_at=expires))
            return Control(target_id, username, now, expires)
        except IntegrityError:  # someone holds it, or took it first a moment ago
            pass
        held = session.execute(select(TABLE).where(TABLE.c.target_id == target_id)).first()
        if held is not None and held.holder != username and held.expires_at > now:
            raise ControlledByOther(held.target_id, held.holder, held.expires_at)
    raise ControlledByOther(target_id, held.holder if held else "another user", expires)


def release(session: Session, target_id: str, username: str, *, admin: bool) -> Control:
    """Release a control: its holder may; an admin may break another user's (logged).
    Returns the control that ended."""
    control = current(session, target_id)
    if control is None:
        raise NotControlled(target_id)
    if control.holder != username and not admin:
        raise NotHolder(control)
    ended = session.execute(delete(TABLE).where(TABLE.c.target_id == target_id,
                                                TABLE.c.holder == control.holder))
    if ended.rowcount != 1:  # released or taken over meanwhile
        raise NotControlled(target_id)
    if control.holder != username:
        log.warning("control of %s held by %s broken by admin %s", target_id, control.holder,
                    username)
    else:
        log.info("control of %s released by %s", target_id, username)
    return control
