"""The telecommand lifecycle: the only module that knows which status may follow which.

Every change is one conditional UPDATE (``WHERE id = :id AND status = :expected``) plus a
history row, in the caller's transaction. Two actors racing on the same command (an operator
cancelling, a worker transmitting) both issue their UPDATE; the database lets exactly one of
them match the row, and the loser sees zero rows changed and backs off. This holds on SQLite
and PostgreSQL alike because it relies on nothing but the atomicity of a single UPDATE.
"""

from __future__ import annotations

import enum
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from .timeutil import utcnow


class Status(enum.StrEnum):
    READY = "READY"
    TRANSMITTED = "TRANSMITTED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    EXECUTED = "EXECUTED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


ALLOWED: dict[Status, frozenset[Status]] = {
    Status.READY: frozenset({Status.TRANSMITTED, Status.CANCELLED}),
    Status.TRANSMITTED: frozenset({Status.ACKNOWLEDGED, Status.FAILED}),
    Status.ACKNOWLEDGED: frozenset({Status.EXECUTED, Status.FAILED}),
    Status.EXECUTED: frozenset(),
    Status.FAILED: frozenset(),
    Status.CANCELLED: frozenset(),
}

FINAL: frozenset[Status] = frozenset(s for s, nxt in ALLOWED.items() if not nxt)
ACTIVE: frozenset[Status] = frozenset(Status) - FINAL


class IllegalTransition(ValueError):
    """A caller asked for a change the lifecycle never allows (a programming error)."""

    def __init__(self, source: Status, target: Status) -> None:
        super().__init__(f"{source} -> {target} is not an allowed transition")
        self.source = source
        self.target = target


def can_transition(source: Status | str, target: Status | str) -> bool:
    return Status(target) in ALLOWED[Status(source)]


def record_creation(session: Session, command_id: uuid.UUID, *, actor: str, at=None) -> None:
    """Append the history row that opens a command's timeline (no status -> READY)."""
    from .models import TelecommandHistory

    session.execute(insert(TelecommandHistory.__table__), {
        "telecommand_id": command_id, "from_status": None, "to_status": Status.READY.value,
        "at": at or utcnow(), "actor": actor, "reason": None})


def transition(
    session: Session,
    command_id: uuid.UUID,
    source: Status,
    target: Status,
    *,
    actor: str,
    reason: str | None = None,
    values: dict[str, Any] | None = None,
) -> bool:
    """Move a command from ``source`` to ``target`` if it is still in ``source``.

    Returns True when this call made the change (and appended the history row), False when
    the command was no longer in ``source`` (someone else won, or it does not exist). Extra
    column ``values`` (a lease cleared, a next due time) are written in the same transaction.
    """
    won = transition_many(session, source, target, {command_id: reason}, actor=actor,
                          values={command_id: values} if values else None)
    return command_id in won


def transition_many(
    session: Session,
    source: Status,
    target: Status,
    reasons: dict[uuid.UUID, str | None],
    *,
    actor: str,
    values: dict[uuid.UUID, dict[str, Any]] | None = None,
) -> set[uuid.UUID]:
    """Move many commands from ``source`` to ``target``; return the ids that were still there.

    One conditional UPDATE ... RETURNING decides every race at once; the history rows (with
    each command's reason) and any per-command ``values`` are written for the winners only.
    """
    from .models import Telecommand, TelecommandHistory

    source, target = Status(source), Status(target)
    if not can_transition(source, target):
        raise IllegalTransition(source, target)
    if not reasons:
        return set()
    now = utcnow()
    changes: dict[str, Any] = {"status": target.value, "updated_at": now}
    if target in FINAL:
        changes.update(due_at=None, lease_owner=None, lease_expires_at=None)
    table = Telecommand.__table__
    won = set(session.scalars(
        update(table)
        .where(table.c.id.in_(list(reasons)), table.c.status == source.value)
        .values(**changes)
        .returning(table.c.id)
    ))
    if not won:
        return won
    # Per-command columns: one executemany per set of columns (bind names must differ from
    # column names in an UPDATE, hence the v_ prefix).
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for cid in won:
        extra = dict((values or {}).get(cid) or {})
        if reasons[cid] is not None:
            extra["status_reason"] = reasons[cid]
        if extra:
            by_columns[tuple(sorted(extra))].append(
                {"v_id": cid, **{f"v_{k}": v for k, v in extra.items()}})
    for columns, rows in by_columns.items():
        session.connection().execute(
            update(table).where(table.c.id == bindparam("v_id"))
            .values({c: bindparam(f"v_{c}") for c in columns}), rows)
    session.execute(insert(TelecommandHistory), [
        {"telecommand_id": cid, "from_status": source.value, "to_status": target.value,
         "at": now, "actor": actor, "reason": reasons[cid]} for cid in won])
    return won


def current_status(session: Session, command_id: uuid.UUID) -> Status | None:
    from .models import Telecommand

    value = session.scalar(select(Telecommand.status).where(Telecommand.id == command_id))
    return Status(value) if value is not None else None
