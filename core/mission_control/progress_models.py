"""Progress of long-running commands (issue 12 point 7, docs/progress.md): the latest progress
a robot reported for a command it executes, and when each of its phases started.

Both are keyed by the telecommand id as the uplink carries it (``robot_commands.id``, the
telecommand's UUID as text), without a foreign key: robot-server writes them, ground reads
them through the shared database.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Float, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, BigId
from .timeutil import UTCDateTime, utcnow

PHASE_MAX = 64


class CommandProgress(Base):
    """A command's current progress: the last report written (at most about one a second)."""

    __tablename__ = "command_progress"
    __table_args__ = (CheckConstraint("percent IS NULL OR (percent >= 0 AND percent <= 100)",
                                      name="ck_command_progress_percent"),
                      CheckConstraint("done IS NULL OR total IS NULL OR done <= total",
                                      name="ck_command_progress_done"))

    command_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    robot_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    percent: Mapped[float | None] = mapped_column(Float, default=None)
    phase: Mapped[str | None] = mapped_column(String(PHASE_MAX), default=None)
    done: Mapped[int | None] = mapped_column(BigInteger, default=None)
    total: Mapped[int | None] = mapped_column(BigInteger, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CommandPhase(Base):
    """A phase a command entered, with the time the robot reported it first."""

    __tablename__ = "command_phases"
    __table_args__ = (Index("ix_command_phases_command", "command_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    command_id: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str] = mapped_column(String(PHASE_MAX))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
