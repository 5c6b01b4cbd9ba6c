"""Telecommand use cases for operators: issue, list, read, cancel. Nothing here knows HTTP."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from mission_control import authority, lifecycle
from mission_control.catalog import commands_for, validate_command
from mission_control.db import Database
from mission_control.status import CANCELLABLE, Status
from mission_control.models import SPACECRAFT_TARGET_ID, Target, Telecommand
from mission_control.timeutil import isoformat, utcnow

from .schemas import NewTelecommand
from .verification_view import summary as verification_summary


class UnknownTarget(LookupError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field  # the request field that names it: target or module_id


class CommandNotFound(LookupError):
    pass


class NotCancellable(Exception):
    def __init__(self, status: Status) -> None:
        super().__init__(f"command is {status}; only READY commands can be cancelled (and "
                         f"those AWAITING_APPROVAL)")
        self.status = status


class IdempotencyConflict(Exception):
    """The Idempotency-Key was first used for a different command."""


def parse_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise CommandNotFound(raw) from None


def resolve_target(session: Session, request: NewTelecommand) -> tuple[Target, str]:
    """The addressed target and the catalog kind that applies (the module's, if one is named)."""
    target_id = request.target or SPACECRAFT_TARGET_ID
    target = session.get(Target, target_id)
    if target is None:
        raise UnknownTarget(f"unknown target {target_id!r}", "target")
    if target.removed_at is not None:
        raise UnknownTarget(f"target {target_id!r} was removed from the registry", "target")
    if request.module_id is None:
        return target, target.kind
    module = session.get(Target, request.module_id)
    if module is None or module.kind != "module" or module.parent_id != target.id \
            or module.removed_at is not None:
        raise UnknownTarget(f"{target_id!r} has no module {request.module_id!r}", "module_id")
    return target, "module"


def issue(session: Session, request: NewTelecommand, *, operator: str,
          idempotency_key: str | None = None, request_id: str | None = None,
          approval_policy: str = "none") -> tuple[Telecommand, bool]:
    """Validate and log a new command; returns it and whether it was created now.
    ``request_id`` is the creating call's, kept on the command for the worker's log lines.
    It is READY, or AWAITING_APPROVAL when its catalog entry needs approval under
    ``approval_policy`` (APPROVAL_REQUIRED). A target under another user's control refuses
    it (authority.ControlledByOther).

    With an idempotency key, a retry returns the command the key first created. A race
    between two first uses is settled by the key's unique index: the loser reads the winner's.
    """
    if idempotency_key is not None:
        existing = _by_idempotency_key(session, idempotency_key)
        if existing is not None:
            return _same_request_or_conflict(existing, request), False
    target, kind = resolve_target(session, request)
    args = validate_command(kind, request.command_name, request.args, confirm=request.confirm)
    authority.check(session, [target.id, request.module_id], operator)
    status = Status.AWAITING_APPROVAL if commands_for(kind)[request.command_name] \
        .needs_approval(approval_policy) else Status.READY
    now = utcnow()
    row = dict(id=uuid.uuid4(), target_id=target.id, module_id=request.module_id,
               command_name=request.command_name, args=args, status=status.value,
               operator=operator, confirmed_by=operator if request.confirm else None,
               idempotency_key=idempotency_key, request_id=request_id, created_at=now,
               updated_at=now, attempts=0,
               not_before=request.not_before, expires_at=request.expires_at)  # time tags
    # Rows as parameters of one cached statement: no statement is built per request.
    if idempotency_key is None:
        session.execute(insert(Telecommand.__table__), row)
    else:
        # Only a key can collide: a savepoint keeps the transaction usable for reading
        # the winner's command after losing that race.
        try:
            with session.begin_nested():
                session.execute(insert(Telecommand.__table__), row)
        except IntegrityError:
            existing = _by_idempotency_key(session, idempotency_key)
            if existing is None:
                raise
            return _same_request_or_conflict(existing, request), False
    lifecycle.record_creation(session, row["id"], actor=operator, at=now, status=status)
    return Telecommand(**row), True


def _by_idempotency_key(session: Session, key: str) -> Telecommand | None:
    return session.scalar(select(Telecommand).where(Telecommand.idempotency_key == key))


def _same_request_or_conflict(existing: Telecommand, request: NewTelecommand) -> Telecommand:
    same = (existing.command_name == request.command_name
            and existing.target_id == (request.target or SPACECRAFT_TARGET_ID)
            and existing.module_id == request.module_id
            and existing.args == request.args)
    if not same:
        raise IdempotencyConflict(
            f"this Idempotency-Key was used for {existing.command_name} to {existing.target_id} "
            f"with args {existing.args}")
    return existing


def get(session: Session, command_id: uuid.UUID) -> Telecommand:
    command = session.scalar(select(Telecommand).where(Telecommand.id == command_id)
                             .options(selectinload(Telecommand.history)))
    if command is None:
        raise CommandNotFound(str(command_id))
    return command


def page(session: Session, *, status: Status | None, target: str | None, limit: int,
         offset: int) -> tuple[list[Telecommand], int]:
    """Commands newest first, optionally of one status or target, and how many match."""
    query = select(Telecommand)
    if status is not None:
        query = query.where(Telecommand.status == status.value)
    if target is not None:
        query = query.where(Telecommand.target_id == target)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    items = session.scalars(query.order_by(Telecommand.created_at.desc(), Telecommand.id.desc())
                            .limit(limit).offset(offset)).all()
    return list(items), total or 0


def counts_by_status(database: Database) -> dict[str, int]:
    """How many commands are in each status (those with none left out): one GROUP BY over
    the (status, created_at) index, for /metrics at every scrape."""
    with database.autocommit() as connection:
        rows = connection.execute(select(Telecommand.status, func.count())
                                  .group_by(Telecommand.status))
        return {status: count for status, count in rows}


def cancel(session: Session, command_id: uuid.UUID, *, operator: str) -> Telecommand:
    """Cancel a command AWAITING_APPROVAL or READY; the conditional update decides any race
    with the worker or an approver. Statuses only move forward, so the loop ends."""
    status = lifecycle.current_status(session, command_id)
    while status in CANCELLABLE:
        if lifecycle.transition(session, command_id, status, Status.CANCELLED, actor=operator,
                                reason=f"cancelled by {operator}"):
            session.expire_all()
            return get(session, command_id)
        status = lifecycle.current_status(session, command_id)  # someone else moved it
    if status is None:
        raise CommandNotFound(str(command_id))
    raise NotCancellable(status)


def to_json(command: Telecommand, *, with_history: bool = False,
            waiting: dict[uuid.UUID, datetime] | None = None) -> dict[str, Any]:
    """The command as the API shows it; ``waiting`` from passes.waiting_for_pass."""
    data: dict[str, Any] = {
        "id": str(command.id), "command_name": command.command_name,
        "target": command.target_id, "module_id": command.module_id, "args": command.args,
        "status": command.status, "status_reason": command.status_reason,
        "operator": command.operator, "confirmed_by": command.confirmed_by,
        "approved_by": command.approved_by,
        "request_id": command.request_id,
        "created_at": isoformat(command.created_at),
        "updated_at": isoformat(command.updated_at),
        "transmit_at": isoformat(command.transmit_at) if command.status == Status.READY else None,
        "not_before": isoformat(command.not_before),
        "expires_at": isoformat(command.expires_at),
        "waiting_for_pass": isoformat((waiting or {}).get(command.id)),
        "verification": verification_summary(command),
    }
    if with_history:
        data["history"] = [
            {"from_status": h.from_status, "to_status": h.to_status, "at": isoformat(h.at),
             "actor": h.actor, "reason": h.reason}
            for h in command.history
        ]
    return data
