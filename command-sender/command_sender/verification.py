"""Verification from telemetry, in the worker's loop (database only, no HTTP).

A command whose catalog entry names a verifier does not go to EXECUTED when its target reports
EXECUTED: the loop marks it ``verifying_since`` (``start``) and from then on, each time it falls
due, checks the telemetry store instead of asking the target (``verify``): a point satisfying
the condition since ACKNOWLEDGED -> EXECUTED "verified: ...", the window passed without one ->
FAILED "not verified: ...", otherwise due again a poll interval later (at the latest when the
window closes). Both marks and checks are written in the loop's transaction, under the lease
of the claim, so a worker that dies mid-verification leaves a row any worker picks up again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from mission_control import lifecycle, verifiers
from mission_control.catalog import verifier_of
from mission_control.models import Telecommand, TelecommandHistory
from mission_control.status import Status
from mission_control.timeutil import utcnow

from .claims import RELEASED, Claimed, reschedule

log = logging.getLogger("command_sender")

MIN_CHECK_S = 0.05
TABLE = Telecommand.__table__


def start(session: Session, worker_id: str, commands: list[Claimed]) -> None:
    """The targets executed these commands: release them marked ``verifying_since``, due now.

    A command whose status or owner changed meanwhile (taken over) is left as it is."""
    if not commands:
        return
    now = utcnow()
    session.connection().execute(
        update(TABLE)
        .where(TABLE.c.id == bindparam("v_id"), TABLE.c.status == Status.ACKNOWLEDGED.value,
               TABLE.c.lease_owner == worker_id)
        .values(verifying_since=func.coalesce(TABLE.c.verifying_since, now), next_step_at=now,
                **RELEASED),
        [{"v_id": c.id} for c in commands])


def verify(session: Session, worker_id: str, commands: list[Claimed],
           check_every_s: float) -> list[tuple]:
    """Check the claimed verifying commands' telemetry; returns the transitions made as
    (from, to, reason, command), for the worker's log."""
    if not commands:
        return []
    acknowledged = _acknowledged_at(session, [c.id for c in commands])
    now = utcnow()
    results: dict[Status, dict] = {Status.EXECUTED: {}, Status.FAILED: {}}
    values: dict = {}
    later: list[tuple[Claimed, datetime, int]] = []
    for command in commands:
        verifier = verifier_of(command.command_name)
        since = acknowledged.get(command.id, command.verifying_since)
        if verifier is None:  # the catalog dropped it since: the target's word stands
            results[Status.EXECUTED][command.id] = None
            continue
        finding = verifiers.check(session, verifier, source=command.target_id,
                                  args=command.args, acknowledged_at=since, now=now)
        if finding.verified is None:
            due = min(finding.decide_by, now + timedelta(seconds=max(MIN_CHECK_S, check_every_s)))
            later.append((command, due, 0))
            continue
        to_status = Status.EXECUTED if finding.verified else Status.FAILED
        results[to_status][command.id] = finding.reason
        values[command.id] = {"verified_value": finding.value, "verified_at": finding.at}
    reschedule(session, worker_id, later)
    by_id = {c.id: c for c in commands}
    moved = []
    for to_status, reasons in results.items():
        won = lifecycle.transition_many(session, Status.ACKNOWLEDGED, to_status, reasons,
                                        actor=worker_id, values=values, common=RELEASED)
        moved.extend((Status.ACKNOWLEDGED, to_status, reasons[cid], by_id[cid]) for cid in won)
    return moved


def _acknowledged_at(session: Session, ids: list) -> dict:
    """When each command became ACKNOWLEDGED (its history row: the window opens there)."""
    h = TelecommandHistory.__table__.c
    rows = session.execute(select(h.telecommand_id, func.max(h.at))
                           .where(h.telecommand_id.in_(ids),
                                  h.to_status == Status.ACKNOWLEDGED.value)
                           .group_by(h.telecommand_id))
    return {cid: at for cid, at in rows}
