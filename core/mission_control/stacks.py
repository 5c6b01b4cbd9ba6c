"""Command stacks applied to rows: send each step once the previous one reached its stage.

A stack is RUNNING until it ends COMPLETED (every step's command final), FAILED (a step failed
or was cancelled, and the stack stops on failure) or CANCELLED (by an operator). Only RUNNING
ever changes, by a conditional UPDATE (``WHERE id = :id AND status = 'RUNNING'``): a cancel
racing the worker's advance has one winner, as for telecommands.

Steps advance in the command-sender's pass (``advance``), in the transaction that records the
outcomes which move step k to its stage: that transaction locks the stack's row (``FOR UPDATE
SKIP LOCKED`` on PostgreSQL; SQLite has one writer), creates step k+1's telecommand and marks
the step SENT with the command's id. A worker killed before the commit leaves nothing behind,
and the next pass (its own or another replica's) does the same again; once committed, the step
is SENT and no pass creates it twice.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from . import lifecycle
from .catalog import needs_approval
from .models import Telecommand
from .stack_models import (
    COMPLETED, FAILED, PENDING, RUNNING, SENT, SKIPPED, Stack, StackStep,
)
from .status import CANCELLABLE, FINAL, Status
from .timeutil import utcnow

# The statuses at which a step counts as having reached what it waits for; a final status
# always does (whether the stack then goes on is the stack's on_failure).
REACHED: dict[str, frozenset[str]] = {
    "ACKNOWLEDGED": frozenset({Status.ACKNOWLEDGED.value, *(s.value for s in FINAL)}),
    "EXECUTED": frozenset(s.value for s in FINAL),
}
UNSUCCESSFUL = frozenset({Status.FAILED.value, Status.CANCELLED.value})
ADVANCE_LIMIT = 100  # stacks looked at per pass


@dataclass(frozen=True)
class StepView:
    """A step with its telecommand's status and reason (None while it has none)."""

    step: StackStep
    status: str | None
    reason: str | None

    @property
    def shown_status(self) -> str:
        """PENDING or SKIPPED before a command exists, then the command's status."""
        return self.status if self.step.state == SENT and self.status else self.step.state


def send_step(session: Session, stack: Stack, step: StackStep, now: datetime,
              approval_policy: str) -> uuid.UUID:
    """Create the telecommand of a PENDING step and mark the step SENT with its id, in the
    caller's transaction (which holds the stack's row). It is READY and due at now + its
    delay; or, when its command needs approval under ``approval_policy`` (APPROVAL_REQUIRED),
    AWAITING_APPROVAL (the stack waits for it) and, once approved, scheduled like any other."""
    waits = needs_approval(step.command_name, approval_policy)
    due = None if waits else now + timedelta(seconds=step.delay_s)
    status = Status.AWAITING_APPROVAL if waits else Status.READY
    row = dict(id=uuid.uuid4(), target_id=stack.target_id, module_id=step.module_id,
               command_name=step.command_name, args=step.args, status=status.value,
               operator=stack.created_by, confirmed_by=stack.created_by if step.confirm else None,
               created_at=now, updated_at=now, attempts=0, transmit_at=due, next_step_at=due,
               stack_id=stack.id)
    session.execute(insert(Telecommand.__table__), row)
    lifecycle.record_creation(session, row["id"], actor=stack.created_by, at=now, status=status)
    marked = session.execute(
        update(StackStep.__table__)
        .where(StackStep.stack_id == stack.id, StackStep.position == step.position,
               StackStep.state == PENDING)
        .values(state=SENT, telecommand_id=row["id"]))
    if marked.rowcount != 1:  # the stack's row lock makes this impossible: refuse, roll back
        raise RuntimeError(f"stack {stack.id}: step {step.position} is no longer PENDING")
    return row["id"]


def stop(session: Session, stack_id: uuid.UUID, status: str, reason: str, *,
         actor: str) -> bool:
    """End a RUNNING stack as FAILED or CANCELLED: its steps not created yet are SKIPPED and
    those whose command is not transmitted yet (READY, or AWAITING_APPROVAL: no approval may
    send a step of an ended stack) are cancelled. False when the stack
    was no longer RUNNING (someone else ended it first)."""
    now = utcnow()
    ended = session.execute(
        update(Stack.__table__).where(Stack.id == stack_id, Stack.status == RUNNING)
        .values(status=status, status_reason=reason, updated_at=now))
    if ended.rowcount != 1:
        return False
    session.execute(update(StackStep.__table__)
                    .where(StackStep.stack_id == stack_id, StackStep.state == PENDING)
                    .values(state=SKIPPED))
    for waiting in CANCELLABLE:  # not transmitted yet
        ids = session.scalars(
            select(Telecommand.id).where(Telecommand.stack_id == stack_id,
                                         Telecommand.status == waiting.value)).all()
        lifecycle.transition_many(session, waiting, Status.CANCELLED,
                                  {cid: f"stack {status.lower()}: {reason}" for cid in ids},
                                  actor=actor)
    return True


def views(session: Session, stack_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[StepView]]:
    """The steps of these stacks, in order, each with its command's status."""
    rows = session.execute(
        select(StackStep, Telecommand.status, Telecommand.status_reason)
        .outerjoin(Telecommand, Telecommand.id == StackStep.telecommand_id)
        .where(StackStep.stack_id.in_(stack_ids))
        .order_by(StackStep.stack_id, StackStep.position)).all()
    found: dict[uuid.UUID, list[StepView]] = defaultdict(list)
    for step, status, reason in rows:
        found[step.stack_id].append(StepView(step, status, reason))
    return found


def advance(session: Session, *, actor: str, approval_policy: str,
            limit: int = ADVANCE_LIMIT) -> list[str]:
    """One pass over RUNNING stacks: send the next step of each whose current step reached its
    stage, stop those with a failed step, complete those whose commands are all final.

    Returns one line per change, for the worker's log.
    """
    stacks = _due(session, limit)
    if not stacks:
        return []
    steps = views(session, [stack.id for stack in stacks])
    now = utcnow()
    changes = []
    for stack in stacks:
        change = _advance_one(session, stack, steps[stack.id], now, actor, approval_policy)
        if change:
            changes.append(f"stack {stack.id}: {change}")
    return changes


def _due(session: Session, limit: int) -> list[Stack]:
    """Lock the RUNNING stacks that may need a change: those whose last sent step reached its
    stage (the next step is due, or the stack may be complete), and those that stop on failure
    with a failed step. A stack waiting for its current step is not even looked at, so however
    many wait, those due are never crowded out by them."""
    running = Stack.status == RUNNING
    last = (select(StackStep.stack_id, func.max(StackStep.position).label("position"))
            .join(Stack, Stack.id == StackStep.stack_id)
            .where(running, StackStep.state == SENT).group_by(StackStep.stack_id).subquery())
    reached = or_(Telecommand.status.in_(REACHED["EXECUTED"]),
                  and_(StackStep.wait_for == "ACKNOWLEDGED",
                       Telecommand.status == Status.ACKNOWLEDGED.value))
    moved = (select(last.c.stack_id)
             .join(StackStep, and_(StackStep.stack_id == last.c.stack_id,
                                   StackStep.position == last.c.position))
             .join(Telecommand, Telecommand.id == StackStep.telecommand_id).where(reached))
    failed = (select(StackStep.stack_id).join(Stack, Stack.id == StackStep.stack_id)
              .join(Telecommand, Telecommand.id == StackStep.telecommand_id)
              .where(running, Stack.on_failure == "stop", StackStep.state == SENT,
                     Telecommand.status.in_(UNSUCCESSFUL)))
    return list(session.scalars(
        select(Stack).where(running, or_(Stack.id.in_(moved), Stack.id.in_(failed)))
        .order_by(Stack.updated_at).limit(limit).with_for_update(skip_locked=True)))


def _advance_one(session: Session, stack: Stack, steps: list[StepView], now: datetime,
                 actor: str, approval_policy: str) -> str | None:
    failed = [v for v in steps if v.step.state == SENT and v.status in UNSUCCESSFUL]
    if failed and stack.on_failure == "stop":
        first = failed[0]
        reason = f"step {first.step.position} ({first.step.command_name}) {first.status}" + (
            f": {first.reason}" if first.reason else "")
        stop(session, stack.id, FAILED, reason, actor=actor)
        return f"FAILED ({reason})"
    pending = [v for v in steps if v.step.state == PENDING]
    sent = [v for v in steps if v.step.state == SENT]
    if pending:
        current = sent[-1] if sent else None
        if current is None or current.status in REACHED[current.step.wait_for]:
            step = pending[0].step
            command_id = send_step(session, stack, step, now, approval_policy)
            session.execute(update(Stack.__table__).where(Stack.id == stack.id)
                            .values(updated_at=now))
            return f"step {step.position} sent as command {command_id}"
        return None
    if all(v.status in REACHED["EXECUTED"] for v in sent):
        reason = f"{len(failed)} of {len(steps)} steps unsuccessful" if failed else None
        session.execute(update(Stack.__table__)
                        .where(Stack.id == stack.id, Stack.status == RUNNING)
                        .values(status=COMPLETED, status_reason=reason, updated_at=now))
        return "COMPLETED"
    return None

