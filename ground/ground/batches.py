"""Fleet-wide commands: one request, one telecommand per robot or module, grouped in a batch
whose roll-up is counted when read. Nothing here knows HTTP.

Creation is all or nothing: every target is resolved and the command checked against each
target kind's catalog before anything is written, and a refusal lists every offending id.
Then the batch and its commands are written with one INSERT each (an executemany for the
commands and one for their history rows), so 2,000 commands cost three statements, not 4,000.
Each command then lives its own lifecycle (the worker transmits it, robot-server queues it
for an offline robot until COMMAND_TTL_S); the batch never changes after its creation.
Cancelling a batch cancels its commands not transmitted yet, and no others.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from mission_control import authority, lifecycle
from mission_control.batch_models import Batch
from mission_control.catalog import CatalogError, needs_approval, validate_command
from mission_control.models import Target, Telecommand
from mission_control.registry_models import Level, Module, Project, Robot
from mission_control.status import CANCELLABLE, FINAL, Status
from mission_control.timeutil import isoformat, utcnow

from .batch_schemas import NewBatch, Selector

FAILED_SHOWN = 1000  # the failed commands one roll-up lists
KINDS = ("robot", "module")


class BatchRefused(Exception):
    """Nothing was created: ``offending`` lists each id at fault and why (may be empty when
    the fault is the request's as a whole, e.g. an empty selection)."""

    def __init__(self, message: str, offending: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offending = offending or []
        self.field = "targets"  # the request's field at fault: targets or selector


class BatchNotFound(LookupError):
    pass


def parse_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise BatchNotFound(raw[:40]) from None


def create(session: Session, request: NewBatch, user: str, *, max_targets: int,
           approval_policy: str, request_id: str | None = None) -> Batch:
    """Create a batch and one telecommand per target, or refuse with BatchRefused (or
    authority.ControlledByOther when another user controls one of them). The commands are
    READY, or all AWAITING_APPROVAL when the command needs approval under ``approval_policy``
    (one approval of the batch, ``approval.approve_batch``, releases them together)."""
    try:
        return _create(session, request, user, max_targets=max_targets, request_id=request_id,
                       approval_policy=approval_policy)
    except BatchRefused as refusal:
        refusal.field = "targets" if request.targets is not None else "selector"
        raise


def _create(session: Session, request: NewBatch, user: str, *, max_targets: int,
            request_id: str | None, approval_policy: str) -> Batch:
    if request.targets is not None:
        ids = request.targets
        _refuse_duplicates(ids)
    else:
        ids = _select(session, request.selector)
        if not ids:
            raise BatchRefused("the selector matches no robot")
    if len(ids) > max_targets:
        raise BatchRefused(f"{len(ids)} targets; at most {max_targets} "
                           "(BATCH_MAX_TARGETS) in one batch",
                           [{"id": i, "reason": "beyond the limit"} for i in ids[max_targets:]])
    addressed = _resolve(session, ids)
    args = _validate(request, addressed)
    authority.check(session, [i for pair in addressed.values() for i in pair], user)
    status = Status.AWAITING_APPROVAL if needs_approval(request.command_name, approval_policy) \
        else Status.READY
    now = utcnow()
    batch = Batch(id=uuid.uuid4(), command_name=request.command_name, args=args,
                  module=request.selector.module if request.selector else None,
                  selector=(request.selector.model_dump(mode="json", exclude_none=True)
                            if request.selector else None),
                  created_by=user, created_at=now, count=len(ids))
    session.add(batch)
    session.flush()
    rows = [dict(id=uuid.uuid4(), target_id=robot_id, module_id=module_id,
                 command_name=request.command_name, args=args, status=status.value,
                 operator=user, confirmed_by=user if request.confirm else None,
                 idempotency_key=None, request_id=request_id, created_at=now, updated_at=now,
                 attempts=0, batch_id=batch.id)
            for robot_id, module_id in addressed.values()]
    session.execute(insert(Telecommand.__table__), rows)
    lifecycle.record_creations(session, [row["id"] for row in rows], actor=user, at=now,
                               status=status)
    return batch


def _refuse_duplicates(ids: list[str]) -> None:
    twice = [i for i, times in Counter(ids).items() if times > 1]
    if twice:
        raise BatchRefused("a target is named more than once",
                           [{"id": i, "reason": "named more than once"} for i in twice])


def _select(session: Session, selector: Selector) -> list[str]:
    """The selected robots' ids (or their modules', with ``module``), in name order; the
    selector's fields all apply (a level and a project: robots on that level, if it is one
    of that project's)."""
    query = select(Robot.id).order_by(Robot.name, Robot.id)
    if selector.level_id is not None:
        query = query.where(Robot.level_id == selector.level_id)
    if selector.project_id is not None or selector.workspace_id is not None:
        query = query.join(Level, Robot.level_id == Level.id)
    if selector.project_id is not None:
        query = query.where(Level.project_id == selector.project_id)
    if selector.workspace_id is not None:
        query = query.join(Project, Level.project_id == Project.id).where(
            Project.workspace_id == selector.workspace_id)
    if selector.status is not None:
        query = query.where(Robot.status == selector.status)
    if selector.connection is not None:
        query = query.where(Robot.online.is_(selector.connection == "online"))
    robots = list(session.scalars(query))
    if selector.module is None:
        return [str(r) for r in robots]
    modules = dict(session.execute(
        select(Module.robot_id, Module.id).where(Module.name == selector.module,
                                                 Module.robot_id.in_(robots))).all())
    missing = [str(r) for r in robots if r not in modules]
    if missing:
        raise BatchRefused(f"selected robots without a module named {selector.module!r}",
                           [{"id": i, "reason": f"has no module {selector.module!r}"}
                            for i in missing])
    return [str(modules[r]) for r in robots]


def _resolve(session: Session, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """Each id -> (the robot the command goes to, the module or None); BatchRefused listing
    every id that is not a live robot or module."""
    targets = {t.id: t for t in session.scalars(select(Target).where(Target.id.in_(ids)))}
    offending, addressed = [], {}
    for target_id in ids:
        target = targets.get(target_id)
        if target is None:
            offending.append({"id": target_id, "reason": "unknown target"})
        elif target.removed_at is not None:
            offending.append({"id": target_id, "reason": "removed from the registry"})
        elif target.kind not in KINDS:
            offending.append({"id": target_id,
                              "reason": f"a {target.kind}: batches go to robots and modules"})
        elif target.kind == "module":
            addressed[target_id] = (target.parent_id, target_id)
        else:
            addressed[target_id] = (target_id, None)
    if offending:
        raise BatchRefused(f"{len(offending)} of the targets cannot take a command", offending)
    return addressed


def _validate(request: NewBatch, addressed: dict[str, tuple[str, str | None]]) -> dict[str, Any]:
    """The command's normalised arguments, checked against the catalog of every kind addressed
    (robots' and modules' differ); BatchRefused lists the ids of each kind that refuses it."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for target_id, (_robot, module) in addressed.items():
        by_kind["module" if module else "robot"].append(target_id)
    args, offending, messages = None, [], []
    for kind, kind_ids in by_kind.items():
        try:
            args = validate_command(kind, request.command_name, request.args,
                                    confirm=request.confirm)
        except CatalogError as error:
            messages.append(f"{kind}s: {error.message}")
            offending += [{"id": i, "reason": error.message} for i in kind_ids]
    if offending:
        raise BatchRefused("; ".join(messages), offending)
    return args or {}


def get(session: Session, batch_id: uuid.UUID) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise BatchNotFound(str(batch_id))
    return batch


def cancel(session: Session, batch_id: uuid.UUID, *, user: str) -> int:
    """Cancel every command of the batch not transmitted yet (AWAITING_APPROVAL or READY), one
    conditional UPDATE per status through the lifecycle, so a race with the worker (or an
    approver) has one winner per command; those already transmitted run to their end. How
    many were cancelled (0 when none was left to cancel)."""
    get(session, batch_id)
    cancelled = 0
    for status in CANCELLABLE:
        ids = session.scalars(select(Telecommand.id).where(
            Telecommand.batch_id == batch_id, Telecommand.status == status.value)).all()
        cancelled += len(lifecycle.transition_many(
            session, status, Status.CANCELLED, {cid: f"batch cancelled by {user}" for cid in ids},
            actor=user))
    return cancelled


def counts(session: Session, batch_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    """Each batch's telecommands by status (every status, 0 included): one GROUP BY over the
    batch_id index."""
    result = {batch_id: {status.value: 0 for status in Status} for batch_id in batch_ids}
    if batch_ids:
        rows = session.execute(
            select(Telecommand.batch_id, Telecommand.status, func.count())
            .where(Telecommand.batch_id.in_(batch_ids))
            .group_by(Telecommand.batch_id, Telecommand.status))
        for batch_id, status, count in rows:
            result[batch_id][status] = count
    return result


def failed(session: Session, batch_id: uuid.UUID) -> list[dict[str, Any]]:
    """The batch's FAILED commands (at most FAILED_SHOWN), with their targets and reasons."""
    rows = session.execute(
        select(Telecommand.id, Telecommand.target_id, Telecommand.module_id,
               Telecommand.status_reason)
        .where(Telecommand.batch_id == batch_id, Telecommand.status == Status.FAILED.value)
        .order_by(Telecommand.updated_at, Telecommand.id).limit(FAILED_SHOWN))
    return [{"telecommand_id": str(cid), "target": module_id or target_id, "reason": reason}
            for cid, target_id, module_id, reason in rows]


def page(session: Session, *, limit: int, offset: int) -> tuple[list[Batch], int]:
    """Batches newest first, and how many there are."""
    total = session.scalar(select(func.count()).select_from(Batch)) or 0
    items = session.scalars(select(Batch).order_by(Batch.created_at.desc(), Batch.id.desc())
                            .limit(limit).offset(offset)).all()
    return list(items), total


def is_done(batch: Batch, by_status: dict[str, int]) -> bool:
    return sum(by_status.get(status.value, 0) for status in FINAL) >= batch.count


def to_json(batch: Batch, by_status: dict[str, int],
            failures: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(batch.id), "command_name": batch.command_name, "args": batch.args,
        "selector": batch.selector, "module": batch.module, "count": batch.count,
        "counts": by_status, "done": is_done(batch, by_status),
        "created_at": isoformat(batch.created_at), "created_by": batch.created_by,
    }
    if failures is not None:
        data["failed"] = failures
    return data
