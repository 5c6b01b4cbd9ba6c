"""The sweeps of the worker's pass, before it claims, in the pass's transaction: time-tagged
commands past their expiry end FAILED "expired" (``timing``), approval requests waiting too long
end CANCELLED (``mission_control.approval``, once a second with the lease take-over), and stacks
whose steps moved on send their next step (``mission_control.stacks``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mission_control import approval, stacks
from mission_control.settings import Settings
from mission_control.timeutil import utcnow

from . import timing


def sweep(session: Session, worker_id: str, settings: Settings, take_over: bool) -> list[str]:
    """Run the sweeps; returns a line for the log per change."""
    lines = [f"command {command_id}: READY -> FAILED (expired) by {worker_id}" for command_id
             in timing.expire_due(session, worker_id, utcnow(), settings.worker_batch_size)]
    if take_over:
        unapproved = approval.expire(session, settings.approval_timeout_s, actor=worker_id)
        if unapproved:
            lines.append(f"worker {worker_id}: {unapproved} approval requests expired "
                         "(CANCELLED)")
    return lines + [f"worker {worker_id}: {change}" for change in stacks.advance(
        session, actor=worker_id, approval_policy=settings.approval_required)]
