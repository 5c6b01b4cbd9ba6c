"""Progress of long-running commands as ground shows it (docs/progress.md): a command's latest
progress and its phases, whether it has gone silent, and each robot's current job. robot-server
writes the progress tables; ground only reads them. Nothing here knows HTTP.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mission_control.catalog import max_silence_s
from mission_control.models import Telecommand
from mission_control.progress_models import CommandPhase, CommandProgress
from mission_control.status import Status
from mission_control.timeutil import isoformat, utcnow


@dataclass(frozen=True)
class Snapshot:
    """What a command reported of its progress (``stored`` None: nothing), its phases oldest
    first, and whether it is silent (see ``is_silent``)."""

    stored: CommandProgress | None
    phases: list[Any]
    silent: bool
    max_silence_s: float | None

    def to_json(self) -> dict[str, Any]:
        """``progress``, ``silent`` and ``max_silence_s`` as GET /api/telecommands/{id} adds
        them."""
        progress = None
        if self.stored is not None:
            p = self.stored
            progress = {"percent": p.percent, "phase": p.phase, "done": p.done,
                        "total": p.total, "updated_at": isoformat(p.updated_at),
                        "phases": [{"phase": ph.phase, "started_at": isoformat(ph.started_at)}
                                   for ph in self.phases]}
        return {"progress": progress, "silent": self.silent,
                "max_silence_s": self.max_silence_s}


def snapshot(session: Session, command: Telecommand) -> Snapshot:
    """The command's progress, read from the tables robot-server writes."""
    key = str(command.id)
    stored = session.get(CommandProgress, key)
    phases = session.execute(select(CommandPhase.phase, CommandPhase.started_at)
                             .where(CommandPhase.command_id == key)
                             .order_by(CommandPhase.id)).all() if stored is not None else []
    return Snapshot(stored, list(phases),
                    is_silent(command, stored.updated_at if stored is not None else None),
                    max_silence_s(command.command_name))


def describe(session: Session, command: Telecommand) -> dict[str, Any]:
    """``progress``, ``silent`` and ``max_silence_s`` of one command, for its JSON."""
    return snapshot(session, command).to_json()


def acknowledged_at(command: Telecommand) -> datetime | None:
    """When the command reached ACKNOWLEDGED (its latest such history entry)."""
    times = [h.at for h in command.history if h.to_status == Status.ACKNOWLEDGED.value]
    return max(times) if times else None


def is_silent(command: Telecommand, progress_updated_at: datetime | None,
              now: datetime | None = None) -> bool:
    """Whether an executing (ACKNOWLEDGED) command of a kind that reports progress has sent
    none for longer than its catalog's max_silence_s (counted from the acknowledgement when
    it never reported). Silence is only flagged: nothing fails a command for it."""
    limit = max_silence_s(command.command_name)
    if limit is None or command.status != Status.ACKNOWLEDGED.value:
        return False
    heard = [t for t in (acknowledged_at(command), progress_updated_at) if t is not None]
    if not heard:
        return False
    return (now or utcnow()) - max(heard) > timedelta(seconds=limit)


@dataclass(frozen=True)
class Job:
    """A robot's current job: its newest executing command and how far it got."""

    command_id: uuid.UUID
    command_name: str
    phase: str | None
    percent: float | None

    def to_json(self) -> dict[str, Any]:
        return {"command_id": str(self.command_id), "command_name": self.command_name,
                "phase": self.phase, "percent": self.percent}


def current_jobs(session: Session, robot_ids: list[str]) -> dict[str, Job]:
    """Each robot's newest ACKNOWLEDGED command (to the robot or one of its modules, by
    ``target_id``), with its progress: two queries however many robots there are."""
    if not robot_ids:
        return {}
    rows = session.execute(
        select(Telecommand.id, Telecommand.target_id, Telecommand.command_name)
        .where(Telecommand.status == Status.ACKNOWLEDGED.value,
               Telecommand.target_id.in_(robot_ids))
        .order_by(Telecommand.created_at.desc(), Telecommand.id)).all()
    newest: dict[str, Any] = {}
    for row in rows:
        newest.setdefault(row.target_id, row)
    keys = [str(row.id) for row in newest.values()]
    progress = {p.command_id: p for p in session.execute(
        select(CommandProgress.command_id, CommandProgress.phase, CommandProgress.percent)
        .where(CommandProgress.command_id.in_(keys)))} if keys else {}
    jobs = {}
    for target_id, row in newest.items():
        stored = progress.get(str(row.id))
        jobs[target_id] = Job(row.id, row.command_name, stored.phase if stored else None,
                              stored.percent if stored else None)
    return jobs


def with_jobs(fleet_json: dict[str, Any], jobs: dict[str, Job]) -> dict[str, Any]:
    """GET /api/fleet's answer with each robot's ``job`` (null when it runs none)."""
    for item in fleet_json["items"]:
        job = jobs.get(item["id"])
        item["job"] = job.to_json() if job is not None else None
    return fleet_json
