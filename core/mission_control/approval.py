"""Two-person approval (docs/approval.md): a command the catalog marks for it is created
AWAITING_APPROVAL and becomes READY only when a second user approves it; rejected or left
waiting longer than APPROVAL_TIMEOUT_S, it ends CANCELLED with the reason.

Plain functions of the domain (no HTTP). Every change is a lifecycle transition: approve,
reject, an operator's cancel and the worker's expiry sweep all race through the same
conditional UPDATE, so exactly one of them wins.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import lifecycle
from .models import Telecommand
from .status import Status
from .timeutil import utcnow

EXPIRED = "approval expired"


class NotAwaitingApproval(Exception):
    """The command is no longer (or never was) waiting for approval."""

    def __init__(self, status: Status, what: str | None = None) -> None:
        super().__init__(f"no command {what} is AWAITING_APPROVAL (any more)" if what else
                         f"command is {status}; only AWAITING_APPROVAL commands can be "
                         f"approved or rejected")
        self.status = status


class SelfApproval(Exception):
    """The sender asked to approve their own command: approval needs a second person."""

    def __init__(self, username: str) -> None:
        super().__init__(f"{username} sent this command and cannot approve it: approval "
                         f"needs a second operator or admin")


class UnknownCommand(LookupError):
    pass


def approve(session: Session, command_id: uuid.UUID, *, approver: str,
            timeout_s: float) -> Status:
    """Move a command AWAITING_APPROVAL to READY, approved by ``approver`` (not its sender);
    returns READY.

    A request older than ``timeout_s`` is expired here instead (as the sweep would): that
    returns CANCELLED, for the caller to commit and then refuse the approval.
    """
    row = session.execute(select(Telecommand.operator, Telecommand.status,
                                 Telecommand.created_at)
                          .where(Telecommand.id == command_id)).one_or_none()
    if row is None:
        raise UnknownCommand(str(command_id))
    if row.status == Status.AWAITING_APPROVAL and row.operator == approver:
        raise SelfApproval(approver)
    if row.status == Status.AWAITING_APPROVAL and \
            row.created_at <= utcnow() - timedelta(seconds=timeout_s):
        lifecycle.transition(session, command_id, Status.AWAITING_APPROVAL, Status.CANCELLED,
                             actor=approver, reason=EXPIRED)
        return _status(session, command_id)
    if not lifecycle.transition(session, command_id, Status.AWAITING_APPROVAL, Status.READY,
                                actor=approver, reason=f"approved by {approver}",
                                values={"approved_by": approver}):
        raise NotAwaitingApproval(_status(session, command_id))
    return Status.READY


def approve_batch(session: Session, batch_id: uuid.UUID, sender: str, *, approver: str,
                  timeout_s: float) -> int:
    """Approve, in one conditional UPDATE, every command of a fleet-wide batch (sent by
    ``sender``) still AWAITING_APPROVAL and not past ``timeout_s``; returns how many became
    READY. The sweep expires the others; a command cancelled or rejected meanwhile stays so."""
    if sender == approver:
        raise SelfApproval(approver)
    cutoff = utcnow() - timedelta(seconds=timeout_s)
    ids = session.scalars(select(Telecommand.id)
                          .where(Telecommand.batch_id == batch_id,
                                 Telecommand.status == Status.AWAITING_APPROVAL.value,
                                 Telecommand.created_at > cutoff)).all()
    won = lifecycle.transition_many(session, Status.AWAITING_APPROVAL, Status.READY,
                                    {cid: f"approved by {approver}" for cid in ids},
                                    actor=approver, common={"approved_by": approver})
    if not won:
        raise NotAwaitingApproval(Status.AWAITING_APPROVAL, what="of this batch")
    return len(won)


def reject(session: Session, command_id: uuid.UUID, *, rejecter: str, reason: str) -> None:
    """End a command AWAITING_APPROVAL as CANCELLED with the rejecter's reason (its sender
    may withdraw it this way too)."""
    if not lifecycle.transition(session, command_id, Status.AWAITING_APPROVAL, Status.CANCELLED,
                                actor=rejecter, reason=f"rejected by {rejecter}: {reason}"):
        raise NotAwaitingApproval(_status(session, command_id))


def expire(session: Session, timeout_s: float, *, actor: str, limit: int = 500) -> int:
    """End CANCELLED "approval expired" the requests waiting longer than ``timeout_s``
    (oldest first, at most ``limit``); returns how many. The command-sender runs it."""
    cutoff = utcnow() - timedelta(seconds=timeout_s)
    ids = session.scalars(select(Telecommand.id)
                          .where(Telecommand.status == Status.AWAITING_APPROVAL.value,
                                 Telecommand.created_at <= cutoff)
                          .order_by(Telecommand.created_at).limit(limit)).all()
    won = lifecycle.transition_many(session, Status.AWAITING_APPROVAL, Status.CANCELLED,
                                    {cid: EXPIRED for cid in ids}, actor=actor)
    return len(won)


def waiting_for(session: Session, username: str, limit: int = 50) -> list[Telecommand]:
    """Commands awaiting approval that ``username`` may approve (sent by someone else),
    oldest first."""
    return list(session.scalars(
        select(Telecommand).where(Telecommand.status == Status.AWAITING_APPROVAL.value,
                                  Telecommand.operator != username)
        .order_by(Telecommand.created_at, Telecommand.id).limit(limit)))


def _status(session: Session, command_id: uuid.UUID) -> Status:
    status = lifecycle.current_status(session, command_id)
    if status is None:
        raise UnknownCommand(str(command_id))
    return status
