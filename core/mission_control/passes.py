"""Contact windows and time tags: the rules, one place (docs/lifecycle.md, "Time tags and
contact windows"). Nothing here knows HTTP.

A target with passes has its commands transmitted only inside one: a READY command that comes
due outside a window is moved to the next window's start by the worker. A pass is the
half-open interval [start_at, end_at) in UTC.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from .models import Target, Telecommand
from .pass_models import TargetPass
from .status import Status
from .validation import FieldError

MAX_PASSES = 1000  # per target, in one PUT
# Times outside these years are refused (a pass, not_before, expires_at): a typo, not a plan.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

Window = tuple[datetime, datetime]


class TargetNotFound(LookupError):
    pass


def bounds_problem(value: datetime) -> str | None:
    """Why a time is absurd for a time tag or a pass, or None."""
    if not EARLIEST <= value < LATEST:
        return f"must be between {EARLIEST.year} and {LATEST.year - 1} (UTC)"
    return None


def problems(windows: Sequence[Window]) -> list[FieldError]:
    """Every reason a target's list of passes cannot be stored (field names like ``3.end_at``)."""
    found: list[FieldError] = []
    for index, (start, end) in enumerate(windows):
        for name, value in (("start_at", start), ("end_at", end)):
            problem = bounds_problem(value)
            if problem:
                found.append({"field": f"{index}.{name}", "message": problem})
        if start >= end:
            found.append({"field": f"{index}.end_at", "message": "must be after start_at"})
    ordered = sorted(range(len(windows)), key=lambda i: windows[i])
    for before, after in zip(ordered, ordered[1:]):
        if windows[after][0] < windows[before][1]:
            found.append({"field": f"{after}.start_at",
                          "message": f"overlaps pass {before} (passes must not overlap)"})
    return found


def _target(session: Session, target_id: str) -> Target:
    target = session.get(Target, target_id)
    if target is None or target.removed_at is not None:
        raise TargetNotFound(target_id)
    return target


def listed(session: Session, target_id: str) -> list[TargetPass]:
    """A target's passes, earliest first; TargetNotFound for an unknown or removed target."""
    _target(session, target_id)
    return list(session.scalars(select(TargetPass).where(TargetPass.target_id == target_id)
                                .order_by(TargetPass.start_at)))


def replace(session: Session, target_id: str, windows: Sequence[Window]) -> list[TargetPass]:
    """Store ``windows`` (checked by ``problems``) as the target's passes, instead of its old ones.

    The target's READY commands not held by a worker get their transmit time drawn anew
    (transmit_at NULL: the worker's schedule_new), so a command waiting for a pass that is gone,
    or for none at all, is reconsidered under the new list.
    """
    _target(session, target_id)
    session.execute(delete(TargetPass).where(TargetPass.target_id == target_id))
    if windows:
        session.execute(insert(TargetPass), [
            {"target_id": target_id, "start_at": start, "end_at": end}
            for start, end in sorted(windows)])
    session.execute(update(Telecommand).where(
        Telecommand.target_id == target_id, Telecommand.status == Status.READY.value,
        Telecommand.lease_owner.is_(None), Telecommand.transmit_at.is_not(None))
        .values(transmit_at=None, next_step_at=None))
    return listed(session, target_id)


def windows_for(session: Session, target_ids: Iterable[str],
                now: datetime) -> dict[str, list[Window]]:
    """The targets among ``target_ids`` that have passes, each with those not over by ``now``
    (earliest first; an empty list: it has passes, but none to come)."""
    ids = sorted(set(target_ids))
    if not ids:
        return {}
    having = session.scalars(select(TargetPass.target_id).where(TargetPass.target_id.in_(ids))
                             .distinct()).all()
    windows: dict[str, list[Window]] = {target_id: [] for target_id in having}
    if not windows:
        return windows
    rows = session.execute(select(TargetPass.target_id, TargetPass.start_at, TargetPass.end_at)
                           .where(TargetPass.target_id.in_(list(windows)),
                                  TargetPass.end_at > now)
                           .order_by(TargetPass.target_id, TargetPass.start_at))
    for target_id, start, end in rows:
        windows[target_id].append((start, end))
    return windows


def next_opening(windows: Sequence[Window], at: datetime) -> datetime | None:
    """The first time at or after ``at`` inside a window (``at`` itself when inside one), or
    None when no window is to come."""
    for start, end in windows:
        if end > at:
            return max(start, at)
    return None


def waiting_for_pass(session: Session, commands: Iterable[Telecommand],
                     now: datetime) -> dict[uuid.UUID, datetime]:
    """For READY commands that wait for a contact window: the start of the one they will go in
    (none when no window comes before their expires_at)."""
    ready = [c for c in commands if c.status == Status.READY.value]
    windows = windows_for(session, (c.target_id for c in ready), now)
    found = {}
    for command in ready:
        if command.target_id not in windows:
            continue
        earliest = max(now, command.not_before or now)
        opening = next_opening(windows[command.target_id], earliest)
        if opening is not None and opening > earliest and \
                (command.expires_at is None or opening < command.expires_at):
            found[command.id] = opening
    return found


@dataclass(frozen=True)
class Contact:
    """A target's next (or current) pass, and its READY commands waiting for a pass (each with
    the start of the one it goes in: this one, or a later one for a later not_before)."""

    target_id: str
    target_name: str
    start_at: datetime
    end_at: datetime
    waiting: list[tuple[Telecommand, datetime]]


def next_contacts(session: Session, now: datetime, limit: int = 20) -> list[Contact]:
    """Targets with a pass to come (or under way), soonest first, with the commands waiting."""
    upcoming = (select(TargetPass.target_id, TargetPass.start_at, TargetPass.end_at, Target.name)
                .join(Target, Target.id == TargetPass.target_id)
                .where(TargetPass.end_at > now, Target.removed_at.is_(None))
                .order_by(TargetPass.start_at))
    first: dict[str, tuple] = {}
    for target_id, start, end, name in session.execute(upcoming.limit(MAX_PASSES)):
        first.setdefault(target_id, (name, start, end))
        if len(first) >= limit:
            break
    ready = session.scalars(select(Telecommand).where(
        Telecommand.target_id.in_(list(first)), Telecommand.status == Status.READY.value)
        .order_by(Telecommand.created_at).limit(500)).all() if first else []
    waits = waiting_for_pass(session, ready, now)
    by_target: dict[str, list[tuple[Telecommand, datetime]]] = defaultdict(list)
    for command in ready:
        if command.id in waits:
            by_target[command.target_id].append((command, waits[command.id]))
    return [Contact(target_id, name, start, end, by_target[target_id])
            for target_id, (name, start, end) in first.items()]
