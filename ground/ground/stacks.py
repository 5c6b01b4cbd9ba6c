"""Command stack use cases for operators: create, list, read, cancel. Nothing here knows HTTP.

Sending the steps after the first is the command-sender's (mission_control.stacks.advance).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from mission_control import authority, stacks
from mission_control.auth import Identity
from mission_control.catalog import CatalogError, validate_command
from mission_control.stack_models import CANCELLED, PENDING, RUNNING, Stack, StackStep
from mission_control.status import FINAL
from mission_control.timeutil import isoformat, utcnow

from .schemas import NewTelecommand
from .stack_schemas import NewStack
from .telecommands import UnknownTarget, resolve_target

FINAL_VALUES = frozenset(s.value for s in FINAL)


class StackNotFound(LookupError):
    pass


class NotCancellable(Exception):
    def __init__(self, status: str) -> None:
        super().__init__(f"stack is {status}; only RUNNING stacks can be cancelled")
        self.status = status


class StepRefused(Exception):
    """A step of a new stack is not acceptable; ``error`` says why, ``index`` which one."""

    def __init__(self, index: int, error: CatalogError | UnknownTarget) -> None:
        super().__init__(f"steps[{index}]: {error}")
        self.index = index
        self.error = error


def parse_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise StackNotFound(raw) from None


def create(session: Session, request: NewStack, user: Identity, *,
           approval_policy: str) -> Stack:
    """Validate every step against the catalog, store the stack and send its first step.

    The one place a stack is created. A target (or a step's module) under another user's
    control refuses the whole stack (authority.ControlledByOther) before anything is written;
    a step whose command needs approval under ``approval_policy`` is created AWAITING_APPROVAL
    when its turn comes, and the stack waits for it.
    """
    steps = []
    for index, step in enumerate(request.steps):
        command = NewTelecommand(command_name=step.command_name, target=request.target,
                                 module_id=step.module_id, args=step.args, confirm=step.confirm)
        try:
            target, kind = resolve_target(session, command)
            args = validate_command(kind, step.command_name, step.args, confirm=step.confirm)
        except (CatalogError, UnknownTarget) as error:
            raise StepRefused(index, error) from None
        steps.append(dict(position=index + 1, command_name=step.command_name,
                          module_id=step.module_id, args=args, confirm=step.confirm,
                          wait_for=step.wait_for, delay_s=step.delay_s, telecommand_id=None,
                          state=PENDING))
    authority.check(session, [target.id, *(s["module_id"] for s in steps)], user.username)
    now = utcnow()
    stack = Stack(id=uuid.uuid4(), target_id=target.id, name=request.name, status=RUNNING,
                  on_failure=request.on_failure, created_by=user.username, created_at=now,
                  updated_at=now)
    session.add(stack)
    session.flush()
    session.execute(insert(StackStep.__table__), [{"stack_id": stack.id, **s} for s in steps])
    first = session.scalar(select(StackStep).where(StackStep.stack_id == stack.id,
                                                   StackStep.position == 1))
    stacks.send_step(session, stack, first, now, approval_policy)
    return stack


def get(session: Session, stack_id: uuid.UUID) -> Stack:
    stack = session.get(Stack, stack_id, populate_existing=True)
    if stack is None:
        raise StackNotFound(str(stack_id))
    return stack


def page(session: Session, *, status: str | None, limit: int,
         offset: int) -> tuple[list[Stack], int]:
    """Stacks newest first, optionally of one status, and how many match."""
    query = select(Stack)
    if status is not None:
        query = query.where(Stack.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    items = session.scalars(query.order_by(Stack.created_at.desc(), Stack.id.desc())
                            .limit(limit).offset(offset)).all()
    return list(items), total or 0


def cancel(session: Session, stack_id: uuid.UUID, *, user: Identity) -> Stack:
    """Cancel a RUNNING stack: steps not created yet are skipped, READY ones cancelled."""
    if stacks.stop(session, stack_id, CANCELLED, f"cancelled by {user.username}",
                   actor=user.username):
        session.expire_all()
        return get(session, stack_id)
    stack = get(session, stack_id)
    raise NotCancellable(stack.status)


def to_json(stack: Stack, steps: list[stacks.StepView], *,
            with_steps: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(stack.id), "target": stack.target_id, "name": stack.name,
        "status": stack.status, "status_reason": stack.status_reason,
        "on_failure": stack.on_failure, "created_by": stack.created_by,
        "created_at": isoformat(stack.created_at), "updated_at": isoformat(stack.updated_at),
        "progress": {"done": sum(1 for v in steps if v.status in FINAL_VALUES),
                     "total": len(steps)},
    }
    if with_steps:
        data["steps"] = [
            {"position": v.step.position, "command_name": v.step.command_name,
             "module_id": v.step.module_id, "args": v.step.args, "confirm": v.step.confirm,
             "wait_for": v.step.wait_for, "delay_s": v.step.delay_s,
             "telecommand_id": str(v.step.telecommand_id) if v.step.telecommand_id else None,
             "status": v.shown_status, "status_reason": v.reason}
            for v in steps]
    return data


def many_to_json(session: Session, items: list[Stack], *,
                 with_steps: bool = False) -> list[dict[str, Any]]:
    steps = stacks.views(session, [stack.id for stack in items]) if items else {}
    return [to_json(stack, steps.get(stack.id, []), with_steps=with_steps) for stack in items]
