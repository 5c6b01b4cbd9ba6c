"""SQLAlchemy models: the one definition of the shared schema (changed only by migrations)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, Uuid,
)
from sqlalchemy import text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .status import Status
from .timeutil import UTCDateTime, utcnow

# BIGINT ids on PostgreSQL; SQLite only autoincrements an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer, "sqlite")

SPACECRAFT_TARGET_ID = "spacecraft"


class Base(DeclarativeBase):
    pass


class Target(Base):
    """Anything a telecommand can be addressed to.

    ``kind`` selects the command catalog and the uplink (spacecraft, robot, module). Robots
    and modules of the registry are targets too (id: their UUID as a string; ``parent_id``
    links a module to its robot), written by registry-api in the transaction that creates,
    renames or deletes them (registry_api/targets.py). A deleted one keeps its row, for its
    commands' history, with ``removed_at`` set: it takes no new command.
    """

    __tablename__ = "targets"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("targets.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


# The partial indexes of the worker's claims (migration 0007).
UNSCHEDULED = "status = 'READY' AND transmit_at IS NULL"
DUE = "next_step_at IS NOT NULL AND lease_owner IS NULL"
HELD = "lease_owner IS NOT NULL"
RECEIVED = "state = 'RECEIVED'"


class Telecommand(Base):
    __tablename__ = "telecommands"
    __table_args__ = (Index("ix_telecommands_status_created", "status", "created_at"),
                      Index("ix_telecommands_created", "created_at"),
                      Index("ix_telecommands_unscheduled", "created_at",
                            postgresql_where=text(UNSCHEDULED), sqlite_where=text(UNSCHEDULED)),
                      Index("ix_telecommands_next_step", "next_step_at",
                            postgresql_where=text(DUE), sqlite_where=text(DUE)),
                      Index("ix_telecommands_lease", "lease_expires_at",
                            postgresql_where=text(HELD), sqlite_where=text(HELD)))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    target_id: Mapped[str] = mapped_column(ForeignKey("targets.id"), index=True)
    module_id: Mapped[str | None] = mapped_column(String(64), default=None)
    command_name: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(32), default=Status.READY.value)
    status_reason: Mapped[str | None] = mapped_column(Text, default=None)
    operator: Mapped[str] = mapped_column(String(100))
    # The user who confirmed a hazardous command (its sender, on ground); the uplink carries it.
    confirmed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    # The X-Request-ID of the call that created it (docs/observability.md): the worker's log
    # lines and its uplink calls carry it on.
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The worker's schedule (docs/lifecycle.md): the drawn transmit time; when the worker next
    # acts on the command (NULL: final, or READY and not yet scheduled); who is acting on it
    # now and until when (a lease: when it expires unreleased, another worker redoes the
    # step); how many sends or reports of the current step failed.
    transmit_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    next_step_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    lease_owner: Mapped[str | None] = mapped_column(String(100), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Command stacks (stack_models.py, docs/stacks.md): the stack this command is a step of.
    stack_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stacks.id"), default=None)
    # Time tags (issue 12, point 2; docs/lifecycle.md): not transmitted before not_before;
    # FAILED "expired" when still READY at expires_at (ix_telecommands_expiry, below the class).
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Verification from telemetry (migration 0020, verifiers.py): when the target reported
    # EXECUTED and the worker began watching telemetry instead; the value it saw (the
    # satisfying point's, or the last one when the window passed) and that point's time.
    verifying_since: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    verified_value: Mapped[float | None] = mapped_column(Float, default=None)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Fleet-wide commands (batch_models.py): the batch that created it, if one did.
    batch_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("batches.id"), index=True, default=None)
    # Two-person approval (migration 0016, docs/approval.md): who approved it (NULL: nobody
    # had to, or not yet).
    approved_by: Mapped[str | None] = mapped_column(String(100), default=None)

    target: Mapped[Target] = relationship()
    history: Mapped[list[TelecommandHistory]] = relationship(
        order_by="TelecommandHistory.id", viewonly=True)


# Time tags: the worker's expiry sweep and wake-up read READY commands by expires_at.
EXPIRING = "status = 'READY' AND expires_at IS NOT NULL"
Index("ix_telecommands_expiry", Telecommand.expires_at,
      postgresql_where=text(EXPIRING), sqlite_where=text(EXPIRING))


class TelecommandHistory(Base):
    __tablename__ = "telecommand_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    telecommand_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("telecommands.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text, default=None)


class UplinkedCommand(Base):
    """A command as the spacecraft received it; the primary key makes receipt idempotent."""

    __tablename__ = "spacecraft_commands"
    # The executor's claim: due RECEIVED commands, oldest first (migration 0007).
    __table_args__ = (Index("ix_spacecraft_commands_due", "execute_at", "id",
                            postgresql_where=text(RECEIVED), sqlite_where=text(RECEIVED)),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    command_name: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    module_id: Mapped[str | None] = mapped_column(String(64), default=None)
    state: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text, default=None)
    executions: Mapped[int] = mapped_column(Integer, default=0)
    receipts: Mapped[int] = mapped_column(Integer, default=1)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    execute_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class SpacecraftState(Base):
    """The simulated spacecraft's state: a single row (id 1) that executed commands change."""

    __tablename__ = "spacecraft_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    heater_on: Mapped[bool] = mapped_column(Boolean, default=False)
    roll_deg: Mapped[float] = mapped_column(Float, default=0.0)
    pitch_deg: Mapped[float] = mapped_column(Float, default=0.0)
    yaw_deg: Mapped[float] = mapped_column(Float, default=0.0)
    solar_array_deployed: Mapped[bool] = mapped_column(Boolean, default=False)
    images_captured: Mapped[int] = mapped_column(Integer, default=0)
    boot_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Worker(Base):
    """A command-sender process: it beats while it runs and says when it stopped cleanly."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
