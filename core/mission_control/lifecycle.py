"""The telecommand lifecycle applied to rows: status changes as conditional updates.

Which status may follow which is ``status.ALLOWED``; this module makes the changes, and
counts them (``mc_telecommand_transitions_total``) once their transaction has committed.

Every change is one conditional UPDATE (``WHERE id = :id AND status = :expected``) plus a
history row, in the caller's transaction. Two actors racing on the same command (an operator
cancelling, a worker transmitting) both issue their UPDATE; the database lets exactly one of
them match the row, and the loser sees zero rows changed and backs off. This holds on SQLite
and PostgreSQL alike because it relies on nothing but the atomicity of a single UPDATE.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.orm import Session

from . import alerts, metrics
from .alert_models import Alert
from .models import Telecommand, TelecommandHistory
from .status import ALLOWED, FINAL, INITIAL, IllegalTransition, Status, can_transition
from .timeutil import utcnow

CREATED = "NONE"  # the from_status label of a command's creation (no status -> INITIAL)
TRANSITIONS = metrics.counter(
    "mc_telecommand_transitions_total",
    "Telecommand status changes committed, by from and to status (from NONE: created)",
    ["from_status", "to_status"])
_PENDING = "mc_transitions"  # session.info key: changes made, counted when they commit
for _from, _following in {None: INITIAL, **ALLOWED}.items():  # every pair shows, at 0
    for _to in _following:
        TRANSITIONS.labels(_from.value if _from else CREATED, _to.value)


def _count(session: Session, from_status: str, to_status: str, how_many: int) -> None:
    pending = session.info.setdefault(_PENDING, Counter())
    pending[(from_status, to_status)] += how_many


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: the transaction may still roll back
        return
    for (from_status, to_status), how_many in session.info.pop(_PENDING, {}).items():
        TRANSITIONS.labels(from_status, to_status).inc(how_many)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    if not session.in_nested_transaction():  # (no transition is made inside a savepoint)
        session.info.pop(_PENDING, None)  # nothing changed after all


def record_creation(session: Session, command_id: uuid.UUID, *, actor: str, at=None,
                    status: Status = Status.READY) -> None:
    """Append the history row that opens a command's timeline (no status -> ``status``:
    READY, or AWAITING_APPROVAL for one that needs a second user's approval)."""
    if status not in INITIAL:
        raise IllegalTransition(None, status)
    session.execute(insert(TelecommandHistory.__table__), {
        "telecommand_id": command_id, "from_status": None, "to_status": status.value,
        "at": at or utcnow(), "actor": actor, "reason": None})
    _count(session, CREATED, status.value, 1)


def record_creations(session: Session, command_ids: list[uuid.UUID], *, actor: str,
                     at=None, status: Status = Status.READY) -> None:
    """The opening history rows of many commands created together (a fleet-wide command): one
    executemany INSERT, however many there are."""
    if status not in INITIAL:
        raise IllegalTransition(None, status)
    if not command_ids:
        return
    at = at or utcnow()
    session.execute(insert(TelecommandHistory.__table__), [
        {"telecommand_id": command_id, "from_status": None, "to_status": status.value,
         "at": at, "actor": actor, "reason": None} for command_id in command_ids])
    _count(session, CREATED, status.value, len(command_ids))


def transition(
    session: Session,
    command_id: uuid.UUID,
    from_status: Status,
    to_status: Status,
    *,
    actor: str,
    reason: str | None = None,
    values: dict[str, Any] | None = None,
) -> bool:
    """Move a command from ``from_status`` to ``to_status`` if it is still in ``from_status``.

    Returns True when this call made the change (and appended the history row), False when
    the command was no longer in ``from_status`` (someone else won, or it does not exist). Extra
    column ``values`` (a lease cleared, a next due time) are written in the same transaction.
    """
    won = transition_many(session, from_status, to_status, {command_id: reason}, actor=actor,
                          values={command_id: values} if values else None)
    return command_id in won


def transition_many(
    session: Session,
    from_status: Status,
    to_status: Status,
    reasons: dict[uuid.UUID, str | None],
    *,
    actor: str,
    values: dict[uuid.UUID, dict[str, Any]] | None = None,
    common: dict[str, Any] | None = None,
) -> set[uuid.UUID]:
    """Move many commands from ``from_status`` to ``to_status``; return the ids still there.

    One conditional UPDATE ... RETURNING decides every race at once and writes the ``common``
    column values; per-command ``values`` and reasons, and the history rows, are written for
    the winners only. When every command gets the same values and reason (a batch that went
    well), they go into that one UPDATE too.
    """
    from_status, to_status = Status(from_status), Status(to_status)
    if not can_transition(from_status, to_status):
        raise IllegalTransition(from_status, to_status)
    if not reasons:
        return set()
    now = utcnow()
    changes: dict[str, Any] = {**(common or {}), "status": to_status.value, "updated_at": now}
    if to_status in FINAL:
        changes.update(next_step_at=None, lease_owner=None, lease_expires_at=None)
    extras = {cid: {**((values or {}).get(cid) or {}),
                    **({"status_reason": reason} if reason is not None else {})}
              for cid, reason in reasons.items()}
    first = next(iter(extras.values()))
    if all(extra == first for extra in extras.values()):
        changes.update(first)
        extras = {}
    table = Telecommand.__table__
    failing = to_status is Status.FAILED
    returned = session.execute(
        update(table)
        .where(table.c.id.in_(list(reasons)), table.c.status == from_status.value)
        .values(**changes)
        .returning(table.c.id, *((table.c.target_id, table.c.command_name) if failing else ()))
    ).all()
    won = {row[0] for row in returned}
    if not won:
        return won
    # Per-command columns: one executemany per set of columns (bind names must differ from
    # column names in an UPDATE, hence the v_ prefix).
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for cid in won:
        extra = extras.get(cid)
        if extra:
            by_columns[tuple(sorted(extra))].append(
                {"v_id": cid, **{f"v_{k}": v for k, v in extra.items()}})
    for columns, rows in by_columns.items():
        session.connection().execute(
            update(table).where(table.c.id == bindparam("v_id"))
            .values({c: bindparam(f"v_{c}") for c in columns}), rows)
    session.execute(insert(TelecommandHistory.__table__), [
        {"telecommand_id": cid, "from_status": from_status.value, "to_status": to_status.value,
         "at": now, "actor": actor, "reason": reasons[cid]} for cid in won])
    if failing:  # an info alert each (docs/alerts.md): one more INSERT
        session.execute(insert(Alert.__table__), alerts.command_failed_rows(
            [(row[0], row[1], row[2], reasons[row[0]]) for row in returned], now))
    _count(session, from_status.value, to_status.value, len(won))
    return won


def current_status(session: Session, command_id: uuid.UUID) -> Status | None:
    value = session.scalar(select(Telecommand.status).where(Telecommand.id == command_id))
    return Status(value) if value is not None else None
